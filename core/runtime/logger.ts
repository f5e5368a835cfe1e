import type { Logger } from '../contracts/logger.js';

/** A logger that drops everything (the default when none is injected). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
