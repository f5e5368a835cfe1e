/**
 * The server side of bench/serving.ts, in its own process: the daemon (`startDaemon`) on a copy of
 * config/fenestra.yaml with its state in a temp dir, and beside it a no-op fastify app (same fastify
 * version and defaults) as the baseline route. Prints one JSON line `{daemon, noop}` with both URLs,
 * then runs until SIGTERM.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { loadConfig } from '../config/load.js';
import { startDaemon } from '../daemon/assemble.js';

const dir = mkdtempSync(join(tmpdir(), 'fenestra-bench-serving-'));
const config = join(dir, 'fenestra.yaml');
writeFileSync(config, readFileSync(fileURLToPath(new URL('../config/fenestra.yaml', import.meta.url)), 'utf8'));
const spec = await loadConfig(config);
const daemon = await startDaemon(spec, { host: '127.0.0.1', port: 0 });
await daemon.ready;
const noop = Fastify({ logger: false });
noop.get('/noop', async () => ({ ok: true }));
const noopUrl = await noop.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ daemon: daemon.url, noop: noopUrl })}\n`);

const stop = async (): Promise<void> => {
  await noop.close();
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
