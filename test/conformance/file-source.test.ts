import { readFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { describeSourceConformance, type SourceCheckpointFixture } from '../../plugins/testkit/index.js';
import { fileSourceContext } from './support/file-source-context.js';

// The built-in `file` source passes the source kit. The fixture is the checkpoint Fenestra 0.1.0's
// file source wrote (NDJSON byte offsets) after consuming 5, 12 and 0 events of the kit's standard
// data set; every later version must still resume from it.
const fixture = JSON.parse(readFileSync(new URL('./fixtures/file-source-checkpoint-0.1.0.json', import.meta.url), 'utf8')) as SourceCheckpointFixture;
const ctx = fileSourceContext([fixture]);
afterAll(() => ctx.cleanup());

describeSourceConformance('file (built-in, NDJSON)', ctx);
