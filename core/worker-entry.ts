import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running module `name` (without extension) beside `base` (the caller's
 * `import.meta.url`): the built `.js` file, or, when running from TypeScript sources (tsx, tests),
 * the `.ts` file with tsx registered in the worker before it is loaded.
 */
export function startWorker(name: string, base: string, options: WorkerOptions): Worker {
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./${name}${ext}`, base);
  return ext === '.ts'
    ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`, { ...options, eval: true })
    : new Worker(entry, options);
}
