/**
 * The Node side of bench/serving.ts that is not load: a keep-alive HTTP client, the preload of the
 * cards the reads hit, and the freshness measurement (sequential by nature: ingest one event, then
 * read until it shows).
 */
import { Agent, request } from 'node:http';
import * as hdr from 'hdr-histogram-js';

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export interface Res {
  readonly status: number;
  readonly body: string;
}

export function send(url: URL, method: string, body?: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function closeAgent(): void {
  agent.destroy();
}

/** `cards` cards × 20 payments over the last 9 minutes, visible before this returns. */
export async function preload(daemon: string, cards: number): Promise<void> {
  const now = Date.now();
  const url = new URL('/v1/ingest/transactions?wait=visible', daemon);
  for (let c = 0; c < cards; c += 50) {
    const events = [];
    for (let k = c; k < Math.min(cards, c + 50); k++) for (let j = 0; j < 20; j++) events.push({ cc_num: `card-${k}`, amount: 10 + ((k * 31 + j * 7) % 490), trans_time: now - 540_000 + j * 27_000 });
    const r = await send(url, 'POST', JSON.stringify(events));
    if (r.status !== 200) throw new Error(`preload failed: ${r.status} ${r.body}`);
  }
}

export interface Freshness {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly samples: number;
  /** Share of samples whose first read after the 200 already showed the event. */
  readonly visibleAtFirstRead: number;
}

/** Ingests one event for a fresh card, then from its 200 answer reads until the value shows (ms). */
export async function measureFreshness(daemon: string, samples: number): Promise<Freshness> {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let firstReadHits = 0;
  const ingestUrl = new URL('/v1/ingest/transactions', daemon);
  for (let i = 0; i < samples; i++) {
    const card = `fresh-${i}`;
    const r = await send(ingestUrl, 'POST', JSON.stringify({ cc_num: card, amount: 42, trans_time: Date.now() }));
    if (r.status !== 200) throw new Error(`ingest failed: ${r.body}`);
    const accepted = process.hrtime.bigint();
    const readUrl = new URL(`/v1/features/cc_agg/${card}?features=num_trans_last_10m`, daemon);
    for (let attempt = 0; ; attempt++) {
      const g = JSON.parse((await send(readUrl, 'GET')).body) as { features: { num_trans_last_10m: number } };
      if (g.features.num_trans_last_10m === 1) {
        if (attempt === 0) firstReadHits++;
        h.recordValue(Math.max(1, Math.round(Number(process.hrtime.bigint() - accepted) / 1000)));
        break;
      }
      if (attempt > 10_000) throw new Error('value never became readable');
    }
  }
  const ms = (us: number): number => Math.round(us) / 1000;
  return { p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), max: ms(h.maxValue), samples: h.totalCount, visibleAtFirstRead: firstReadHits / samples };
}
