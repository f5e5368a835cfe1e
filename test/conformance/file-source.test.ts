import { afterAll } from 'vitest';
import { describeSourceConformance } from '../../plugins/testkit/index.js';
import { fileSourceContext } from './support/file-source-context.js';
import { ENGINE_VERSION, FIXTURE_SHAPE, recordFixtureIfAsked, storedFixtures } from './support/fixtures.js';

// The built-in `file` source passes the source kit. Its fixtures are the checkpoints each released
// version's file source wrote (NDJSON byte offsets) after consuming 5, 12 and 0 events of the kit's
// standard data set (test/conformance/fixtures/file-source-checkpoint-<version>.json); every later
// version must still resume from each of them, and the running version's must be what it writes.
const ctx = fileSourceContext(() => storedFixtures('file-source'), ENGINE_VERSION);
ctx.setup = () => recordFixtureIfAsked('file-source', ctx, FIXTURE_SHAPE.multi);
afterAll(() => ctx.cleanup());

describeSourceConformance('file (built-in, NDJSON)', ctx);
