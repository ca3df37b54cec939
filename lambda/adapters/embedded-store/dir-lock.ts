/**
 * One process at a time per store directory. The lock is a file created atomically (written
 * aside, then hard-linked into place, so it is never seen half-written) naming its holder. A lock
 * whose holder process is gone on this host is stale and taken over; any other is "in use" (after
 * waiting `waitMs` for it to go away).
 */
import { hostname } from 'node:os';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreInUseError } from '../../errors.js';

export const LOCK_FILE = 'labelguard.lock';

export interface DirLock {
  readonly file: string;
  release(): Promise<void>;
}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly token: string;
}

export interface DirLockOptions {
  /** How long to wait for a live holder to let go before StoreInUseError. Default 0. */
  readonly waitMs?: number;
  /** Pause between attempts while waiting. Default 100 ms. */
  readonly pollMs?: number;
  readonly pid?: number;
  readonly host?: string;
  /** Is a process alive on this host? (Injectable for tests.) */
  readonly isAlive?: (pid: number) => boolean;
  readonly now?: () => Date;
}

export async function acquireDirLock(dir: string, options: DirLockOptions = {}): Promise<DirLock> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const me: Holder = {
    pid: options.pid ?? process.pid,
    host: options.host ?? hostname(),
    since: (options.now?.() ?? new Date()).toISOString(),
    token: `${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
  };
  const isAlive = options.isAlive ?? processAlive;
  const waitUntil = performance.now() + (options.waitMs ?? 0);
  const aside = join(dir, `.${LOCK_FILE}.${me.pid}.${me.token}`);
  await writeFile(aside, `${JSON.stringify(me)}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; ;) {
      try {
        await link(aside, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = await readHolder(file);
      if (holder === undefined) continue; // released meanwhile: try again
      const stale = holder !== null && holder.host === me.host && !isAlive(holder.pid);
      if (!stale || attempt >= 3) {
        if (performance.now() < waitUntil) {
          await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
          continue;
        }
        throw new StoreInUseError(
          dir,
          holder === null ? 'unknown holder' : `pid ${holder.pid} on ${holder.host} since ${holder.since}`,
        );
      }
      // The holder died without releasing: remove its lock, unless someone else already replaced it.
      attempt++;
      const again = await readHolder(file);
      if (again !== undefined && again !== null && again.token === holder.token)
        await unlink(file).catch(ignoreMissing);
    }
  } finally {
    await unlink(aside).catch(ignoreMissing);
  }

  let released = false;
  return {
    file,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      const holder = await readHolder(file);
      if (holder !== undefined && holder !== null && holder.token === me.token) await unlink(file).catch(ignoreMissing);
    },
  };
}

/** The holder, null when the file is unreadable as one, undefined when there is no lock. */
async function readHolder(file: string): Promise<Holder | null | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string'
      ? (value as Holder)
      : null;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}
