import { FenestraError } from '../errors.js';
import type { StateGroup } from './state-group.js';

/** The checkpoint meta entry naming every group's layout hash. */
export function layoutMeta(groups: Iterable<StateGroup>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const g of groups) out[g.name] = g.layoutHash;
  return out;
}

/**
 * Refuses a checkpoint written for another feature layout: a group added, removed or changed
 * (its state bytes would be misread, or a new group would miss the history before the positions).
 */
export function checkLayout(recorded: unknown, groups: ReadonlyMap<string, StateGroup>, where: string): void {
  const rec = (typeof recorded === 'object' && recorded !== null ? recorded : {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const [name, g] of groups) {
    if (!(name in rec)) problems.push(`group "${name}" is not in the checkpoint (added since)`);
    else if (rec[name] !== g.layoutHash) problems.push(`group "${name}" changed its features (layout ${String(rec[name])} → ${g.layoutHash})`);
  }
  for (const name of Object.keys(rec)) {
    if (!groups.has(name)) problems.push(`group "${name}" is in the checkpoint but not in the config (removed since)`);
  }
  if (problems.length > 0) {
    throw new FenestraError(
      'CHECKPOINT_MISMATCH',
      `the checkpoint in ${where} was written for another feature layout: ${problems.join('; ')}. ` +
        'Start with an empty state directory (the sources are replayed from their start) or restore the old config.',
      { path: where, details: problems },
    );
  }
}
