import type { Logger } from '../contracts/logger.js';
import type { SourceRecord } from '../contracts/source.js';
import type { KeyUpdate } from './api.js';
import type { DeadLetterSink } from './dead-letters.js';
import type { OfflineHook } from './offline-hook.js';
import type { OnlineFlusher } from './online-flusher.js';
import type { SourceRuntime } from './source-loop.js';
import type { RuntimeStats } from './stats.js';

/**
 * Applies one polled batch synchronously: decode each record, apply it to every aggregated group of
 * its source, dead-letter what is rejected (decoder codes, EVENT_LATE), advance the split position,
 * mark changed keys for the online flush, feed the offline hook, then notify update listeners.
 * Nothing here awaits, so no checkpoint cut can fall inside a batch.
 */
export class BatchApplier {
  constructor(
    private readonly stats: RuntimeStats,
    private readonly deadLetters: DeadLetterSink,
    private readonly offline: OfflineHook | undefined,
    private readonly flusher: OnlineFlusher | null,
    private readonly listeners: ReadonlySet<(u: KeyUpdate) => void>,
    private readonly logger: Logger,
  ) {}

  apply(rt: SourceRuntime, records: readonly SourceRecord[]): void {
    const st = this.stats;
    const src = st.sources[rt.name]!;
    const groups = rt.groups;
    const offline = this.offline;
    const flusher = this.flusher;
    const updates: KeyUpdate[] | null = this.listeners.size > 0 ? [] : null;
    const ledger = rt.ledger;
    for (let i = 0; i < records.length; i++) {
      const rec = records[i]!;
      st.eventsIn++;
      src.eventsIn++;
      const d = rt.decode(rec.value);
      if (!d.ok) {
        this.deadLetter(rt, rec, d.code, d.reason, d.field);
      } else {
        ledger?.note(d.key, rec.split);
        let applied = false;
        let late: string | null = null;
        for (let g = 0; g < groups.length; g++) {
          const group = groups[g]!;
          const o = group.apply(d.key, d.ts, d.event);
          if (o.ok) {
            applied = true;
            flusher?.mark(group.name, d.key, o.version);
            updates?.push({ group: group.name, key: d.key, version: o.version });
            offline?.onApplied(group.name, d.key, d.ts, d.event, o.version);
          } else late = o.reason;
        }
        if (late !== null && !applied) {
          this.deadLetter(rt, rec, 'EVENT_LATE', late, rt.spec.eventTimeField);
        } else {
          // Applied, or a source that feeds no aggregated group: accepted.
          st.eventsApplied++;
          src.applied++;
        }
      }
      rt.positions[rec.split] = rec.position;
    }
    if (updates && updates.length > 0) this.notify(updates);
  }

  private deadLetter(rt: SourceRuntime, rec: SourceRecord, code: string, reason: string, field?: string): void {
    const st = this.stats;
    st.deadLettered[code] = (st.deadLettered[code] ?? 0) + 1;
    st.sources[rt.name]!.deadLettered++;
    this.deadLetters.append({ source: rt.name, origin: rec.origin ?? `${rec.split} @ ${String(rec.position)}`, code, field, reason, event: rec.value });
  }

  private notify(updates: readonly KeyUpdate[]): void {
    for (const l of this.listeners) {
      for (const u of updates) {
        try {
          l(u);
        } catch (e) {
          this.logger.warn({ err: e }, 'update listener threw');
        }
      }
    }
  }
}
