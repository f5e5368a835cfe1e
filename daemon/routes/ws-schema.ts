/**
 * The OpenAPI description of `GET /v1/ws`. OpenAPI 3.0 has no words for WebSocket messages, so the
 * message protocol is the operation's description (the same table as docs/API.md).
 */
import { errorResponse } from './schemas.js';

const description = `Upgrade to a WebSocket (\`Upgrade: websocket\`); every message either way is one JSON object.

| client sends | daemon answers |
|---|---|
| \`{"op":"ingest","id":7,"source":"tx_ws","events":[...],"idempotencyKey?":"...","producerId?":"..."}\` | \`{"op":"ack","id":7,"accepted","rejected":[{index,code,field,reason}],"duplicates","duplicate","position"}\` once the accepted events are durable |
| \`{"op":"subscribe","group":"cc_agg","key":"1248"}\` | \`{"op":"subscribed",...}\`, then \`{"op":"features","group","key","asOf","versions","features"}\` now and on every change |
| \`{"op":"subscribe","service":"fraud_model","key":"1248"}\` | the same, features named \`group:feature\` |
| \`{"op":"unsubscribe","group"|"service","key"}\` | \`{"op":"unsubscribed",...}\` |

Errors are \`{"op":"error","id","error":{"code","message","field?"}}\` and the connection stays open. A
message larger than \`server.bodyLimit\` closes the connection with status 1009 (message too big). After a
reconnect a client resends the messages it has no ack for; \`producerId\`+\`seq\` or \`idempotencyKey\` make
the resend count once.`;

export const wsSchema = {
  summary: 'WebSocket: ingest with durable acks; subscribe to feature updates',
  description,
  tags: ['ingest', 'features'],
  headers: {
    type: 'object',
    properties: {
      upgrade: { type: 'string', description: '`websocket`' },
      'sec-websocket-version': { type: 'string', description: '`13`' },
      'sec-websocket-key': { type: 'string' },
    },
  },
  response: {
    101: { description: 'Switching Protocols: the connection carries the JSON messages described above', type: 'null' },
    426: errorResponse('UPGRADE_REQUIRED: a plain GET without `Upgrade: websocket`'),
  },
} as const;
