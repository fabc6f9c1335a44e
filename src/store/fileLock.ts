import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { TierdnsError } from '../util/errors';
import { sleep } from './storeUtil';

// An exclusive lock file next to the store (`<path>.lock`), held only around one
// read-modify-write, so concurrent CLI processes and a running server never lose an update.
// O_EXCL creation is atomic on local filesystems. A holder that died leaves its lock behind:
// it is broken when its pid is gone (same host) or when it is older than STALE_MS.

/** A holder keeps the lock for milliseconds (read, write, fsync); 10 s means it is gone or stuck. */
const STALE_MS = 10_000;

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): { text: string; owner?: LockOwner } | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    try {
      const owner = JSON.parse(text) as LockOwner;
      return typeof owner.pid === 'number' ? { text, owner } : { text };
    } catch {
      return { text };
    }
  } catch {
    return undefined;
  }
}

export class FileLock {
  private nonce: string | undefined;

  constructor(readonly path: string, private readonly waitMs = 10_000) {}

  /** Wait for the lock; TIERDNS_E_STORE_UNREACHABLE after waitMs. */
  async acquire(): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      if (this.tryCreate()) return;
      if (this.breakIfStale()) continue;
      if (Date.now() > deadline) {
        const who = readOwner(this.path)?.owner;
        throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE',
          `file store lock ${this.path} held${who ? ` by pid ${who.pid} on ${who.host}` : ''} for over ${this.waitMs} ms`);
      }
      await sleep(3 + Math.random() * 12);
    }
  }

  private tryCreate(): boolean {
    const nonce = randomBytes(8).toString('hex');
    let fd: number;
    try {
      fd = openSync(this.path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `cannot create lock ${this.path}: ${(err as Error).message}`);
    }
    try {
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), nonce, atMs: Date.now() }));
    } finally {
      closeSync(fd);
    }
    this.nonce = nonce;
    return true;
  }

  /** True when a stale lock was removed (try again at once). */
  private breakIfStale(): boolean {
    const seen = readOwner(this.path);
    if (!seen) return true; // released meanwhile
    let ageMs: number;
    try {
      ageMs = Date.now() - statSync(this.path).mtimeMs;
    } catch {
      return true;
    }
    const o = seen.owner;
    const deadHolder = o !== undefined && o.host === hostname() && !alive(o.pid);
    // An empty lock is one being written this instant unless it is old.
    if (!deadHolder && ageMs < STALE_MS) return false;
    // Move it aside first, then check we moved the one we judged: a plain unlink could
    // remove a lock that a third process created a moment ago.
    const aside = `${this.path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      renameSync(this.path, aside);
    } catch {
      return true;
    }
    const moved = readOwner(aside);
    if (moved?.text !== seen.text) {
      // Not the stale lock: put it back unless someone holds a new one already.
      try {
        linkSync(aside, this.path);
      } catch {
        /* a newer lock exists; the one we moved belonged to a holder that is finishing */
      }
    }
    try {
      unlinkSync(aside);
    } catch {
      /* already gone */
    }
    return true;
  }

  release(): void {
    const nonce = this.nonce;
    this.nonce = undefined;
    if (!nonce) return;
    // Only remove our own lock: if ours was broken as stale, the file is someone else's now.
    if (readOwner(this.path)?.owner?.nonce !== nonce) return;
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
