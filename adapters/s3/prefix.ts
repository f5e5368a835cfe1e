import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getObjectBytes, isNotFound } from './client.js';

/**
 * The objects under one `s3://bucket/prefix/`, addressed by their names relative to it (names may
 * contain `/`). A thin layer over the SDK commands: a PUT replaces the whole object atomically (S3
 * never shows a partial object) and S3 is strongly read-after-write consistent for GET, PUT, DELETE
 * and LIST, which the checkpoint store and the split registry rely on.
 */
export class S3Prefix {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    /** Without leading or trailing `/`; '' for the bucket's root. */
    readonly prefix: string,
  ) {}

  /** The prefix `name/` below this one. */
  child(name: string): S3Prefix {
    return new S3Prefix(this.client, this.bucket, this.key(name));
  }

  key(name: string): string {
    return this.prefix ? `${this.prefix}/${name}` : name;
  }

  /** `s3://bucket/prefix[/name]`, for messages. */
  url(name?: string): string {
    const k = name === undefined ? this.prefix : this.key(name);
    return `s3://${this.bucket}${k ? `/${k}` : ''}`;
  }

  /** The object's bytes, or null when it does not exist; a body cut in flight is read again (`getObjectBytes`). */
  async get(name: string): Promise<Buffer | null> {
    try {
      const bytes = await getObjectBytes(this.client, this.bucket, this.key(name));
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** Replaces the object whole; durable when it resolves (S3 answers 200 only once it is stored). */
  async put(name: string, body: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: body, ContentLength: body.byteLength }));
  }

  /** Deletes; a missing object is not an error (S3's DELETE is idempotent). */
  async delete(name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
  }

  /** Names of the objects directly under the prefix (not in "subdirectories"), sorted. */
  async list(): Promise<string[]> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, Delimiter: '/', ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key.slice(base.length));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }
}
