import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StoredGroupState, parseRecord, type StoredWrite } from '../../../core/stored/index.js';
import type { StoredGroupSpec } from '../../../core/model.js';

const spec: StoredGroupSpec = {
  kind: 'stored',
  name: 'cc_batch',
  entity: 'card',
  eventTimeField: 'event_time',
  ttl: 0,
  fields: [
    { name: 'event_time', type: 'timestamp', optional: false },
    { name: 'avg_amt_last_1w', type: 'double', optional: true },
    { name: 'num_trans_last_1w', type: 'int', optional: true },
  ],
  derived: [],
};

const writeArb: fc.Arbitrary<StoredWrite> = fc.oneof(
  fc.record({
    op: fc.constant('put' as const),
    key: fc.constantFrom('a', 'b', 'c'),
    eventTime: fc.integer({ min: 0, max: 20 }),
    strings: fc.record({ avg_amt_last_1w: fc.integer({ min: 0, max: 999 }).map(String) }),
    expiresAt: fc.constantFrom(0, 15, 30),
  }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c'), eventTime: fc.integer({ min: 0, max: 20 }) }),
);

/** Brute force: per key, the write with the greatest event time, the later one among equals. */
function oracle(writes: readonly StoredWrite[], key: string, asOf: number): string | null {
  let best: StoredWrite | null = null;
  for (const w of writes) if (w.key === key && (best === null || w.eventTime >= best.eventTime)) best = w;
  if (best === null || best.op === 'delete') return null;
  if (best.expiresAt !== 0 && best.expiresAt <= asOf) return null;
  if (best.eventTime > asOf) return null;
  return best.strings['avg_amt_last_1w'] ?? null;
}

describe('StoredGroupState', () => {
  it('is last-writer-wins by event time (later write among equals), deletes leave tombstones, expiry hides records', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 40 }), fc.integer({ min: 0, max: 40 }), (writes, asOf) => {
        const s = new StoredGroupState(spec);
        for (const w of writes) s.apply(w);
        for (const k of ['a', 'b', 'c']) {
          const r = s.readRecord(k, asOf);
          expect(r.found ? r.strings!['avg_amt_last_1w'] : null).toBe(oracle(writes, k, asOf));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('replaying the whole log over a checkpoint taken at any point converges to the same state', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 40 }), fc.nat(), (writes, cutSeed) => {
        const cut = writes.length === 0 ? 0 : cutSeed % (writes.length + 1);
        const live = new StoredGroupState(spec);
        for (const w of writes.slice(0, cut)) live.apply(w);
        const restored = new StoredGroupState(spec);
        for (const k of live.drainDirty()) {
          const bytes = live.encode(k);
          if (bytes !== null) restored.restore(k, bytes);
        }
        for (const w of writes) restored.apply(w); // replay from the log's start
        const straight = new StoredGroupState(spec);
        for (const w of writes) straight.apply(w);
        for (const k of ['a', 'b', 'c']) expect(restored.readRecord(k, 100)).toEqual(straight.readRecord(k, 100));
      }),
      { numRuns: 300 },
    );
  });

  it('parses SageMaker records: identifier and event time required, unknown features and bad values refused with the feature', () => {
    const rec = (extra: Array<{ FeatureName: string; ValueAsString: string }>) => [{ FeatureName: 'cc_num', ValueAsString: '42' }, { FeatureName: 'event_time', ValueAsString: '2026-01-01T00:00:00Z' }, ...extra];
    const ok = parseRecord(spec, 'cc_num', rec([{ FeatureName: 'num_trans_last_1w', ValueAsString: '3' }]));
    expect(ok).toMatchObject({ ok: true, key: '42', eventTime: Date.parse('2026-01-01T00:00:00Z') });
    expect(parseRecord(spec, 'cc_num', rec([{ FeatureName: 'x', ValueAsString: '1' }]))).toMatchObject({ ok: false, code: 'UNKNOWN_FEATURE', field: 'x' });
    expect(parseRecord(spec, 'cc_num', rec([{ FeatureName: 'num_trans_last_1w', ValueAsString: '1.5' }]))).toMatchObject({ ok: false, code: 'EVENT_FIELD_TYPE', field: 'num_trans_last_1w' });
    expect(parseRecord(spec, 'cc_num', [{ FeatureName: 'event_time', ValueAsString: '1700000000.5' }])).toMatchObject({ ok: false, code: 'EVENT_FIELD_MISSING', field: 'cc_num' });
    expect(parseRecord(spec, 'cc_num', [{ FeatureName: 'cc_num', ValueAsString: '1' }])).toMatchObject({ ok: false, code: 'EVENT_FIELD_MISSING', field: 'event_time' });
    const secs = parseRecord(spec, 'cc_num', [{ FeatureName: 'cc_num', ValueAsString: '1' }, { FeatureName: 'event_time', ValueAsString: '1700000000.5' }]);
    expect(secs).toMatchObject({ ok: true, eventTime: 1_700_000_000_500 });
    expect(parseRecord(spec, 'cc_num', 'nope')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
  });
});
