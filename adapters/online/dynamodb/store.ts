import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceInUseException,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type AttributeValue,
  type KeysAndAttributes,
} from '@aws-sdk/client-dynamodb';
import type { OnlineRecord, OnlineStore, OnlineWriteResult } from '../../../core/contracts/online-store.js';
import type { Logger } from '../../../core/contracts/logger.js';
import { FenestraError } from '../../../core/errors.js';
import { backoffDelay, sleep } from '../shared/backoff.js';
import { isExpired } from '../shared/expiry.js';
import { checkOverrideGroups, perGroup } from '../shared/group-names.js';
import { mapLimit } from '../shared/map-limit.js';
import type { DynamoDbOnlineConfig } from './config.js';
import { DELETE_CONDITION, NEWER_VERSION_CONDITION, fromItem, pkOf, toItem } from './item.js';

const BATCH_GET_MAX = 100;
const TRANSACT_MAX = 100;

function unavailable(what: string, e: unknown): FenestraError {
  return new FenestraError('STORE_UNAVAILABLE', `dynamodb online store: ${what} failed (${(e as Error).name}: ${(e as Error).message})`, { cause: e });
}

/** The SDK client this store derives from its config (exported for the construction tests). */
export function createDynamoDbClient(cfg: DynamoDbOnlineConfig): DynamoDBClient {
  return new DynamoDBClient({
    region: cfg.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(cfg.endpoint !== undefined ? { endpoint: cfg.endpoint } : {}),
    ...(cfg.credentials !== undefined ? { credentials: cfg.credentials } : {}),
    maxAttempts: cfg.maxAttempts ?? 3,
    requestHandler: { requestTimeout: cfg.requestTimeoutMs ?? 5000, connectionTimeout: cfg.requestTimeoutMs ?? 5000 },
  });
}

/**
 * Keeps, per key, the first record carrying the key's highest version (what applying the batch in
 * order under the strictly-newer rule leaves), so no two requests of one write race on one item.
 * Returns the kept records and how many were dropped.
 */
export function newestPerKey(records: readonly OnlineRecord[]): { kept: OnlineRecord[]; dropped: number } {
  const best = new Map<string, number>();
  records.forEach((r, i) => {
    const id = pkOf(r.group, r.key);
    const j = best.get(id);
    if (j === undefined || records[j]!.version < r.version) best.set(id, i);
  });
  const kept = [...best.values()].sort((a, b) => a - b).map((i) => records[i]!);
  return { kept, dropped: records.length - kept.length };
}

/**
 * OnlineStore on DynamoDB: one item per record (see item.ts), in the table configured for its group.
 * Writes are conditional puts (`attribute_not_exists(v) OR v < :v`) — in parallel PutItems (default) or
 * TransactWriteItems of up to 100 — and a failed condition counts as skipped, never as an error.
 * Reads are BatchGetItem of up to 100 keys, UnprocessedKeys resent with exponential backoff; expiry is
 * checked on read (DynamoDB's TTL deletes late; DynamoDB Local never). Throttling beyond the SDK's
 * retries and unreachable endpoints make `write`/`read` reject with STORE_UNAVAILABLE.
 */
export class DynamoDbOnlineStore implements OnlineStore {
  readonly client: DynamoDBClient;
  private readonly cfg: DynamoDbOnlineConfig;
  private readonly logger: Logger;
  private readonly groups: readonly string[];

  constructor(cfg: DynamoDbOnlineConfig, logger: Logger, groups: readonly string[] = [], client?: DynamoDBClient) {
    checkOverrideGroups(cfg.tables, groups, 'online.tables');
    this.cfg = cfg;
    this.logger = logger;
    this.groups = groups;
    this.client = client ?? createDynamoDbClient(cfg);
  }

  tableOf(group: string): string {
    return perGroup(group, this.cfg.tables, () => this.cfg.table ?? 'fenestra_online');
  }

  /** Every table this store may touch (the default one and the per-group ones). */
  tables(): string[] {
    const t = new Set<string>(this.groups.length === 0 ? [this.cfg.table ?? 'fenestra_online'] : []);
    for (const g of this.groups) t.add(this.tableOf(g));
    for (const v of Object.values(this.cfg.tables ?? {})) t.add(v);
    return [...t];
  }

  async open(): Promise<void> {
    for (const table of this.tables()) {
      if (this.cfg.createTable === true) await this.createTable(table);
      try {
        await this.client.send(new DescribeTableCommand({ TableName: table }));
      } catch (e) {
        throw unavailable(`opening table ${table} (set createTable: true to create it)`, e);
      }
    }
  }

