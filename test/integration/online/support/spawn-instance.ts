import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild, exited } from '../../../services/child-registry.js';

const SCRIPT = fileURLToPath(new URL('./serving-instance.ts', import.meta.url));

export interface ServingInstance {
  readonly base: string;
  stop(): Promise<void>;
}

/**
 * Starts serving-instance.ts as a child process reading from the store `store` describes
 * (`{ type: 'redis' | 'dynamodb', ...adapter config }`); resolves with its base URL once it listens.
 */
export async function spawnServingInstance(store: { type: 'redis' | 'dynamodb' } & Record<string, unknown>, stateDir: string): Promise<ServingInstance> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(store), stateDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`serving instance did not start within 60 s:\n${err}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`serving instance exited (${code}) before listening:\n${err}`));
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(t);
    },
  };
}
