import { createServer } from 'node:net';

/**
 * A TCP port that is free on 127.0.0.1 right now (the OS picks it: listen on port 0, read it, close).
 * Another process may take it before the caller binds it; service starters retry with a new port
 * when their child fails to bind.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('freePort: the OS gave no port'))));
    });
  });
}
