import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { FeatureValue } from '../../core/runtime/api.js';
import { classify, sendError as sendHttpError } from '../errors.js';
import { resolveRefs } from '../feature-refs.js';
import type { DaemonContext } from '../context.js';
import { ingestBatch } from './ingest.js';
import { FenestraError } from '../../core/errors.js';
import type { PushSource } from '../../adapters/sources/push/push-source.js';
import { wsSchema } from './ws-schema.js';

interface IngestMsg {
  op: 'ingest';
  id?: unknown;
  source?: string;
  events?: unknown;
  idempotencyKey?: string;
  producerId?: string;
}
interface SubscribeMsg {
  op: 'subscribe' | 'unsubscribe';
  id?: unknown;
  group?: string;
  service?: string;
  key?: string;
}

/**
 * `GET /v1/ws`: one WebSocket carries
 * - `{op:'ingest', id, source?, events, idempotencyKey?, producerId?}` → `{op:'ack', id, accepted, rejected, duplicates, duplicate, position}`
 *   once the accepted events are durable (a client resends unacknowledged messages after a reconnect;
 *   producerId+seq or idempotencyKey make the resend count once);
 * - `{op:'subscribe', group, key}` / `{op:'subscribe', service, key}` → `{op:'features', ...}` now and on every change;
 * - `{op:'unsubscribe', group|service, key}`.
 * Errors: `{op:'error', id, error:{code, message}}`; the connection stays open.
 */
