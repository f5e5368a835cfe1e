import { describeOnlineStoreConformance } from '../../plugins/testkit/index.js';
import memoryPlugin from '../../adapters/online/memory/index.js';
import { testLogger } from '../../plugins/testkit/index.js';
import type { OnlineStore } from '../../plugins/sdk/index.js';

// The built-in `memory` online store (the embedded default's store) passes the online-store kit,
// created through its plugin definition as the loader would.
describeOnlineStoreConformance('memory (built-in)', {
  async createStore(groups) {
    if (memoryPlugin.kind !== 'online-store') throw new Error(`memory plugin has kind ${memoryPlugin.kind}`);
    return (await memoryPlugin.create({}, { logger: testLogger(), baseDir: process.cwd(), engineVersion: '0.1.0', groups })) as OnlineStore;
  },
});
