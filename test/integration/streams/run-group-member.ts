/**
 * One member of a scaled-out deployment: the real engine over a config whose `state.shared` names a
 * directory or an `s3://` prefix shared with its peers (so Kafka partitions move between members with
 * their state; the registry and this member's checkpoint store are picked as the daemon picks them,
 * adapters/shared-state `openSplitRegistry`), with the config's external online store. Runs until
 * SIGTERM, then stops gracefully (final checkpoint, final flush, the registry closed) and prints
 * `STOPPED <json>` with what the split protocol did, then exits 0.
 * The child process of the scale-out test; the test also SIGKILLs members.
 *
 *   node --import tsx test/integration/streams/run-group-member.ts CONFIG
 *
 * Prints `READY` once recovery finished and the first partition assignment was taken over.
 */
import { loadConfig } from '../../../config/load.js';
import { resolvePlugins } from '../../../config/plugins.js';
import { openSplitRegistry } from '../../../adapters/shared-state/index.js';
import type { OnlineStore } from '../../../core/contracts/online-store.js';
import type { Source } from '../../../core/contracts/source.js';
import { Engine } from '../../../core/runtime/engine.js';
import { silentLogger } from '../../../core/runtime/logger.js';
import { ENGINE_VERSION } from '../../../core/version.js';

const [configPath] = process.argv.slice(2);
if (!configPath) {
  process.stderr.write('usage: run-group-member.ts CONFIG\n');
  process.exit(2);
}
const spec = await loadConfig(configPath);
if (!spec.state.shared) throw new Error(`${configPath}: state.shared is required for a group member`);
const { plugins, issues } = await resolvePlugins(spec);
const blocking = issues.filter((i) => i.path.startsWith('sources.') || i.path.startsWith('online'));
if (blocking.length > 0) throw new Error(`plugin problems: ${JSON.stringify(blocking)}`);
const sources = new Map<string, Source>();
for (const [name, plugin] of plugins.sources) {
  const s = spec.sources.get(name)!;
  sources.set(name, await plugin.create(s.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, source: s }));
}
if (!plugins.online) throw new Error('a group member needs an external online store (the shared read path)');
const onlineStore: OnlineStore = await plugins.online.create(spec.online.options, { logger: silentLogger, baseDir: spec.baseDir, engineVersion: ENGINE_VERSION, groups: [...spec.groups.keys()] });
const registry = openSplitRegistry(spec.state)!;
const engine = new Engine(spec, {
  sources,
  checkpointStore: registry.openCheckpointStore(),
  onlineStore,
  splitRegistry: registry,
});
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  engine
    .stop()
    .then(() => registry.close?.())
    .then(() => {
      process.stdout.write(`STOPPED ${JSON.stringify({ instance: spec.state.instanceId, splits: engine.stats().splits, eventsIn: engine.stats().eventsIn })}\n`);
      process.exit(0);
    })
    .catch((e: unknown) => {
      process.stderr.write(`stop failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    });
});
await engine.start();
process.stdout.write('READY\n');
