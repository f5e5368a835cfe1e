import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../config/load.js';
import { startDaemon, type Daemon } from '../../../daemon/assemble.js';

export const DEFAULT_CONFIG = fileURLToPath(new URL('../../../config/fenestra.yaml', import.meta.url));

/**
 * A temp directory holding a copy of the embedded default config (state under the temp dir),
 * optionally with overrides appended by text replacement.
 */
export async function tempConfig(edit: (yaml: string) => string = (y) => y): Promise<{ dir: string; config: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fenestra-e2e-'));
  const text = edit(await readFile(DEFAULT_CONFIG, 'utf8'));
  const config = join(dir, 'fenestra.yaml');
  await writeFile(config, text);
  return { dir, config };
}

export interface RunningDaemon {
  readonly daemon: Daemon;
  readonly url: string;
  readonly dir: string;
  /** Graceful stop (final checkpoint) and a new daemon on the same config and state directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the daemon in this process on 127.0.0.1 and a free port, over the embedded default config. */
export async function startTestDaemon(edit?: (yaml: string) => string): Promise<RunningDaemon> {
  const { dir, config } = await tempConfig(edit);
  const spec = await loadConfig(config);
  const boot = async (): Promise<Daemon> => {
    const daemon = await startDaemon(spec, { host: '127.0.0.1', port: 0, processMetrics: false });
    await daemon.ready;
    return daemon;
  };
  let daemon = await boot();
  const running: RunningDaemon = {
    get daemon() {
      return daemon;
    },
    get url() {
      return daemon.url;
    },
    dir,
    restart: async () => {
      await daemon.stop();
      daemon = await boot();
    },
    stop: async () => {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return running;
}

export async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (status ${res.status}): ${text.slice(0, 200)}`);
  }
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}
