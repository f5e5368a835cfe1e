import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild } from '../../services/child-registry.js';

const CLI = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));

export interface DaemonChild {
  readonly child: ChildProcess;
  /** The pino JSON log lines printed up to `fenestra ready`. */
  readonly startupLog: ReadonlyArray<Record<string, unknown>>;
}

/** Runs `fenestra start -c config --port port` in a child process; resolves once it logs `fenestra ready`. */
export function startDaemonChild(config: string, port: number): Promise<DaemonChild> {
  const c = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '-c', config, '--port', String(port), '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(c);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('"msg":"fenestra ready"')) {
        c.stdout!.off('data', onData);
        c.stdout!.resume();
        const startupLog = out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        resolve({ child: c, startupLog });
      }
    };
    c.stdout!.on('data', onData);
    c.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    c.once('exit', (code, sig) => reject(new Error(`daemon exited before ready (code ${code}, signal ${sig}):\n${err}\n${out.slice(-2000)}`)));
  });
}
