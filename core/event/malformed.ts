/**
 * What a source delivers for input it could not parse (a broken CSV row, an undecodable
 * message): the engine dead-letters it with `EVENT_MALFORMED` and this reason, never drops it.
 */
export class MalformedRecord {
  constructor(
    /** Why the input could not be parsed (`line 12: unterminated quote`). */
    readonly reason: string,
    /** The raw input as text, kept in the dead letter. */
    readonly raw: string,
  ) {}

  toJSON(): string {
    return this.raw;
  }
}
