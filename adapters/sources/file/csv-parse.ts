const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** One parsed CSV record: fields (null = empty unquoted field) and the index just past it. */
export type CsvParse =
  | { readonly kind: 'record'; readonly fields: (string | null)[]; readonly next: number }
  | { readonly kind: 'error'; readonly reason: string; readonly next: number }
  | { readonly kind: 'incomplete' };

function isEnd(c: number | undefined, delim: number): boolean {
  return c === undefined || c === delim || c === LF || c === CR;
}

/**
 * Parses one RFC 4180 record starting at `buf[0]`: quoted fields with `""` escapes and embedded
 * newlines, LF or CRLF line ends. Delimiters, quotes and newlines are ASCII and never occur inside a
 * UTF-8 multi-byte sequence, so scanning bytes is safe. `incomplete` means more bytes are needed
 * (only when `eof` is false). A malformed record (unterminated quote, text after a closing quote)
 * is reported with the index of the next line so reading can continue.
 */
export function parseCsvRecord(buf: Buffer, delim: number, eof: boolean): CsvParse {
  const len = buf.byteLength;
  const fields: (string | null)[] = [];
  let i = 0;
  for (;;) {
    if (buf[i] === QUOTE) {
      let text = '';
      let s = i + 1;
      for (;;) {
        const j = buf.indexOf(QUOTE, s);
        if (j < 0) {
          if (!eof) return { kind: 'incomplete' };
          return { kind: 'error', reason: 'unterminated quoted field', next: len };
        }
        if (j + 1 >= len && !eof) return { kind: 'incomplete' };
        if (buf[j + 1] === QUOTE) {
          text += buf.toString('utf8', s, j + 1);
          s = j + 2;
          continue;
        }
        text += buf.toString('utf8', s, j);
        i = j + 1;
        break;
      }
      if (!isEnd(buf[i], delim)) {
        const nl = buf.indexOf(LF, i);
        if (nl < 0 && !eof) return { kind: 'incomplete' };
        return { kind: 'error', reason: `unexpected character after a closing quote at byte ${i}`, next: nl < 0 ? len : nl + 1 };
      }
      fields.push(text);
    } else {
      let j = i;
      while (j < len) {
        const c = buf[j]!;
        if (c === delim || c === LF || c === CR) break;
        j++;
      }
      if (j >= len && !eof) return { kind: 'incomplete' };
      fields.push(j === i ? null : buf.toString('utf8', i, j));
      i = j;
    }
    const c = buf[i];
    if (c === delim) {
      i++;
      continue;
    }
    if (c === CR) {
      if (i + 1 >= len && !eof) return { kind: 'incomplete' };
      i += buf[i + 1] === LF ? 2 : 1;
    } else if (c === LF) i++;
    return { kind: 'record', fields, next: i };
  }
}
