import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FenestraError } from '../errors.js';

export const LOCK_NAME = 'LOCK';

/** Whether a process with this pid exists on this machine (EPERM: it exists, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process per checkpoint directory: `LOCK` holds the owner's pid. A lock left by a dead process
 * (a crash) or by this process is taken over; a lock held by another live process is refused with
 * STATE_LOCKED — two engines on one state directory would delete each other's files. (A stale lock
 * whose pid was reused by an unrelated process also refuses: delete the file after checking.)
 */
export function acquireDirLock(dir: string): () => void {
  const path = join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
      throw new FenestraError(
        'STATE_LOCKED',
        `state directory ${dir} is in use by process ${owner} (${path}); stop it, or delete the file if that process is not a Fenestra engine`,
        { path, details: { pid: owner } },
      );
    }
    try {
      unlinkSync(path); // stale: its owner died (or it is ours)
    } catch {
      // raced with another taker: the next attempt sorts it out
    }
  }
  throw new FenestraError('STATE_LOCKED', `could not take the lock ${path}`, { path });
}
