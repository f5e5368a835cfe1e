/**
 * Runs the real engine over a config's streaming sources (Kafka, Kinesis) until every split's durable
 * (checkpointed) position has reached its target, stops (final checkpoint), and writes every entity's
 * features as of a fixed instant as JSON. The child process of the streams crash tests: it gets
 * SIGKILLed at random moments and restarted from its state directory.
 *
 *   node --import tsx test/integration/streams/run-stream-engine.ts CONFIG OUT.json AS_OF_MS TARGETS.json
 *
 * TARGETS.json: { "<source>": { "<split>": <position>, ... } } — for sources whose positions are not
 * totally ordered numbers (Kinesis sequence numbers are), a split is done when its position equals
 * or exceeds the target as a big integer; splits absent from the target are not waited for.
 * Prints `READY` once recovery finished and the sources are open, `DONE` at the end.
 * FENESTRA_TEST_FAULT_P makes the process SIGKILL itself with that probability at each fault point
 * inside checkpoint commits.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../../config/load.js';
import { resolvePlugins } from '../../../config/plugins.js';
import { FileCheckpointStore } from '../../../core/checkpoint/index.js';
import type { Position } from '../../../core/contracts/position.js';
import type { Source } from '../../../core/contracts/source.js';
import type { OnlineStore } from '../../../core/contracts/online-store.js';
import { Engine } from '../../../core/runtime/engine.js';
import { OnlineFeatureReader } from '../../../core/runtime/online-reader.js';
import { silentLogger } from '../../../core/runtime/logger.js';
import { ENGINE_VERSION } from '../../../core/version.js';

const [configPath, outPath, asOfText, targetsPath] = process.argv.slice(2);
if (!configPath || !outPath || !asOfText || !targetsPath) {
  process.stderr.write('usage: run-stream-engine.ts CONFIG OUT.json AS_OF_MS TARGETS.json\n');
  process.exit(2);
}
const asOf = Number(asOfText);
const faultP = Number(process.env['FENESTRA_TEST_FAULT_P'] ?? '0');
const targets = JSON.parse(await readFile(targetsPath, 'utf8')) as Record<string, Record<string, Position>>;

const spec = await loadConfig(configPath);
const { plugins, issues } = await resolvePlugins(spec);
const sourceIssues = issues.filter((i) => i.path.startsWith('sources.'));
if (sourceIssues.length > 0) throw new Error(`source plugin problems: ${JSON.stringify(sourceIssues)}`);
const sources = new Map<string, Source>();
for (const [name, plugin] of plugins.sources) {
  const s = spec.sources.get(name)!;
  sources.set(name, await plugin.create(s.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, source: s }));
}
// An external online store (redis, ...) when the config names one: dirty entities are flushed every
// state.flushInterval, so kills land between online writes and the checkpoint that covers them.
const makeOnline = async (): Promise<OnlineStore | undefined> =>
  plugins.online && spec.online.type !== 'embedded'
    ? plugins.online.create(spec.online.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, groups: [...spec.groups.keys()] })
    : undefined;
const onlineStore = await makeOnline();
const checkpointStore = new FileCheckpointStore({
  dir: join(spec.state.dir, 'checkpoints'),
  faultHook:
    faultP > 0
      ? (point) => {
          if (Math.random() < faultP) {
            process.stderr.write(`fault: SIGKILL at ${point}\n`);
            process.kill(process.pid, 'SIGKILL');
          }
        }
      : undefined,
});
const engine = new Engine(spec, { sources, checkpointStore, ...(onlineStore ? { onlineStore } : {}), batchSize: Number(process.env['FENESTRA_TEST_BATCH'] ?? 2000) });
await engine.start();
process.stdout.write('READY\n');

const reached = (have: Position | undefined, want: Position): boolean => {
  if (have === undefined) return false;
  try {
    return BigInt(have) >= BigInt(want);
  } catch {
    return have === want;
  }
};
const done = (): boolean =>
  Object.entries(targets).every(([source, splits]) => Object.entries(splits).every(([split, want]) => reached(engine.durablePosition(source, split), want)));
while (!done()) await new Promise((r) => setTimeout(r, 100));
await engine.stop();

const features: Record<string, Record<string, unknown>> = {};
for (const [name, g] of spec.groups) {
  if (g.kind !== 'aggregated') continue;
  const keys = [...engine.entityKeys(name)].sort();
  const reads = await engine.readMany(name, keys, { asOf });
  features[name] = Object.fromEntries(reads.map((r) => [r.key, { version: r.version, values: r.values }]));
}
// What a stateless reader serves from the online store after the run (same shape as `features`).
let online: Record<string, Record<string, unknown>> | undefined;
const store = await makeOnline();
if (store) {
  await store.open();
  const reader = new OnlineFeatureReader(spec, store);
  online = {};
  for (const [name, keys] of Object.entries(features)) {
    const reads = await reader.readMany(name, Object.keys(keys), { asOf });
    online[name] = Object.fromEntries(reads.map((r) => [r.key, { version: r.version, values: r.values }]));
  }
  await store.close();
}
const stats = engine.stats();
const tmp = `${outPath}.tmp`;
await writeFile(tmp, JSON.stringify({ features, online, eventsIn: stats.eventsIn, deadLettered: stats.deadLettered, checkpoints: stats.checkpoints.count }));
await rename(tmp, outPath);
process.stdout.write('DONE\n');
process.exit(0);
