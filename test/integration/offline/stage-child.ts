/**
 * Child process for the crash test: opens the parquet offline store described by argv[2] (JSON:
 * { path, s3? }), stages one batch for checkpoint argv[3], prints the staged files as one JSON line,
 * and then waits to be SIGKILLed (the crash between stage and commit).
 */
import { createParquetStore } from '../../../adapters/offline/parquet/index.js';

const config = JSON.parse(process.argv[2]!) as { path: string; s3?: Record<string, unknown> };
const checkpointId = Number(process.argv[3]);
const store = createParquetStore(config, process.cwd());
await store.open();
const base = Date.UTC(2024, 0, 1, 10);
const n = 50;
const files = await store.stageAll(
  {
    table: 'raw/tx',
    timeColumn: 'trans_time',
    columns: [
      { name: 'cc_num', type: 'string' },
      { name: 'trans_time', type: 'timestamp' },
      { name: 'amount', type: 'double' },
    ],
    data: [
      Array.from({ length: n }, (_, i) => `card-${i % 5}`),
      Array.from({ length: n }, (_, i) => base + i * 120_000), // spans two hours
      Array.from({ length: n }, (_, i) => 1000 + i),
    ],
  },
  checkpointId,
  0,
);
process.stdout.write(`${JSON.stringify(files)}\n`);
setInterval(() => {}, 1_000);