  private async createTable(table: string): Promise<void> {
    try {
      await this.client.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      this.logger.info({ table }, 'dynamodb online store: created table');
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw unavailable(`creating table ${table}`, e);
    }
    await waitUntilTableExists({ client: this.client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: table });
    try {
      await this.client.send(
        new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }),
      );
    } catch (e) {
      // Already enabled (ValidationException), or a backend without TTL: the read-side check covers it.
      this.logger.debug({ table, err: (e as Error).message }, 'dynamodb online store: TTL not (re)enabled');
    }
  }

  async write(records: readonly OnlineRecord[]): Promise<OnlineWriteResult> {
    const { kept, dropped } = newestPerKey(records);
    const skipped = (this.cfg.writeMode ?? 'put') === 'transact' ? await this.writeTransact(kept) : await this.writePuts(kept);
    return { applied: kept.length - skipped, skipped: skipped + dropped };
  }

  /** Parallel conditional PutItems; returns how many failed their condition. */
  private async writePuts(records: readonly OnlineRecord[]): Promise<number> {
    let skipped = 0;
    await mapLimit(records, this.cfg.writeConcurrency ?? 32, async (r) => {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableOf(r.group),
            Item: toItem(r),
            ConditionExpression: NEWER_VERSION_CONDITION,
            ExpressionAttributeValues: { ':v': { N: String(r.version) } },
          }),
        );
      } catch (e) {
        if (e instanceof ConditionalCheckFailedException) skipped++;
        else throw unavailable('write', e);
      }
    });
    return skipped;
  }

  /**
   * TransactWriteItems of up to 100 conditional puts. A transaction is cancelled as a whole when one
   * condition fails: those records are counted as skipped and the rest are resent; conflicts and
   * throttling are resent with backoff a few times, then the write fails.
   */
  private async writeTransact(records: readonly OnlineRecord[]): Promise<number> {
    const chunks: OnlineRecord[][] = [];
    for (let i = 0; i < records.length; i += TRANSACT_MAX) chunks.push(records.slice(i, i + TRANSACT_MAX));
    const skippedPer = await mapLimit(chunks, Math.max(1, Math.ceil((this.cfg.writeConcurrency ?? 32) / 8)), async (chunk) => {
      let pending = chunk;
      let skipped = 0;
      for (let attempt = 0; pending.length > 0; attempt++) {
        try {
          await this.client.send(
            new TransactWriteItemsCommand({
              TransactItems: pending.map((r) => ({
                Put: {
                  TableName: this.tableOf(r.group),
                  Item: toItem(r),
                  ConditionExpression: NEWER_VERSION_CONDITION,
                  ExpressionAttributeValues: { ':v': { N: String(r.version) } },
                },
              })),
            }),
          );
          return skipped;
        } catch (e) {
          if (!(e instanceof TransactionCanceledException) || attempt >= 8) throw unavailable('write', e);
          const reasons = e.CancellationReasons ?? [];
          const failed = new Set<number>();
          reasons.forEach((r, i) => {
            if (r.Code === 'ConditionalCheckFailed') failed.add(i);
          });
          skipped += failed.size;
          pending = pending.filter((_, i) => !failed.has(i));
          if (failed.size === 0) await sleep(backoffDelay(attempt + 1, 20, 1000));
        }
      }
      return skipped;
    });
    return skippedPer.reduce((a, b) => a + b, 0);
  }

  async read(group: string, keys: readonly string[], now: number): Promise<ReadonlyArray<OnlineRecord | null>> {
    const table = this.tableOf(group);
    const unique = [...new Set(keys)];
    const found = new Map<string, Record<string, AttributeValue>>();
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) chunks.push(unique.slice(i, i + BATCH_GET_MAX));
    await mapLimit(chunks, 16, (chunk) => this.batchGet(table, chunk.map((k) => pkOf(group, k)), found));
    return keys.map((k) => {
      const item = found.get(pkOf(group, k));
      if (item === undefined) return null;
      const rec = fromItem(group, k, item);
      return rec === null || isExpired(rec.expiresAt, now) ? null : rec;
    });
  }

  /** BatchGetItem of ≤ 100 keys into `found` (by pk), resending UnprocessedKeys with backoff. */
  private async batchGet(table: string, pks: readonly string[], found: Map<string, Record<string, AttributeValue>>): Promise<void> {
    let request: Record<string, KeysAndAttributes> | undefined = {
      [table]: { Keys: pks.map((pk) => ({ pk: { S: pk } })), ConsistentRead: this.cfg.consistentRead ?? true },
    };
    const rounds = this.cfg.unprocessedRetries ?? 8;
    for (let attempt = 0; request !== undefined && Object.keys(request).length > 0; attempt++) {
      if (attempt > rounds) {
        throw new FenestraError('STORE_UNAVAILABLE', `dynamodb online store: read of ${pks.length} keys still unprocessed after ${rounds} retries (throttled)`);
      }
      await sleep(backoffDelay(attempt, 25, 2000));
      let res;
      try {
        res = await this.client.send(new BatchGetItemCommand({ RequestItems: request }));
      } catch (e) {
        throw unavailable('read', e);
      }
      for (const item of res.Responses?.[table] ?? []) {
        const pk = item.pk?.S;
        if (pk !== undefined) found.set(pk, item);
      }
      request = res.UnprocessedKeys;
    }
  }

  async delete(group: string, key: string, version: number): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableOf(group),
          Key: { pk: { S: pkOf(group, key) } },
          ConditionExpression: DELETE_CONDITION,
          ExpressionAttributeValues: { ':v': { N: String(version) } },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw unavailable('delete', e);
    }
  }

  async healthy(): Promise<boolean> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.tables()[0]! }), { abortSignal: AbortSignal.timeout(2000) });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
