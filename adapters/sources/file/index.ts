import { definePlugin } from '../../../core/contracts/plugin.js';
import { FileSource } from './file-source.js';
import { FILE_OPTIONS_SCHEMA, fileOptions } from './options.js';

/** The built-in `file` source: NDJSON, CSV and Parquet history, replayable (exactly-once). */
export default definePlugin({
  name: 'file',
  kind: 'source',
  engine: '>=0.1.0',
  description: 'Replays NDJSON, CSV or Parquet files (a file, a directory, or a glob); each file is a split.',
  capabilities: { exactlyOnce: true },
  configSchema: FILE_OPTIONS_SCHEMA,
  create(config: Record<string, unknown>, ctx) {
    return new FileSource(fileOptions(config), ctx.baseDir);
  },
});

export { FileSource } from './file-source.js';
export { parseCsvRecord } from './csv-parse.js';
