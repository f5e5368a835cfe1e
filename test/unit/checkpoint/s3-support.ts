/**
 * Shared by the S3 checkpoint tests: a real s3rver (test/services/s3rver.ts) with one bucket, a fresh
 * prefix per test, and checkpoint data helpers.
 */
import { expect } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeS3Client } from '../../../adapters/s3/client.js';
import { S3Prefix } from '../../../adapters/s3/prefix.js';
import type { CheckpointData, CheckpointEntry, RecoveredState } from '../../../core/contracts/checkpoint-store.js';
import { FenestraError } from '../../../core/errors.js';
import { startS3rver, type S3rverHandle } from '../../services/s3rver.js';

export const BUCKET = 'fenestra-state';

export interface S3Fixture {
  readonly server: S3rverHandle;
  readonly client: S3Client;
  /** A prefix no other test uses. */
  fresh(label: string): S3Prefix;
  stop(): Promise<void>;
}

export async function startS3Fixture(): Promise<S3Fixture> {
  const server = await startS3rver({ buckets: [BUCKET] });
  const client = makeS3Client(server.s3);
  let n = 0;
  return {
    server,
    client,
    fresh: (label) => new S3Prefix(client, BUCKET, `t${++n}-${label}`),
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

export function data(id: number, entries: CheckpointEntry[], extra: Partial<CheckpointData> = {}): CheckpointData {
  return { id, createdAt: 1_000 + id, positions: { tx: { '0': id * 10 } }, entries, offlineFiles: [], meta: { layout: { g: 'h1' } }, ...extra };
}

export function stateOf(r: RecoveredState | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!r) return out;
  for (const e of r.entries()) out[`${e.group}/${e.key}`] = Buffer.from(e.value!).toString('hex');
  return out;
}

export async function expectCode(p: Promise<unknown>, code: string, hint: string): Promise<FenestraError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FenestraError);
  expect((err as FenestraError).code).toBe(code);
  expect((err as FenestraError).message).toContain(hint);
  return err as FenestraError;
}
