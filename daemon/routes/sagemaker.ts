import type { FastifyInstance, FastifyReply } from 'fastify';
import { ERROR_CODES, FenestraError, type ErrorCode } from '../../core/errors.js';
import type { StoredGroupSpec } from '../../core/model.js';
import { expiryOf, parseRecord, parseStoredTime, storedKeyField, ttlDurationMs, type StoredWrite } from '../../core/stored/index.js';
import { classify } from '../errors.js';
import type { DaemonContext } from '../context.js';
import { groupFeatureNames } from '../feature-refs.js';
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

/** A record in a request (the schemas of sagemaker-schemas.ts have checked this shape). */
type RecordIn = ReadonlyArray<{ FeatureName: string; ValueAsString?: string; ValueAsStringList?: string[] }>;

/**
 * The SageMaker Feature Store Runtime API (restJson1), so `@aws-sdk/client-sagemaker-featurestore-runtime`
 * works with only `endpoint` changed: PutRecord, GetRecord, BatchGetRecord, DeleteRecord, BatchWriteRecord.
 * Writes go to *stored* groups and are acknowledged once durable; reads also serve *aggregated* groups,
 * finalized at the read's time. A missing record reads as `{}` (GetRecord) or is left out (BatchGetRecord).
 * Sets the error handler of `app` (malformed JSON, oversized bodies, shape errors answer as SageMaker
 * does, with `x-amzn-errortype`): register it in a context of its own. The request shapes are checked by
 * the route schemas (sagemaker-schemas.ts) before a handler runs; the handlers check values.
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
  const keyField = (g: { entity: string }): string => storedKeyField(spec, g);
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
    if (want !== null) {
      const known = new Set([keyField(g), ...groupFeatureNames(g)]);
      const unknown = [...want].filter((f) => !known.has(f));
      if (unknown.length > 0) throw new FenestraError('UNKNOWN_FEATURE', `feature group ${name} has no feature ${unknown.map((f) => JSON.stringify(f)).join(', ')}`, { path: 'FeatureName' });
    }
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
  app.put<{ Params: { name: string }; Body: { Record: RecordIn; TargetStores?: string[]; TtlDuration?: unknown } }>(
    '/FeatureGroup/:name',
    { schema: putRecordSchema },
    async (req, reply) => {
      try {
        ready();
        const name = groupName(req.params.name);
        const w = toPut(storedGroup(name), req.body.Record, req.body.TtlDuration, undefined);
        await ctx.stored!.write(name, [w]);
        return reply.code(200).send({});
      } catch (e) {
        return sendAws(reply, e);
      }
    },
  );

  // GetRecord
  app.get<{ Params: { name: string }; Querystring: { RecordIdentifierValueAsString: string; FeatureName?: string | string[]; ExpirationTimeResponse?: string } }>(
    '/FeatureGroup/:name',
    { schema: getRecordSchema },
    async (req, reply) => {
      try {
        const r = await getRecord(groupName(req.params.name), req.query.RecordIdentifierValueAsString, asList(req.query.FeatureName));
        if (r === null) return reply.send({});
        const withExpiry = req.query.ExpirationTimeResponse === 'Enabled';
        return reply.send(withExpiry ? r : { Record: r.Record });
      } catch (e) {
        return sendAws(reply, e);
      }
    },
  );

  // DeleteRecord
  app.delete<{ Params: { name: string }; Querystring: { RecordIdentifierValueAsString: string; EventTime: string } }>(
    '/FeatureGroup/:name',
    { schema: deleteRecordSchema },
    async (req, reply) => {
      try {
        ready();
        const name = groupName(req.params.name);
        storedGroup(name);
        const et = parseStoredTime(req.query.EventTime);
        if (et === null) throw new FenestraError('EVENT_TIME_INVALID', `EventTime ${JSON.stringify(req.query.EventTime)} is neither ISO-8601 nor seconds since the epoch`, { path: 'EventTime' });
        await ctx.stored!.write(name, [{ op: 'delete', key: req.query.RecordIdentifierValueAsString, eventTime: et }]);
        return reply.code(200).send({});
      } catch (e) {
        return sendAws(reply, e);
      }
    },
  );

  // BatchGetRecord
  app.post<{ Body: { Identifiers: ReadonlyArray<{ FeatureGroupName: string; RecordIdentifiersValueAsString: string[]; FeatureNames?: string[] }>; ExpirationTimeResponse?: string } }>(
    '/BatchGetRecord',
    { schema: batchGetRecordSchema },
    async (req, reply) => {
      try {
        const withExpiry = req.body.ExpirationTimeResponse === 'Enabled';
        const Records: unknown[] = [];
        const Errors: unknown[] = [];
        for (const id of req.body.Identifiers) {
          const name = groupName(id.FeatureGroupName);
          for (const key of id.RecordIdentifiersValueAsString) {
            try {
              const r = await getRecord(name, key, id.FeatureNames);
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
  app.post<{ Body: { Entries: ReadonlyArray<{ FeatureGroupName: string; Record: RecordIn; TtlDuration?: unknown }>; TtlDuration?: unknown } }>(
    '/BatchWriteRecord',
    { schema: batchWriteRecordSchema },
    async (req, reply) => {
      try {
        ready();
        const Errors: unknown[] = [];
        const byGroup = new Map<string, StoredWrite[]>();
        for (const entry of req.body.Entries) {
          try {
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
