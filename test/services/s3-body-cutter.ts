/**
 * A fault-injecting HTTP proxy in front of a real S3-compatible server (s3rver): every request is
 * forwarded unchanged, and while `cutGets` is above zero each GET answer with a body is cut the way a
 * reset connection cuts it: the real status and headers (Content-Length included), half the body,
 * then the socket is destroyed. s3rver never does this on its own; real networks do.
 * Listens on a free port on 127.0.0.1.
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import { readBody } from './http-body.js';

export interface S3BodyCutter {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** GET answers still to cut (decremented per cut). */
  cutGets: number;
  /** GET answers cut so far. */
  readonly stats: { cut: number; forwarded: number };
  stop(): Promise<void>;
}


export async function startS3BodyCutter(target: string): Promise<S3BodyCutter> {
  const up = new URL(target);
  const state: S3BodyCutter = { endpoint: '', cutGets: 0, stats: { cut: 0, forwarded: 0 }, stop: async () => undefined };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
        const r = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, resolve);
        r.on('error', reject);
        r.end(body);
      });
      const answer = await readBody(upstream);
      state.stats.forwarded++;
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      if (req.method === 'GET' && state.cutGets > 0 && answer.length > 1) {
        state.cutGets--;
        state.stats.cut++;
        res.write(answer.subarray(0, answer.length >> 1), () => res.socket?.destroy());
        return;
      }
      res.end(answer);
    })().catch((e: unknown) => {
      res.writeHead(502).end(String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('S3 body cutter: no TCP address');
  return Object.assign(state, {
    endpoint: `http://127.0.0.1:${addr.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
