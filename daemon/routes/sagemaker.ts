import type { FastifyInstance, FastifyReply } from 'fastify';
import { ERROR_CODES, FenestraError, type ErrorCode } from '../../core/errors.js';
import type { StoredGroupSpec } from '../../core/model.js';
import { expiryOf, parseRecord, parseStoredTime, ttlDurationMs, type StoredWrite } from '../../core/stored/index.js';
import { classify } from '../errors.js';
import type { DaemonContext } from '../context.js';
import { batchGetRecordSchema, batchWriteRecordSchema, deleteRecordSchema, getRecordSchema, putRecordSchema } from './sagemaker-schemas.js';

/** SageMaker Feature Store Runtime error types (the `x-amzn-errortype` the AWS SDK maps to exceptions). */
function awsType(code: ErrorCode): string {
  switch (code) {
    case 'UNKNOWN_GROUP':
      return 'ResourceNotFound';
    case 'NOT_READY':
    case 'STORE_UNAVAILABLE':
      return 'ServiceUnavailable';
    case 'INTERNAL':
      return 'InternalFailure';
    default:
      return 'ValidationError';
  }
}

/** Sends an error the AWS SDK understands (`x-amzn-errortype`, `message`) that is also Fenestra's `{error:{code,message}}`. */
function sendAws(reply: FastifyReply, e: unknown): FastifyReply {
  const c = classify(e);
  if (c.code === 'INTERNAL') reply.log.error({ err: e }, 'sagemaker api: internal error');
  return reply
    .code(ERROR_CODES[c.code].status)
    .header('x-amzn-errortype', awsType(c.code))
    .send({ message: c.message, error: { code: c.code, message: c.message, ...(c.field === undefined ? {} : { field: c.field }) } });
}

interface Feature {
  FeatureName: string;
  ValueAsString: string;
}

/**
 * The SageMaker Feature Store Runtime API (restJson1), so `@aws-sdk/client-sagemaker-featurestore-runtime`
 * works with only `endpoint` changed: PutRecord, GetRecord, BatchGetRecord, DeleteRecord, BatchWriteRecord.
 * Writes go to *stored* groups and are acknowledged once durable; reads also serve *aggregated* groups,
 * finalized at the read's time. A missing record reads as `{}` (GetRecord) or is left out (BatchGetRecord).
 * Sets the error handler of `app` (malformed JSON, oversized bodies, shape errors answer as SageMaker
 * does, with `x-amzn-errortype`): register it in a context of its own.
 */
