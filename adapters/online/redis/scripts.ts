/**
 * The Lua scripts the Redis online store runs. Each record is a hash: `v` = version (decimal),
 * `d` = the opaque value bytes, `e` = expiresAt in epoch ms (absent: never expires). Scripts run
 * atomically in Redis, so each key's compare-and-set is all-or-nothing and no reader sees a half-written record.
 */

/**
 * Conditional write of many records. KEYS[i] is record i's key; ARGV[3i-2], ARGV[3i-1], ARGV[3i] are
 * its version, expiresAt ('' = none) and value. A record is written only when the key holds no
 * version or an older one (strictly newer wins), in KEYS order (so a later duplicate in one call is
 * compared against the earlier one). Also sets the key's Redis TTL to expiresAt (PEXPIREAT) or removes
 * it. Returns the number of records applied. On a cluster every key of one call must hash to one
 * slot; the store sends one key per call there.
 */
export const WRITE_SCRIPT = `
local applied = 0
for i = 1, #KEYS do
  local k = KEYS[i]
  local base = 3 * i - 2
  local v = tonumber(ARGV[base])
  local cur = tonumber(redis.call('HGET', k, 'v'))
  if cur == nil or cur < v then
    local e = ARGV[base + 1]
    if e == '' then
      redis.call('HSET', k, 'v', ARGV[base], 'd', ARGV[base + 2])
      redis.call('HDEL', k, 'e')
      redis.call('PERSIST', k)
    else
      redis.call('HSET', k, 'v', ARGV[base], 'd', ARGV[base + 2], 'e', e)
      redis.call('PEXPIREAT', k, e)
    end
    applied = applied + 1
  end
end
return applied
`;

/** Deletes KEYS[1] if it holds a version <= ARGV[1]. Returns 1 when deleted, 0 otherwise. */
export const DELETE_SCRIPT = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'v'))
if cur ~= nil and cur <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;
