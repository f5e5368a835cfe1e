import type { SplitClaim } from '../contracts/split-registry.js';
import { FenestraError } from '../errors.js';

/** Claims kept per split (older ones are dropped; only the newest is ever consulted). */
export const KEEP_CLAIMS = 32;

/** Refuses an instance id that is not a safe file name / object-key segment (CONFIG_INVALID at state.instanceId). */
export function validInstanceId(instance: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(instance)) {
    throw new FenestraError('CONFIG_INVALID', `state.instanceId "${instance}" may hold only letters, digits, "_", "." and "-"`, { path: 'state.instanceId' });
  }
}

/** Parses a claim file / object (`{ "claims": [...] }`); CHECKPOINT_CORRUPT naming `where` when unreadable. */
export function parseClaims(text: string, where: string): SplitClaim[] {
  try {
    const parsed = JSON.parse(text) as { claims?: unknown };
    if (!Array.isArray(parsed.claims)) throw new Error('no "claims" array');
    return parsed.claims as SplitClaim[];
  } catch (e) {
    throw new FenestraError('CHECKPOINT_CORRUPT', `split claim file ${where} is unreadable: ${(e as Error).message}`, { path: where });
  }
}

/**
 * The claim list after `instance` claims `epoch`, or null when that is already the newest claim
 * (idempotent). Refuses with SPLIT_HANDOFF_FAILED an epoch not above the newest claim's.
 */
export function nextClaims(list: readonly SplitClaim[], source: string, split: string, epoch: number, instance: string): SplitClaim[] | null {
  const last = list.at(-1);
  if (last && last.epoch === epoch && last.instance === instance) return null;
  if (last && last.epoch >= epoch) {
    throw new FenestraError('SPLIT_HANDOFF_FAILED', `split ${source}/${split}: cannot claim epoch ${epoch}, instance "${last.instance}" already claimed epoch ${last.epoch}`, {
      path: `${source}/${split}`,
    });
  }
  return [...list, { epoch, instance, at: Date.now() }].slice(-KEEP_CLAIMS);
}
