import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild } from '../../services/child-registry.js';
import { freePort } from '../../services/free-port.js';

const CLI = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));

export interface DaemonChild {
  readonly child: ChildProcess;
  /** The pino JSON log lines printed up to `fenestra ready`. */
  readonly startupLog: ReadonlyArray<Record<string, unknown>>;
}

/** A child that exited before ready because its port was taken (EADDRINUSE). */
class PortTaken extends Error {}

/**
 * Runs `fenestra start -c config --port port` in a child process; resolves once it logs `fenestra ready`.
 * The port was free when chosen (or when the previous daemon on it was killed), but on a busy machine
 * another process may hold it for a moment (a port-0 listener, an outgoing connection's local port):
 * a child that exits on EADDRINUSE is started again on the same port, for up to 30 s.
 */
export async function startDaemonChild(config: string, port: number): Promise<DaemonChild> {
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      return await startOnce(config, port);
    } catch (e) {
      if (!(e instanceof PortTaken) || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** startDaemonChild on a port chosen now, choosing another while the chosen one turns out taken. */
export async function startDaemonChildOnFreePort(config: string): Promise<DaemonChild & { readonly port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { ...(await startOnce(config, port)), port };
    } catch (e) {
      if (!(e instanceof PortTaken) || attempt >= 5) throw e;
    }
  }
}

function startOnce(config: string, port: number): Promise<DaemonChild> {
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
    c.once('exit', (code, sig) => {
      const msg = `daemon exited before ready (code ${code}, signal ${sig}):\n${err}\n${out.slice(-2000)}`;
      reject(/EADDRINUSE/.test(err + out) ? new PortTaken(msg) : new Error(msg));
    });
  });
}
