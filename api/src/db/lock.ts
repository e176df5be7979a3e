import fs from 'node:fs';
import path from 'node:path';

import { StartupError } from './startup-error.js';

export class DataDirInUseError extends StartupError {}

/** Lock files this process holds. */
const held = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock on a PGlite data directory. PGlite has no lock of its own, and two processes
 * writing one directory corrupt it, so a second server must refuse to start. The lock file holds the
 * owner's pid; a lock left by a process that no longer runs (after a crash or SIGKILL) is taken over.
 */
export function lockDataDir(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'dramac.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // Write the pid first, then link it into place: the lock file never exists without its pid.
      const claim = `${file}.${process.pid}`;
      fs.writeFileSync(claim, String(process.pid));
      try {
        fs.linkSync(claim, file);
      } finally {
        fs.rmSync(claim, { force: true });
      }
      held.add(file);
      return () => {
        held.delete(file);
        fs.rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(fs.readFileSync(file, 'utf8'));
      // Our own pid in a lock we do not hold was left by an earlier process: in a container the server gets
      // the same pid on every start, so after a crash that lock must not look held.
      const leftByEarlierSelf = owner === process.pid && !held.has(file);
      if (Number.isInteger(owner) && owner > 0 && !leftByEarlierSelf && isAlive(owner)) {
        throw new DataDirInUseError(
          `The data directory ${dir} is in use by another Dramac process (pid ${owner}). ` +
            'Stop that process, or set DATA_DIR to another directory.',
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new DataDirInUseError(`Could not lock the data directory ${dir}; another process keeps taking it.`);
}
