import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { startDaemon } from '../../daemon/assemble.js';
import { createPino } from '../../daemon/logger.js';

export interface StartFlags {
  readonly config: string;
  readonly host?: string;
  readonly port?: string;
  readonly logLevel?: string;
}

/**
 * Runs the daemon until SIGTERM/SIGINT, then shuts down gracefully: the server stops accepting
 * requests, the sources stop, a final checkpoint is written and the stores are closed.
 * Logs are pino JSON lines on stdout; the `fenestra ready` line carries the listening `url`.
 */
export async function runStart(flags: StartFlags): Promise<void> {
  const logger = createPino(flags.logLevel);
  const spec = await loadConfig(flags.config);
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new Error(`--port ${flags.port}: not a port number`);
  const daemon = await startDaemon(spec, {
    logger,
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(port === undefined ? {} : { port }),
  });
  logger.info({ url: daemon.url, config: flags.config, stateDir: spec.state.dir }, 'fenestra listening (recovering)');
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'fenestra stopping: final checkpoint');
    const t0 = Date.now();
    daemon.stop().then(
      () => {
        logger.info({ ms: Date.now() - t0 }, 'fenestra stopped');
        logger.flush();
        process.exit(0);
      },
      (e: unknown) => {
        logger.error({ err: e }, 'fenestra stop failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await daemon.ready;
  } catch (e) {
    logger.error({ err: e }, 'fenestra failed to recover');
    await daemon.app.close().catch(() => undefined);
    throw e;
  }
  logger.info({ url: daemon.url }, 'fenestra ready');
}

/** `fenestra start -c FILE`: the daemon (HTTP + WebSocket + SageMaker API) on a config. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the daemon: sources, engine, checkpoints, and the HTTP/WebSocket/SageMaker API; SIGTERM/SIGINT stop it with a final checkpoint')
    .requiredOption('-c, --config <file>', 'config file (YAML), e.g. config/fenestra.yaml')
    .option('--host <host>', 'listen address (overrides server.host)')
    .option('--port <port>', 'listen port, 0 = any free port (overrides server.port)')
    .option('--log-level <level>', 'pino level: trace, debug, info, warn, error (default info or FENESTRA_LOG_LEVEL)')
    .action(async (flags: StartFlags) => {
      await runStart(flags);
    });
}
