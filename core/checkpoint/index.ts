export { FileCheckpointStore, type FileCheckpointStoreOptions, type CheckpointStoreStats } from './file-store.js';
export type { FaultPoint } from './atomic-write.js';
export { FORMAT_VERSION } from './frame.js';
export { DirectorySplitRegistry } from './split-registry.js';
