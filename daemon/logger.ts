import { pino, type Logger as Pino } from 'pino';
import type { Logger } from '../core/contracts/logger.js';

/** The daemon's structured logger: pino, JSON lines on stdout (level from FENESTRA_LOG_LEVEL, default info). */
export function createPino(level: string = process.env['FENESTRA_LOG_LEVEL'] ?? 'info'): Pino {
  return pino({ level, base: { service: 'fenestra' } });
}

/** Adapts pino to the adapter-facing Logger contract (core/contracts/logger.ts). */
export function asContractLogger(p: Pino): Logger {
  const wrap = (l: Pino): Logger => ({
    debug: (o, m) => (typeof o === 'string' ? l.debug(o) : l.debug(o, m)),
    info: (o, m) => (typeof o === 'string' ? l.info(o) : l.info(o, m)),
    warn: (o, m) => (typeof o === 'string' ? l.warn(o) : l.warn(o, m)),
    error: (o, m) => (typeof o === 'string' ? l.error(o) : l.error(o, m)),
    child: (b) => wrap(l.child(b)),
  });
  return wrap(p);
}
