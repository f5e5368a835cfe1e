/**
 * The S3 client every S3 adapter uses (the Parquet offline store, the shared checkpoint store and
 * split registry): options as the config gives them, tuned for S3-compatible servers too.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface S3Options {
  readonly endpoint?: string;
  readonly region?: string;
  readonly forcePathStyle?: boolean;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

/** Splits `s3://bucket/some/prefix/` into bucket and prefix (without trailing slash). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
}

export function makeS3Client(o: S3Options): S3Client {
  return new S3Client({
    region: o.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    forcePathStyle: o.forcePathStyle ?? true,
    // S3-compatible servers (s3rver, MinIO) do not all speak the newer default checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(o.accessKeyId && o.secretAccessKey
      ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } }
      : {}),
  });
}

/** True for the errors S3 (and s3rver) answer for a missing object. */
export function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

/**
 * True for a connection cut under a request or its answer (reset, broken pipe, timeout, the body
 * stream ended early). The SDK retries a request that failed before its answer's headers, but not
 * a body whose stream is cut after them: those surface here.
 */
export function isCutConnection(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    err.code === 'ECONNRESET' ||
    err.code === 'EPIPE' ||
    err.code === 'ETIMEDOUT' ||
    err.code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    err.message === 'aborted' ||
    err.message === 'socket hang up'
  );
}

/** Attempts of `getObjectBytes` (the first and three more). */
export const GET_ATTEMPTS = 4;

/**
 * An object's bytes: GET and read the body, the whole again (up to `GET_ATTEMPTS` in all, backing
 * off 50, 100, 200 ms) when the connection is cut while the body streams. Any other error, a
 * missing object included, is thrown at once. Idempotent: a GET changes nothing.
 */
export async function getObjectBytes(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await r.Body!.transformToByteArray();
    } catch (e) {
      if (attempt >= GET_ATTEMPTS || !isCutConnection(e)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    }
  }
}
