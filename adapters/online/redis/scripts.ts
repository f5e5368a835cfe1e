/**
 * The Lua scripts the Redis online store runs. Each record is one string value, packed (see
 * record-format.ts): `<version>:<expiresAt or empty>:<value bytes>`. The scripts read only the header
 * (GETRANGE of the first bytes), so comparing versions costs the same whatever the value's size.
 * Scripts run atomically in Redis: each key's compare-and-set is all-or-nothing and no reader sees a
 * half-written record.
 */

/** Bytes of a record's header the scripts read: enough for any version and expiry in decimal. */
export const HEADER_PEEK = 48;

/**
 * Conditional write of many records. KEYS[i] is record i's key; ARGV[3i-2], ARGV[3i-1], ARGV[3i] are
 * its version, expiresAt ('' = none) and packed record. A record is written only when the key holds
 * no record or one with an older version (strictly newer wins), in KEYS order (so a later duplicate in
 * one call is compared against the earlier one). The key's Redis TTL is set to expiresAt (SET ... PXAT)
 * or cleared (plain SET). Returns the number of records applied. On a cluster every key of one call
 * must hash to one slot; the store sends one key per call there.
 */
export const WRITE_SCRIPT = `
local applied = 0
for i = 1, #KEYS do
  local k = KEYS[i]
  local base = 3 * i - 2
  local head = redis.call('GETRANGE', k, 0, ${HEADER_PEEK - 1})
  local cur = nil
  if head ~= '' then
    local colon = string.find(head, ':', 1, true)
    if colon then cur = tonumber(string.sub(head, 1, colon - 1)) end
  end
  if cur == nil or cur < tonumber(ARGV[base]) then
    local e = ARGV[base + 1]
    if e == '' then
      redis.call('SET', k, ARGV[base + 2])
    else
      redis.call('SET', k, ARGV[base + 2], 'PXAT', e)
    end
    applied = applied + 1
  end
end
return applied
`;

/** Deletes KEYS[1] if it holds a version <= ARGV[1]. Returns 1 when deleted, 0 otherwise. */
export const DELETE_SCRIPT = `
local head = redis.call('GETRANGE', KEYS[1], 0, ${HEADER_PEEK - 1})
if head == '' then return 0 end
local colon = string.find(head, ':', 1, true)
if colon == nil then return 0 end
local cur = tonumber(string.sub(head, 1, colon - 1))
if cur ~= nil and cur <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;
