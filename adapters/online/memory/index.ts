import { definePlugin, type Plugin } from '../../../core/contracts/plugin.js';
import { MemoryOnlineStore } from './memory-online-store.js';

/** Built-in `memory` online store: state in this process, made durable by the engine's checkpoints. */
const memoryOnlineStorePlugin: Plugin = definePlugin({
  name: 'memory',
  kind: 'online-store',
  engine: '^0.1.0',
  description: 'In-process online store (the embedded default keeps its state here; checkpoints make it durable).',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => new MemoryOnlineStore(),
});

export default memoryOnlineStorePlugin;
export { MemoryOnlineStore };
