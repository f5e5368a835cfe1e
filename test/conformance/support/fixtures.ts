import { fileURLToPath } from 'node:url';
import {
  readSourceCheckpointFixtures,
  recordSourceCheckpointFixture,
  writeSourceCheckpointFixture,
  type SourceCheckpointFixture,
  type SourceConformanceContext,
} from '../../../plugins/testkit/index.js';
import { ENGINE_VERSION } from '../../../core/version.js';

/**
 * The built-in sources' checkpoint fixtures: `test/conformance/fixtures/<prefix>-checkpoint-<version>.json`,
 * one per released version, kept forever. Every source test passes all of them (oldest first) and
 * declares `version: ENGINE_VERSION`, so the kit checks that each stored one still decodes and that the
 * running version's own fixture is present and is what this code writes.
 *
 * Recording (at each release, after bumping package.json's version):
 *
 *   FENESTRA_RECORD_FIXTURES=1 npx vitest run test/conformance/*-source.test.ts
 *
 * writes the fixture of the new version for each source that has none yet (a stored fixture is never
 * replaced), using the running code against the real backend; commit the new files with the release.
 */
const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The shape every built-in source's fixture is recorded at: split index → events consumed before the checkpoint. */
export const FIXTURE_SHAPE = {
  /** Several splits: one part-consumed, one fully consumed, one untouched (absent from the checkpoint). */
  multi: { perSplit: 12, consumed: { 0: 5, 1: 12, 2: 0 } },
  /** One split (a push source's log). */
  single: { perSplit: 12, consumed: { 0: 5 } },
} as const;

/** Every stored fixture of `prefix`, oldest version first (read when a case runs, so a just-recorded one is included). */
export function storedFixtures(prefix: string): SourceCheckpointFixture[] {
  return readSourceCheckpointFixtures(FIXTURES_DIR, prefix);
}

/**
 * With FENESTRA_RECORD_FIXTURES=1, records the running version's fixture of `prefix` if none is stored
 * (call it from the context's `setup`, once the backend runs). Otherwise does nothing: a missing fixture
 * then fails the previous-codec case, naming this command.
 */
export async function recordFixtureIfAsked(prefix: string, ctx: SourceConformanceContext, shape: { perSplit: number; consumed: Readonly<Record<string, number>> }): Promise<void> {
  if (process.env['FENESTRA_RECORD_FIXTURES'] !== '1') return;
  if (storedFixtures(prefix).some((f) => f.version === ENGINE_VERSION)) return;
  const fixture = await recordSourceCheckpointFixture(ctx, ENGINE_VERSION, shape.perSplit, shape.consumed);
  const path = writeSourceCheckpointFixture(FIXTURES_DIR, prefix, fixture);
  console.error(`recorded ${path}`);
}

export { ENGINE_VERSION };
