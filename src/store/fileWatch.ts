import { watch as fsWatch, statSync, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../util/errors';
import { readHead } from './fileDoc';
import type { StoreChange } from './types';

// Change notifications for the file store: fs.watch on the directory (writes replace the
// file by rename, so watching the file itself would lose it after the first write) plus a
// poll of (inode, size, mtime) because fs.watch misses events on network and some container
// filesystems. Each change reads only the head of the file to learn which pools changed.

/** The head holds seq and the list of recent changes; more than this means "re-read everything". */
const HEAD_BYTES = 64 * 1024;
/** Coalesce the burst of events one rename produces. */
const DEBOUNCE_MS = 10;

/** What identifies a version of the file (writes replace it by rename); undefined when absent. */
export function statKey(path: string): string | undefined {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return undefined;
  }
}

async function readHeadOf(path: string): Promise<ReturnType<typeof readHead> | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null; // absent: an empty store
  }
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return readHead(buf.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await fh.close();
  }
}

/** The seq in the file's head now (0 when absent), or null when it cannot be read. */
export async function readHeadSeq(path: string): Promise<number | null> {
  try {
    const head = await readHeadOf(path);
    return head === null ? 0 : head?.seq ?? null;
  } catch {
    return null;
  }
}

export interface FileWatch {
  stop(): void;
  /** The last seq this watch reported changes up to. */
  seenSeq(): number;
  /** How often the file changed without a new seq (an edit by hand, say): nothing was reported for those. */
  silentEdits(): number;
}

/** Start watching; resolves once the starting point is known. */
export async function watchFile(
  path: string, pollMs: number, onChange: (change: StoreChange) => void, log: Logger,
): Promise<FileWatch> {
  const name = basename(path);
  let lastKey = statKey(path);
  const first = await readHeadOf(path);
  let lastSeq = first ? first.seq : 0;
  let silent = 0;
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  let again = false;
  let stopped = false;

  const emit = (change: StoreChange): void => {
    try {
      onChange(change);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'store: change listener threw');
    }
  };

  const check = async (): Promise<void> => {
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      const key = statKey(path);
      if (key === lastKey) return;
      lastKey = key;
      const head = await readHeadOf(path);
      if (head === null) {
        if (lastSeq !== 0) emit({ kind: 'all' });
        lastSeq = 0;
        return;
      }
      if (head === undefined) {
        emit({ kind: 'all' });
        return;
      }
      if (head.seq === lastSeq) {
        silent++;
        return;
      }
      const from = lastSeq;
      lastSeq = head.seq;
      const covering = head.recent.filter((r) => r.seq > from && r.seq <= head.seq);
      // A gap (or a file replaced by an older copy) means we cannot know what changed.
      if (head.seq < from || covering.length !== head.seq - from || covering.some((r) => r.pools.includes('*'))) {
        emit({ kind: 'all' });
        return;
      }
      for (const pool of new Set(covering.flatMap((r) => r.pools))) emit({ kind: 'pool', name: pool });
    } catch (err) {
      log.warn({ err: errorMessage(err), store: `file:${path}` }, 'store: checking the file for changes failed');
    } finally {
      checking = false;
      if (again && !stopped) {
        again = false;
        schedule();
      }
    }
  };

  const schedule = (): void => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, DEBOUNCE_MS);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = fsWatch(dirname(path), { persistent: false }, (_event, filename) => {
      if (!filename || filename === name) schedule();
    });
    watcher.on('error', (err) => log.warn({ err: errorMessage(err) }, 'store: fs.watch failed; polling only'));
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'store: fs.watch unavailable; polling only');
  }
  const poll = setInterval(schedule, pollMs);
  poll.unref();

  const stop = (): void => {
    stopped = true;
    watcher?.close();
    clearInterval(poll);
    if (timer) clearTimeout(timer);
  };
  return { stop, seenSeq: () => lastSeq, silentEdits: () => silent };
}
