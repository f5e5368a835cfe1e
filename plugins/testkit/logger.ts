import type { Logger } from '../../core/contracts/logger.js';

/** A logger for adapters under test: silent unless FENESTRA_TESTKIT_LOG=1. */
export function testLogger(bindings: Record<string, unknown> = {}): Logger {
  const on = process.env.FENESTRA_TESTKIT_LOG === '1';
  const emit = (level: string) => (obj: object | string, msg?: string): void => {
    if (on) console.error(JSON.stringify({ level, ...bindings, ...(typeof obj === 'string' ? { msg: obj } : { ...obj, msg }) }));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (b) => testLogger({ ...bindings, ...b }),
  };
}
