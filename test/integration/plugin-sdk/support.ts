import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLE_PLUGIN_DIR = fileURLToPath(new URL('../../../plugins/example-postgres-online-store/', import.meta.url));

/** Fails with the step to run when the example plugin's own install/build has not been done. */
export function requireExamplePluginBuilt(): void {
  const missing = ['node_modules/pg', 'node_modules/fenestra', 'dist/index.js'].filter((p) => !existsSync(`${EXAMPLE_PLUGIN_DIR}${p}`));
  if (missing.length > 0) {
    throw new Error(`the example plugin is not installed/built (missing ${missing.join(', ')} under ${EXAMPLE_PLUGIN_DIR}): run \`npm ci --prefix plugins/example-postgres-online-store\` after the root \`npm ci\``);
  }
  if (!existsSync(`${REPO_ROOT}dist/plugins/sdk/index.js`)) {
    throw new Error('fenestra is not built (dist/plugins/sdk/index.js missing): run `npm run build` (npm ci runs it as `prepare`)');
  }
}

/** A minimal valid config around an `online:` block (YAML text). */
export function configWithOnline(online: string): string {
  return `entities:
  card: { key: cc_num }
sources:
  tx:
    type: file
    path: ./tx.ndjson
    entity: card
    eventTime: { field: trans_time }
    schema: { cc_num: string, amount: double, trans_time: timestamp }
featureGroups:
  cc_agg:
    source: tx
    features:
      num_trans_last_10m: { agg: count, window: 10m }
      sum_amt_last_1h: { agg: sum, field: amount, window: 1h }
online: ${online}
offline: { type: parquet, path: ./offline }
`;
}
