// Public surface of the `fenestra` package's core. Adapters and plugins import from here
// (or from `fenestra/plugin`), never from deep paths.
export * from './errors.js';
export * from './model.js';
export * from './time/duration.js';
export * from './contracts/position.js';
export * from './contracts/source.js';
export * from './contracts/online-store.js';
export * from './contracts/offline-store.js';
export * from './contracts/checkpoint-store.js';
export * from './contracts/checkpoint-storage.js';
export * from './contracts/plugin.js';
export * from './contracts/logger.js';
export { ENGINE_VERSION } from './version.js';
export { MalformedRecord } from './event/malformed.js';
