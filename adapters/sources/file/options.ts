import { FenestraError } from '../../../core/errors.js';

export type FileFormat = 'ndjson' | 'csv' | 'parquet';

export interface FileSourceOptions {
  /** A file, a directory (its data files in name order) or a glob whose last segment has `*` / `?`. */
  readonly path: string;
  /** Default: by extension (.ndjson/.jsonl/.json → ndjson, .csv → csv, .parquet → parquet). */
  readonly format?: FileFormat;
  /** CSV field delimiter (default `,`). */
  readonly delimiter?: string;
}

export const FILE_OPTIONS_SCHEMA = {
  type: 'object',
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1, description: 'A file, a directory, or a glob (`./data/tx-*.csv`); files are read in name order, each a split.' },
    format: { enum: ['ndjson', 'csv', 'parquet'], description: 'Default: from each file\'s extension.' },
    delimiter: { type: 'string', minLength: 1, maxLength: 1, description: 'CSV delimiter (default ",").' },
  },
  additionalProperties: true,
} as const;

export function fileOptions(config: Readonly<Record<string, unknown>>): FileSourceOptions {
  const path = config['path'];
  if (typeof path !== 'string' || path === '') throw new FenestraError('CONFIG_INVALID', 'file source: `path` must be a non-empty string', { path: 'path' });
  const format = config['format'];
  if (format !== undefined && format !== 'ndjson' && format !== 'csv' && format !== 'parquet') {
    throw new FenestraError('CONFIG_INVALID', `file source: unknown format ${JSON.stringify(format)} (ndjson, csv, parquet)`, { path: 'format' });
  }
  const delimiter = config['delimiter'];
  if (delimiter !== undefined && (typeof delimiter !== 'string' || delimiter.length !== 1)) {
    throw new FenestraError('CONFIG_INVALID', 'file source: `delimiter` must be one character', { path: 'delimiter' });
  }
  return { path, format: format as FileFormat | undefined, delimiter: delimiter as string | undefined };
}

export function formatOf(file: string, forced?: FileFormat): FileFormat | null {
  if (forced) return forced;
  const lower = file.toLowerCase();
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl') || lower.endsWith('.json')) return 'ndjson';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.parquet')) return 'parquet';
  return null;
}
