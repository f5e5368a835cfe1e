import WebSocket from 'ws';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class UnexpectedAnswer extends Error {}

/**
 * A WebSocket ingest client as DESIGN §4 expects one: it sends `{op:'ingest', id, ...}` and, when the
 * connection drops (or the daemon is down or still recovering) before the ack, reconnects and resends
 * the same message until it is acknowledged. Any answer other than an ack or NOT_READY is thrown.
 */
export class AckingWsClient {
  private ws: WebSocket | null = null;
  /** Messages sent more than once. */
  resends = 0;

  constructor(private readonly url: string) {}

  async deliver(msg: { readonly id: string | number } & Record<string, unknown>): Promise<any> {
    let sends = 0;
    for (;;) {
      try {
        const ws = await this.connection();
        if (sends++ === 1) this.resends++;
        const answer = await this.roundTrip(ws, msg);
        if (answer.op === 'ack') return answer;
        if (answer.op !== 'error' || answer.error?.code !== 'NOT_READY') throw new UnexpectedAnswer(JSON.stringify(answer));
      } catch (e) {
        if (e instanceof UnexpectedAnswer) throw e;
        this.drop();
      }
      await sleep(20);
    }
  }

  close(): void {
    this.drop();
  }

  private drop(): void {
    this.ws?.terminate();
    this.ws = null;
  }

  private connection(): Promise<WebSocket> {
    if (this.ws !== null && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
    this.drop();
    const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/v1/ws`);
    ws.on('error', () => undefined); // a refused or reset connection shows as close / a failed open
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('close', () => reject(new Error('connection closed before open')));
    });
  }

  /** Sends msg and resolves with the answer carrying its id; rejects when the connection closes first. */
  private roundTrip(ws: WebSocket, msg: { readonly id: string | number }): Promise<any> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('no answer in 10 s')), 10_000);
      const onMessage = (m: Buffer): void => {
        const a = JSON.parse(m.toString('utf8'));
        if (a.id === msg.id) done(null, a);
      };
      const onClose = (): void => done(new Error('connection closed before the ack'));
      const done = (err: Error | null, answer?: unknown): void => {
        clearTimeout(timer);
        ws.off('message', onMessage);
        ws.off('close', onClose);
        if (err) reject(err);
        else resolve(answer);
      };
      ws.on('message', onMessage);
      ws.once('close', onClose);
      ws.send(JSON.stringify(msg), (err) => {
        if (err) done(err);
      });
    });
  }
}
