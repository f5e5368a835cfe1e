/**
 * Child process of the offline exactly-once crash test: runs the real engine over the config's
 * `file` source with the parquet offline store wired in (raw + feature rows), checkpointing often.
 * Prints `READY` once recovered, `CHECKPOINT <id>` after durable checkpoints, `DONE` when drained
 * and stopped. The parent SIGKILLs it at random moments and restarts it on the same state.
 *
 *   node --import tsx test/integration/offline/offline-engine-child.ts CONFIG
 */
import { join } from 'node:path';
import { loadConfig } from '../../../config/load.js';
import { FileCheckpointStore } from '../../../core/checkpoint/index.js';
import type { Source } from '../../../core/contracts/source.js';
import { wireOfflineHistory } from '../../../core/offline/wire.js';
import { Engine } from '../../../core/runtime/engine.js';
import { silentLogger } from '../../../core/runtime/logger.js';
import { ENGINE_VERSION } from '../../../core/version.js';
import fileSource from '../../../adapters/sources/file/index.js';
import { createParquetStore } from '../../../adapters/offline/parquet/index.js';

const spec = await loadConfig(process.argv[2]!);
const sources = new Map<string, Source>();
for (const [name, s] of spec.sources) {
  sources.set(name, await fileSource.create(s.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, source: s }));
}
const store = createParquetStore(spec.offline.options, spec.baseDir, silentLogger);
const { offline, createGroup } = wireOfflineHistory(spec, store);
const engine = new Engine(spec, {
  sources,
  checkpointStore: new FileCheckpointStore({ dir: join(spec.state.dir, 'checkpoints') }),
  offline,
  createGroup,
  batchSize: Number(process.env['FENESTRA_TEST_BATCH'] ?? 100),
  pollWaitMs: 0,
});
await engine.start();
process.stdout.write('READY\n');
let reported = engine.stats().checkpoints.lastId;
const watcher = setInterval(() => {
  const id = engine.stats().checkpoints.lastId;
  if (id !== reported) {
    reported = id;
    process.stdout.write(`CHECKPOINT ${id}\n`);
  }
}, 5);
await engine.drained();
await engine.stop();
clearInterval(watcher);
process.stdout.write('DONE\n');
