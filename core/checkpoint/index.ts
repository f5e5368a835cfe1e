export { FileCheckpointStore, type FileCheckpointStoreOptions } from './file-store.js';
export { ManifestCheckpointStore, type CheckpointStoreOptions, type CheckpointStoreStats, type FaultPoint } from './manifest-store.js';
export { DirectoryCheckpointStorage } from './directory-storage.js';
export { FORMAT_VERSION } from './frame.js';
export { DirectorySplitRegistry, StorageSplitRegistry, type SharedStateRoot } from './split-registry.js';
