import type { IncomingMessage } from 'node:http';

/** The whole body of an HTTP request or answer (for the fault-injecting proxies in front of real services). */
export function readBody(m: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    m.on('data', (c: Buffer) => chunks.push(c));
    m.on('end', () => resolve(Buffer.concat(chunks)));
    m.on('error', reject);
  });
}
