import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeDecoder, MalformedRecord } from '../../../core/event/decode.js';
import { parseEventTime } from '../../../core/event/time.js';
import type { SourceSpec } from '../../../core/model.js';

const source: SourceSpec = {
  name: 'tx',
  type: 'file',
  entity: 'card',
  keyField: 'cc_num',
  eventTimeField: 'trans_time',
  allowedLateness: 0,
  exactlyOnce: true,
  options: {},
  fields: [
    { name: 'cc_num', type: 'string', optional: false },
    { name: 'amount', type: 'double', optional: false },
    { name: 'trans_time', type: 'timestamp', optional: false },
    { name: 'merchant', type: 'string', optional: true },
    { name: 'n', type: 'int', optional: true },
    { name: 'flag', type: 'boolean', optional: true },
  ],
};
const decode = makeDecoder(source);

describe('makeDecoder', () => {
  it('decodes a valid object, converting types and dropping unknown fields', () => {
    const r = decode({ cc_num: 'c1', amount: '12.5', trans_time: '2020-06-21T12:14:25.5Z', n: '7', flag: 'true', extra: 1 });
    expect(r).toEqual({
      ok: true,
      key: 'c1',
      ts: Date.UTC(2020, 5, 21, 12, 14, 25, 500),
      event: { cc_num: 'c1', amount: 12.5, trans_time: Date.UTC(2020, 5, 21, 12, 14, 25, 500), n: 7, flag: true },
    });
  });

  it('decodes JSON text and bytes', () => {
    const text = '{"cc_num":"c2","amount":3,"trans_time":1000}';
    expect(decode(text)).toMatchObject({ ok: true, key: 'c2', ts: 1000 });
    expect(decode(new TextEncoder().encode(text))).toMatchObject({ ok: true, key: 'c2', ts: 1000 });
  });

  it.each([
    ['{not json', 'EVENT_MALFORMED', undefined],
    [[1, 2], 'EVENT_MALFORMED', undefined],
    [42, 'EVENT_MALFORMED', undefined],
    [new MalformedRecord('line 3: unterminated quote', 'a,"b'), 'EVENT_MALFORMED', undefined],
    [{ amount: 1, trans_time: 1 }, 'EVENT_FIELD_MISSING', 'cc_num'],
    [{ cc_num: 'c', amount: null, trans_time: 1 }, 'EVENT_FIELD_MISSING', 'amount'],
    [{ cc_num: 'c', amount: 'abc', trans_time: 1 }, 'EVENT_FIELD_TYPE', 'amount'],
    [{ cc_num: 'c', amount: Number.NaN, trans_time: 1 }, 'EVENT_FIELD_TYPE', 'amount'],
    [{ cc_num: 7, amount: 1, trans_time: 1 }, 'EVENT_FIELD_TYPE', 'cc_num'],
    [{ cc_num: 'c', amount: 1, trans_time: 1, n: 1.5 }, 'EVENT_FIELD_TYPE', 'n'],
    [{ cc_num: 'c', amount: 1, trans_time: 1, flag: 'yes' }, 'EVENT_FIELD_TYPE', 'flag'],
    [{ cc_num: 'c', amount: 1, trans_time: 'yesterday' }, 'EVENT_TIME_INVALID', 'trans_time'],
    [{ cc_num: 'c', amount: 1, trans_time: '2020-02-30T00:00:00Z' }, 'EVENT_TIME_INVALID', 'trans_time'],
    [{ cc_num: 'c', amount: 1 }, 'EVENT_FIELD_MISSING', 'trans_time'],
  ])('rejects %j with %s', (input, code, field) => {
    const r = decode(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe(code);
    expect(r.field).toBe(field);
    expect(r.reason.length).toBeGreaterThan(5);
  });

  it('reads ISO-8601 without an offset as UTC and applies offsets', () => {
    expect(parseEventTime('2020-06-21 12:00:00')).toBe(Date.UTC(2020, 5, 21, 12));
    expect(parseEventTime('2020-06-21T12:00:00+02:00')).toBe(Date.UTC(2020, 5, 21, 10));
    expect(parseEventTime('2020-06-21T12:00:00-0130')).toBe(Date.UTC(2020, 5, 21, 13, 30));
    expect(parseEventTime('2020-06-21')).toBe(Date.UTC(2020, 5, 21));
    expect(parseEventTime(new Date(5))).toBe(5);
    expect(parseEventTime(12n)).toBe(12);
  });

  it('agrees with Date.toISOString for any instant (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(parseEventTime(new Date(ms).toISOString())).toBe(ms);
        expect(parseEventTime(String(ms))).toBe(ms);
      }),
    );
  });

  it('decodes a record given as JSON values, JSON text, or CSV-style text to the same typed event (property)', () => {
    const record = fc.record(
      {
        cc_num: fc.string({ minLength: 1 }),
        amount: fc.double({ noNaN: true, noDefaultInfinity: true }),
        trans_time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        merchant: fc.string(),
        n: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        flag: fc.boolean(),
      },
      { requiredKeys: ['cc_num', 'amount', 'trans_time'] },
    );
    fc.assert(
      fc.property(record, (rec) => {
        const direct = decode(rec);
        expect(direct.ok).toBe(true);
        if (!direct.ok) return;
        // The oracle: the schema's fields, typed, absent optional ones left out.
        const expected: Record<string, unknown> = { cc_num: rec.cc_num, amount: rec.amount, trans_time: rec.trans_time };
        for (const k of ['merchant', 'n', 'flag'] as const) if (rec[k] !== undefined) expected[k] = rec[k];
        expect(direct).toEqual({ ok: true, key: rec.cc_num, ts: rec.trans_time, event: expected });
        expect(decode(JSON.stringify(rec))).toEqual(decode(JSON.parse(JSON.stringify(rec)) as unknown));
        const asText: Record<string, string> = {};
        for (const [k, v] of Object.entries(rec)) asText[k] = k === 'trans_time' ? new Date(v as number).toISOString() : String(v);
        const fromText = decode(asText);
        expect(fromText).toEqual({ ...direct, event: { ...direct.event, amount: Number(String(rec.amount)) } });
      }),
      { numRuns: 300 },
    );
  });
});