export function wsRoutes(app: FastifyInstance, ctx: DaemonContext): void {
  const wsSources = [...ctx.pushSources.values()].filter((s) => s.spec.type === 'websocket');
  const defaultSource: PushSource | undefined = wsSources.length === 1 ? wsSources[0] : ctx.pushSources.size === 1 ? [...ctx.pushSources.values()][0] : undefined;

  app.route({
    method: 'GET',
    url: '/v1/ws',
    schema: wsSchema,
    // A plain GET (no Upgrade: websocket) is a client mistake: 426 UPGRADE_REQUIRED.
    handler: (_req, reply) => sendHttpError(reply, 'UPGRADE_REQUIRED', 'GET /v1/ws is a WebSocket endpoint: open it with an Upgrade: websocket request (e.g. new WebSocket("ws://host/v1/ws"))'),
    wsHandler: (socket: WebSocket) => {
      const unsubs = new Map<string, () => void>();
      const send = (msg: unknown): void => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
      };
      const sendError = (id: unknown, e: unknown): void => {
        const c = classify(e);
        send({ op: 'error', ...(id === undefined ? {} : { id }), error: { code: c.code, message: c.message, ...(c.field === undefined ? {} : { field: c.field }) } });
      };

      const onIngest = async (m: IngestMsg): Promise<void> => {
        const name = m.source ?? defaultSource?.name;
        const source = name === undefined ? undefined : ctx.pushSources.get(name);
        if (source === undefined) throw new FenestraError('UNKNOWN_SOURCE', name === undefined ? 'say which source: {op:"ingest", source, ...}' : `no push source "${name}"`, { path: 'source' });
        if (!source.isOpen()) throw new FenestraError('NOT_READY', `source "${source.name}" is not open yet`);
        if (!Array.isArray(m.events)) throw new FenestraError('BAD_REQUEST', 'events must be an array', { path: 'events' });
        if (m.idempotencyKey !== undefined && typeof m.idempotencyKey !== 'string') throw new FenestraError('BAD_REQUEST', 'idempotencyKey must be a string', { path: 'idempotencyKey' });
        if (m.producerId !== undefined && typeof m.producerId !== 'string') throw new FenestraError('BAD_REQUEST', 'producerId must be a string', { path: 'producerId' });
        const r = await ingestBatch(ctx, source, m.events, {
          ...(m.idempotencyKey === undefined ? {} : { idempotencyKey: m.idempotencyKey }),
          ...(m.producerId === undefined ? {} : { producerId: m.producerId }),
          transport: 'ws',
        });
        send({ op: 'ack', id: m.id, ...r });
      };

      const onSubscribe = async (m: SubscribeMsg): Promise<void> => {
        if (typeof m.key !== 'string' || m.key === '') throw new FenestraError('BAD_REQUEST', 'key must be a non-empty string', { path: 'key' });
        const key = m.key;
        let refs: Map<string, string[]>;
        let label: { group: string } | { service: string };
        if (typeof m.service === 'string') {
          if (!ctx.engine.spec.services.has(m.service)) throw new FenestraError('UNKNOWN_SERVICE', `no feature service "${m.service}"`, { path: 'service' });
          refs = resolveRefs(ctx.engine.spec, [m.service], 'service');
          label = { service: m.service };
        } else if (typeof m.group === 'string') {
          if (!ctx.engine.spec.groups.has(m.group)) throw new FenestraError('UNKNOWN_GROUP', `no feature group "${m.group}"`, { path: 'group' });
          refs = resolveRefs(ctx.engine.spec, [`${m.group}:*`], 'group');
          label = { group: m.group };
        } else throw new FenestraError('BAD_REQUEST', 'subscribe needs group or service', { path: 'group' });
        const subId = `${'service' in label ? `s:${label.service}` : `g:${label.group}`}\0${key}`;
        if (m.op === 'unsubscribe') {
          unsubs.get(subId)?.();
          unsubs.delete(subId);
          send({ op: 'unsubscribed', id: m.id, ...label, key });
          return;
        }
        if (unsubs.has(subId)) return;
        const single = 'group' in label;
        let scheduled = false;
        let lastVersion = '';
        const push = async (): Promise<void> => {
          const features: Record<string, FeatureValue> = {};
          const versions: Record<string, number> = {};
          let asOf = Date.now();
          for (const [group, fs] of refs) {
            const r = await ctx.engine.read(group, key, { asOf, features: fs });
            asOf = r.asOf;
            versions[group] = r.version;
            for (const f of fs) features[single ? f : `${group}:${f}`] = r.values[f] ?? null;
          }
          const v = JSON.stringify(versions);
          if (v === lastVersion) return;
          lastVersion = v;
          send({ op: 'features', ...label, key, asOf, versions, features });
        };
        const onUpdate = (): void => {
          if (scheduled) return;
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            push().catch((e: unknown) => sendError(m.id, e));
          });
        };
        const offs = [...refs.keys()].map((g) => ctx.hub.subscribe(g, key, onUpdate));
        unsubs.set(subId, () => offs.forEach((o) => o()));
        send({ op: 'subscribed', id: m.id, ...label, key });
        await push();
      };

      socket.on('message', (data: Buffer) => {
        let m: unknown;
        try {
          m = JSON.parse(data.toString('utf8'));
        } catch (e) {
          sendError(undefined, new FenestraError('BAD_REQUEST', `message is not JSON: ${(e as Error).message}`));
          return;
        }
        if (typeof m !== 'object' || m === null || Array.isArray(m)) {
          sendError(undefined, new FenestraError('BAD_REQUEST', 'a message is a JSON object with "op"'));
          return;
        }
        const msg = m as { op?: unknown; id?: unknown };
        const run =
          msg.op === 'ingest'
            ? onIngest(msg as IngestMsg)
            : msg.op === 'subscribe' || msg.op === 'unsubscribe'
              ? onSubscribe(msg as SubscribeMsg)
              : Promise.reject(new FenestraError('BAD_REQUEST', `unknown op ${JSON.stringify(msg.op)} (ingest, subscribe, unsubscribe)`, { path: 'op' }));
        run.catch((e: unknown) => sendError(msg.id, e));
      });
      socket.on('close', () => {
        for (const off of unsubs.values()) off();
        unsubs.clear();
      });
    },
  });
}
