/**
 * The object-storage operations the Parquet offline store needs, over a local directory or an S3
 * bucket prefix. Keys are `/`-separated and relative to the store's root.
 */
import { mkdir, readdir, readFile, rename, rm, stat, open } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { CopyObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound, parseS3Url } from '../../s3/client.js';
import { S3Prefix } from '../../s3/prefix.js';

export interface BlobStore {
  /** Human-readable root (`/abs/dir` or `s3://bucket/prefix`). */
  readonly root: string;
  /** Writes an object atomically (readers never see a partial object). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  /** Keys under `prefix` (recursive), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Moves `from` to `to` (overwriting). Throws `BlobNotFound` when `from` does not exist. */
  move(from: string, to: string): Promise<void>;
  /** Deletes; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** A URL/path other tools (DuckDB, Spark) can read the key at. */
  url(key: string): string;
  close(): Promise<void>;
}

export class BlobNotFound extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'BlobNotFound';
  }
}

export class LocalBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  private abs(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.abs(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.write(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await readFile(this.abs(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFound(key);
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.abs(key));
      return true;
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.abs(prefix);
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw e;
      }
      for (const ent of entries) {
        const p = join(dir, ent.name);
        if (ent.isDirectory()) await walk(p);
        else out.push(relative(this.root, p).split(sep).join('/'));
      }
    };
    await walk(base);
    return out.sort();
  }

  async move(from: string, to: string): Promise<void> {
    const dst = this.abs(to);
    await mkdir(dirname(dst), { recursive: true });
    try {
      await rename(this.abs(from), dst);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFound(from);
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.abs(key), { force: true });
  }

  url(key: string): string {
    return this.abs(key);
  }

  async close(): Promise<void> {}
}

export { makeS3Client, parseS3Url, type S3Options } from '../../s3/client.js';

/** URL-encodes a copy source, leaving `/` and `=` (Hive partition names) as they are: S3 accepts them, s3rver needs them. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map((p) => encodeURIComponent(p).replace(/%3D/g, '=')).join('/')}`;
}

export class S3BlobStore implements BlobStore {
  readonly root: string;
  /** The objects under the store's `s3://bucket/prefix/` (GET with a cut body read again, PUT, DELETE). */
  private readonly at: S3Prefix;

  constructor(url: string, client: S3Client) {
    const { bucket, prefix } = parseS3Url(url);
    this.at = new S3Prefix(client, bucket, prefix);
    this.root = this.at.url();
  }

  private get client(): S3Client {
    return this.at.client;
  }

  private get bucket(): string {
    return this.at.bucket;
  }

  private key(k: string): string {
    return this.at.key(k);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    // A PUT is atomic in S3: the object appears whole or not at all.
    await this.at.put(key, bytes);
  }

  async get(key: string): Promise<Uint8Array> {
    const bytes = await this.at.get(key);
    if (bytes === null) throw new BlobNotFound(key);
    return bytes;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const full = this.key(prefix);
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken: token }),
      );
      for (const o of r.Contents ?? []) {
        if (o.Key) out.push(this.at.prefix ? o.Key.slice(this.at.prefix.length + 1) : o.Key);
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  /** S3 has no rename: copy, then delete the source. Re-running after a crash between the two is safe. */
  async move(from: string, to: string): Promise<void> {
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.key(to),
          CopySource: copySource(this.bucket, this.key(from)),
        }),
      );
    } catch (e) {
      if (isNotFound(e)) throw new BlobNotFound(from);
      throw e;
    }
    await this.delete(from);
  }

  async delete(key: string): Promise<void> {
    await this.at.delete(key);
  }

  url(key: string): string {
    return this.at.url(key);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