export function sagemakerRoutes(app: FastifyInstance, ctx: DaemonContext): void {
  const spec = ctx.engine.spec;
  app.setErrorHandler((err, _req, reply) => sendAws(reply, err));

  const groupName = (raw: string): string => {
    const slash = raw.lastIndexOf('/');
    return raw.startsWith('arn:') && slash >= 0 ? raw.slice(slash + 1) : raw;
  };
  const storedGroup = (name: string): StoredGroupSpec => {
    const g = spec.groups.get(name);
    if (g === undefined) throw new FenestraError('UNKNOWN_GROUP', `feature group ${name} not found`, { path: 'FeatureGroupName' });
    if (g.kind !== 'stored' || ctx.stored === null) throw new FenestraError('NOT_STORED_GROUP', `feature group ${name} is aggregated by the engine; only stored groups take records`, { path: 'FeatureGroupName' });
    return g;
  };
  const keyField = (g: { entity: string }): string => spec.entities.get(g.entity)?.key ?? g.entity;
  const ready = (): void => {
    if (!ctx.engine.isReady()) throw new FenestraError('NOT_READY', 'the engine is recovering');
  };

  /** Validates one record into a stored write (throws a FenestraError with the feature at fault). */
  const toPut = (g: StoredGroupSpec, record: unknown, ttl: unknown, fallbackTtl: unknown): StoredWrite => {
    const p = parseRecord(g, keyField(g), record);
    if (!p.ok) throw new FenestraError(p.code, p.reason, { path: p.field });
    const reqTtl = ttl ?? fallbackTtl;
    let ttlMs: number | null = null;
    if (reqTtl !== undefined && reqTtl !== null) {
      ttlMs = ttlDurationMs(reqTtl);
      if (ttlMs === null) throw new FenestraError('BAD_REQUEST', 'TtlDuration must be {Unit: Seconds|Minutes|Hours|Days|Weeks, Value: >= 1}', { path: 'TtlDuration' });
    }
    return { op: 'put', key: p.key, eventTime: p.eventTime, strings: p.strings, expiresAt: expiryOf(p.eventTime, ttlMs, g.ttl) };
  };

  /** One record as GetRecord returns it, or null when missing. */
  const getRecord = async (name: string, key: string, featureNames: readonly string[] | undefined): Promise<{ Record: Feature[]; ExpiresAt?: string } | null> => {
    const g = spec.groups.get(name);
    if (g === undefined) throw new FenestraError('UNKNOWN_GROUP', `feature group ${name} not found`, { path: 'FeatureGroupName' });
    const want = featureNames === undefined || featureNames.length === 0 ? null : new Set(featureNames);
    if (g.kind === 'stored' && ctx.stored !== null) {
      const now = Date.now();
      // From the online store when the daemon reads from it (online.reads: store), else from memory.
      const r = ctx.engine.readRecord !== undefined ? await ctx.engine.readRecord(name, key, now) : ctx.stored.groups.get(name)!.readRecord(key, now);
      if (!r.found || r.strings === null) return null;
      const rec = Object.entries(r.strings)
        .filter(([f]) => want === null || want.has(f))
        .map(([FeatureName, ValueAsString]) => ({ FeatureName, ValueAsString }));
      return { Record: rec, ...(r.expiresAt > 0 ? { ExpiresAt: new Date(r.expiresAt).toISOString() } : {}) };
    }
    const r = await ctx.engine.read(name, key);
    if (!r.found) return null;
    const rec: Feature[] = [];
    const kf = keyField(g);
    if (want === null || want.has(kf)) rec.push({ FeatureName: kf, ValueAsString: key });
    for (const [f, v] of Object.entries(r.values)) {
      if (v === null || (want !== null && !want.has(f))) continue;
      rec.push({ FeatureName: f, ValueAsString: String(v) });
    }
    return { Record: rec };
  };

  const asList = (v: unknown): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v.map(String) : [String(v)]);

  // PutRecord
  app.put<{ Params: { name: string }; Body: { Record?: unknown; TargetStores?: unknown; TtlDuration?: unknown } }>(
    '/FeatureGroup/:name',
    { schema: putRecordSchema },
    async (req, reply) => {
      try {
        ready();
        const name = groupName(req.params.name);
        const g = storedGroup(name);
        const body = (req.body ?? {}) as { Record?: unknown; TtlDuration?: unknown };
        const w = toPut(g, body.Record, body.TtlDuration, undefined);
        await ctx.stored!.write(name, [w]);
        return reply.code(200).send({});
      } catch (e) {
        return sendAws(reply, e);
      }
    },
  );

  // GetRecord
  app.get<{ Params: { name: string }; Querystring: { RecordIdentifierValueAsString?: string; FeatureName?: string | string[]; ExpirationTimeResponse?: string } }>(
    '/FeatureGroup/:name',
    { schema: getRecordSchema },
    async (req, reply) => {
      try {
        const key = req.query.RecordIdentifierValueAsString;
        if (typeof key !== 'string' || key === '') throw new FenestraError('BAD_REQUEST', 'RecordIdentifierValueAsString is required', { path: 'RecordIdentifierValueAsString' });
        const r = await getRecord(groupName(req.params.name), key, asList(req.query.FeatureName));
        if (r === null) return reply.send({});
        const withExpiry = req.query.ExpirationTimeResponse === 'Enabled';
        return reply.send(withExpiry ? r : { Record: r.Record });
      } catch (e) {
        return sendAws(reply, e);
      }
    },
  );

  // DeleteRecord
  app.delete<{ Params: { name: string }; Querystring: { RecordIdentifierValueAsString?: string; EventTime?: string } }>(
    '/FeatureGroup/:name',
    { schema: deleteRecordSchema },
    async (req, reply) => {
      try {
        ready();
        const name = groupName(req.params.name);
        storedGroup(name);
        const key = req.query.RecordIdentifierValueAsString;
        if (typeof key !== 'string' || key === '') throw new FenestraError('BAD_REQUEST', 'RecordIdentifierValueAsString is required', { path: 'RecordIdentifierValueAsString' });
        const et = req.query.EventTime === undefined ? null : parseStoredTime(req.query.EventTime);
        if (et === null) throw new FenestraError('EVENT_TIME_INVALID', 'EventTime is required: ISO-8601 or seconds since the epoch', { path: 'EventTime' });
        await ctx.stored!.write(name, [{ op: 'delete', key, eventTime: et }]);
        return reply.code(200).send({});
      } catch (e) {
        return sendAws(reply, e);
      }
    },
  );

  // BatchGetRecord
  app.post<{ Body: { Identifiers?: unknown; ExpirationTimeResponse?: string } }>(
    '/BatchGetRecord',
    { schema: batchGetRecordSchema },
    async (req, reply) => {
      try {
        const ids = (req.body ?? {}).Identifiers;
        if (!Array.isArray(ids) || ids.length === 0) throw new FenestraError('BAD_REQUEST', 'Identifiers must be a non-empty list', { path: 'Identifiers' });
        const withExpiry = req.body.ExpirationTimeResponse === 'Enabled';
        const Records: unknown[] = [];
        const Errors: unknown[] = [];
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i] as { FeatureGroupName?: unknown; RecordIdentifiersValueAsString?: unknown; FeatureNames?: unknown };
          if (typeof id?.FeatureGroupName !== 'string' || !Array.isArray(id.RecordIdentifiersValueAsString)) {
            throw new FenestraError('BAD_REQUEST', 'each identifier needs FeatureGroupName and RecordIdentifiersValueAsString', { path: `Identifiers[${i}]` });
          }
          const name = groupName(id.FeatureGroupName);
          const features = Array.isArray(id.FeatureNames) ? id.FeatureNames.map(String) : undefined;
          for (const keyRaw of id.RecordIdentifiersValueAsString) {
            const key = String(keyRaw);
            try {
              const r = await getRecord(name, key, features);
              if (r === null) continue;
              Records.push({ FeatureGroupName: id.FeatureGroupName, RecordIdentifierValueAsString: key, Record: r.Record, ...(withExpiry && r.ExpiresAt ? { ExpiresAt: r.ExpiresAt } : {}) });
            } catch (e) {
              const c = classify(e);
              Errors.push({ FeatureGroupName: id.FeatureGroupName, RecordIdentifierValueAsString: key, ErrorCode: awsType(c.code), ErrorMessage: c.message });
            }
          }
        }
        return reply.send({ Records, Errors, UnprocessedIdentifiers: [] });
      } catch (e) {
        return sendAws(reply, e);
      }
    },
  );

  // BatchWriteRecord
  app.post<{ Body: { Entries?: unknown; TtlDuration?: unknown } }>(
    '/BatchWriteRecord',
    { schema: batchWriteRecordSchema },
    async (req, reply) => {
      try {
        ready();
        const entries = (req.body ?? {}).Entries;
        if (!Array.isArray(entries) || entries.length === 0) throw new FenestraError('BAD_REQUEST', 'Entries must be a non-empty list', { path: 'Entries' });
        const Errors: unknown[] = [];
        const byGroup = new Map<string, StoredWrite[]>();
        for (const entry of entries as Array<{ FeatureGroupName?: unknown; Record?: unknown; TtlDuration?: unknown }>) {
          try {
            if (typeof entry?.FeatureGroupName !== 'string') throw new FenestraError('BAD_REQUEST', 'FeatureGroupName is required', { path: 'FeatureGroupName' });
            const name = groupName(entry.FeatureGroupName);
            const w = toPut(storedGroup(name), entry.Record, entry.TtlDuration, req.body.TtlDuration);
            const list = byGroup.get(name) ?? [];
            list.push(w);
            byGroup.set(name, list);
          } catch (e) {
            const c = classify(e);
            Errors.push({ Entry: entry, ErrorCode: awsType(c.code), ErrorMessage: `${c.code}: ${c.message}` });
          }
        }
        await Promise.all([...byGroup].map(([name, ws]) => ctx.stored!.write(name, ws)));
        return reply.send({ Errors, UnprocessedEntries: [] });
      } catch (e) {
        return sendAws(reply, e);
      }
    },
  );
}
