import type { FastifyInstance } from 'fastify';
import type { Rejection } from '../../core/runtime/api.js';
import type { AppendResult, PushSource } from '../../adapters/sources/push/push-source.js';
import { fail, errorBody } from '../errors.js';
import { ERROR_CODES, type ErrorCode } from '../../core/errors.js';
import { eventsOf, NdjsonBadLine } from '../ingest-body.js';
import type { DaemonContext } from '../context.js';
import { errorResponse, errorSchema } from './schemas.js';

export interface IngestAnswer extends AppendResult {
  /** With `?wait=visible`: whether the features reflected the events before the wait timed out. */
  readonly visible?: boolean;
}

/**
 * Appends a batch to a push source: NDJSON lines that were not JSON become EVENT_MALFORMED
 * rejections of their index; everything else is validated by the source. Shared by HTTP and WebSocket.
 */
export async function ingestBatch(
  ctx: DaemonContext,
  source: PushSource,
  events: readonly unknown[],
  opts: { idempotencyKey?: string; producerId?: string; waitVisible?: boolean; transport: 'http' | 'ws' },
): Promise<IngestAnswer> {
  const bad: Rejection[] = [];
  const good: unknown[] = [];
  const indexOf: number[] = [];
  events.forEach((e, i) => {
    if (e instanceof NdjsonBadLine) bad.push({ index: i, code: 'EVENT_MALFORMED', reason: `line ${e.line} is not JSON: ${e.reason}` });
    else {
      good.push(e);
      indexOf.push(i);
    }
  });
  const r = await source.append(good, {
    ...(opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey }),
    ...(opts.producerId === undefined ? {} : { producerId: opts.producerId }),
  });
  const rejected = bad.length === 0 ? r.rejected : [...bad, ...r.rejected.map((x) => ({ ...x, index: indexOf[x.index!]! }))].sort((a, b) => a.index! - b.index!);
  const m = ctx.metrics;
  m.ingestRequests.inc({ source: source.name, transport: opts.transport });
  if (!r.duplicate) {
    if (r.accepted > 0) m.ingestEvents.inc({ source: source.name, outcome: 'accepted' }, r.accepted);
    if (rejected.length > 0) m.ingestEvents.inc({ source: source.name, outcome: 'rejected' }, rejected.length);
    if (r.duplicates > 0) m.ingestEvents.inc({ source: source.name, outcome: 'duplicate' }, r.duplicates);
  } else m.ingestEvents.inc({ source: source.name, outcome: 'duplicate' }, r.accepted);
  const answer: AppendResult = { ...r, rejected };
  if (!opts.waitVisible) return answer;
  let timer: NodeJS.Timeout | undefined;
  const visible = await Promise.race([
    source.waitVisible(r.position).then(() => true),
    new Promise<boolean>((res) => {
      timer = setTimeout(() => res(false), ctx.visibleTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  return { ...answer, visible };
}

const rejectionSchema = {
  type: 'object',
  properties: { index: { type: 'integer' }, code: { type: 'string' }, field: { type: 'string' }, reason: { type: 'string' } },
} as const;

/** `POST /v1/ingest/:source`: JSON object, JSON array, or NDJSON; Idempotency-Key; producerId+seq; `?wait=visible`. */
export function ingestRoutes(app: FastifyInstance, ctx: DaemonContext): void {
  app.post<{ Params: { source: string }; Querystring: { wait?: string } }>(
    '/v1/ingest/:source',
    {
      schema: {
        summary: 'Push events to an http/websocket source; answered once the accepted ones are durable',
        tags: ['ingest'],
        params: { type: 'object', properties: { source: { type: 'string' } }, required: ['source'] },
        querystring: { type: 'object', properties: { wait: { type: 'string', enum: ['visible', 'durable'] } } },
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': { type: 'string', maxLength: 256, description: 'A retried batch with the same key is answered again and counted once' },
            'x-producer-id': { type: 'string', description: 'Producer id for events that carry only `seq`' },
          },
        },
        response: {
          200: {
            type: 'object',
            description: 'Accepted events are durable; rejected ones are listed by index',
            properties: {
              accepted: { type: 'integer' },
              rejected: { type: 'array', items: rejectionSchema },
              duplicates: { type: 'integer', description: 'Events dropped as producer-sequence duplicates' },
              duplicate: { type: 'boolean', description: 'The whole batch was a retry of an acknowledged Idempotency-Key' },
              position: { type: 'integer' },
              visible: { type: 'boolean' },
            },
          },
          400: {
            type: 'object',
            description: 'BAD_REQUEST (malformed JSON), or every event rejected: error.code is the first rejection\'s code',
            properties: { ...errorSchema.properties, rejected: { type: 'array', items: rejectionSchema } },
            required: ['error'],
          },
          404: errorResponse('UNKNOWN_SOURCE'),
          413: errorResponse('PAYLOAD_TOO_LARGE: the body exceeds server.bodyLimit'),
          415: errorResponse('UNSUPPORTED_MEDIA_TYPE: not JSON or NDJSON'),
          503: errorResponse('NOT_READY: the source is not open yet (recovering)'),
        },
      },
    },
    async (req, reply) => {
      const source = ctx.pushSources.get(req.params.source);
      if (source === undefined) fail('UNKNOWN_SOURCE', `no push source "${req.params.source}" (sources of type http or websocket accept pushes)`, 'source');
      if (!source.isOpen()) fail('NOT_READY', `source "${req.params.source}" is not open yet (recovering)`);
      const key = req.headers['idempotency-key'];
      const producer = req.headers['x-producer-id'];
      const events = eventsOf(req.body);
      const answer = await ingestBatch(ctx, source, events, {
        ...(typeof key === 'string' && key !== '' ? { idempotencyKey: key } : {}),
        ...(typeof producer === 'string' && producer !== '' ? { producerId: producer } : {}),
        waitVisible: req.query.wait === 'visible',
        transport: 'http',
      });
      if (events.length > 0 && answer.accepted === 0 && answer.duplicates === 0 && !answer.duplicate && answer.rejected.length > 0) {
        const first = answer.rejected[0]!;
        return reply.code(400).send({
          ...errorBody(first.code in ERROR_CODES ? (first.code as ErrorCode) : 'BAD_REQUEST', `every event was rejected; first: event ${first.index}: ${first.reason}`, first.field),
          rejected: answer.rejected,
        });
      }
      return answer;
    },
  );
}
