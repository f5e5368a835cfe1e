/**
 * The read-side expiry rule both external online stores apply, whatever their backend's own TTL
 * does (Redis deletes lazily or on its expiry cycle; DynamoDB deletes within ~48 h; DynamoDB Local never):
 * a record whose `expiresAt` is set and earlier than `now` reads as missing ("epoch ms after which
 * the record reads as missing", as the OnlineRecord contract says).
 */
export function isExpired(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && now > expiresAt;
}
