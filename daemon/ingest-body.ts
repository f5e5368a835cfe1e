/** An NDJSON body: one JSON value per non-empty line; a line that does not parse is kept as a malformed marker. */
export class NdjsonBody {
  constructor(readonly events: readonly unknown[]) {}

  static parse(text: string): NdjsonBody {
    const events: unknown[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      try {
        events.push(JSON.parse(line));
      } catch (e) {
        events.push(new NdjsonBadLine(i + 1, (e as Error).message));
      }
    }
    return new NdjsonBody(events);
  }
}

/** A line of an NDJSON body that is not JSON; reported as an EVENT_MALFORMED rejection of its index. */
export class NdjsonBadLine {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {}
}

/** The events of an ingest body: an object is one event, an array is many, NDJSON is one per line. */
export function eventsOf(body: unknown): unknown[] {
  if (body instanceof NdjsonBody) return [...body.events];
  if (Array.isArray(body)) return body;
  return [body];
}
