import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeOfflineStoreConformance, testLogger } from '../../plugins/testkit/index.js';
import parquetPlugin from '../../adapters/offline/parquet/index.js';
import { openParquetFile } from '../../adapters/offline/parquet/parquet-reader.js';

// The built-in `parquet` offline store on a local directory passes the offline-store kit
// (created through its plugin definition, as the loader would); rows are counted from the Parquet footer.
const root = mkdtempSync(join(tmpdir(), 'fenestra-kit-parquet-'));

describeOfflineStoreConformance('parquet (built-in, local directory)', {
  async teardown() {
    rmSync(root, { recursive: true, force: true });
  },
  createStore: (location) => parquetPlugin.create({ path: join(root, location) }, { logger: testLogger(), baseDir: root, engineVersion: '0.1.0' }),
  exists: async (location, path) => existsSync(join(root, location, path)),
  countRows: async (location, file) => Number((await openParquetFile(join(root, location, file))).metadata.num_rows),
});
