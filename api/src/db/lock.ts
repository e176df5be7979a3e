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

/** The pid a lock file holds (0 when unreadable as one), or null when the file is gone. */
function readOwner(file: string): number | null {
  try {
    const owner = Number(fs.readFileSync(file, 'utf8'));
    return Number.isInteger(owner) ? owner : 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

const inUse = (dir: string, pid: number) =>
  new DataDirInUseError(
    `The data directory ${dir} is in use by another Dramac process (pid ${pid}). ` +
      'Stop that process, or set DATA_DIR to another directory.',
  );

/**
 * Takes an exclusive lock on a PGlite data directory. PGlite has no lock of its own, and two processes
 * writing one directory corrupt it, so a second server must refuse to start. The lock file holds the
 * owner's pid; a lock left by a process that no longer runs (after a crash or SIGKILL) is taken over.
 */
export function lockDataDir(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'dramac.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
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
      const owner = readOwner(file);
      if (owner === null) continue; // released meanwhile: try again
      // Our own pid in a lock we do not hold was left by an earlier process: in a container the server gets
      // the same pid on every start, so after a crash that lock must not look held.
      const leftByEarlierSelf = owner === process.pid && !held.has(file);
      if (owner > 0 && !leftByEarlierSelf && isAlive(owner)) throw inUse(dir, owner);
      // Stale. Move it aside atomically, then check that what moved is the stale lock: of two processes
      // taking it over at once, the one that moved a fresh lock instead puts it back and gives way.
      const aside = `${file}.stale.${process.pid}`;
      try {
        fs.renameSync(file, aside);
      } catch (renameError) {
        if ((renameError as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw renameError;
      }
      const moved = readOwner(aside);
      if (moved !== owner) {
        try {
          fs.linkSync(aside, file);
        } finally {
          fs.rmSync(aside, { force: true });
        }
        throw inUse(dir, moved ?? owner);
      }
      fs.rmSync(aside, { force: true });
    }
  }
  throw new DataDirInUseError(`Could not lock the data directory ${dir}; another process keeps taking it.`);
}
