/** ASCII upper case folded to lower (RFC 4343 §3: only ASCII letters fold). */
export const LOWER = new Uint8Array(256).map((_, i) => (i >= 0x41 && i <= 0x5a ? i + 0x20 : i));

const MIN_SLOTS = 4096;

/**
 * Names the decoder may meet often (pool names), by their wire bytes with ASCII case folded:
 * a hit gives the lookup key (query.ts) without building a string, so a pool answer allocates
 * nothing. Filled by whoever owns the names (the pool table) when they change, never from the
 * answer path, so a flood of other names cannot churn it. Open addressing, FNV-1a, at most
 * half full.
 */
export class NameTable {
  private keys = new Set<string>();
  private hashes = new Uint32Array(MIN_SLOTS);
  private bytes: Array<Buffer | undefined> = new Array<Buffer | undefined>(MIN_SLOTS).fill(undefined);
  private strings: string[] = new Array<string>(MIN_SLOTS).fill('');

  get size(): number {
    return this.keys.size;
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (this.keys.size * 2 > this.hashes.length) this.rebuild(this.hashes.length * 2);
    else this.insert(key);
  }

  delete(key: string): void {
    // Rare (a pool removed): rebuilding keeps probing free of tombstones.
    if (this.keys.delete(key)) this.rebuild(this.hashes.length);
  }

  /** The key of the name in buf[start, end) (wire labels without the root; h its foldedHash), or undefined. */
  find(buf: Buffer, start: number, end: number, h: number): string | undefined {
    const mask = this.hashes.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const known = this.bytes[slot];
      if (known === undefined) return undefined;
      if (this.hashes[slot] === h && sameFolded(known, buf, start, end)) return this.strings[slot];
    }
  }

  private insert(key: string): void {
    const b = Buffer.from(key, 'latin1');
    const h = foldedHash(b, 0, b.length);
    const mask = this.hashes.length - 1;
    let slot = h & mask;
    while (this.bytes[slot] !== undefined) slot = (slot + 1) & mask;
    this.hashes[slot] = h;
    this.bytes[slot] = b;
    this.strings[slot] = key;
  }

  private rebuild(slots: number): void {
    this.hashes = new Uint32Array(slots);
    this.bytes = new Array<Buffer | undefined>(slots).fill(undefined);
    this.strings = new Array<string>(slots).fill('');
    for (const key of this.keys) this.insert(key);
  }
}

/** FNV-1a of the folded bytes, cut to 30 bits so it stays a small integer (no heap number). */
export function foldedHash(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (LOWER[buf[i] as number] as number), 0x01000193);
  return h & 0x3fffffff;
}

function sameFolded(known: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== LOWER[buf[start + i] as number]) return false;
  return true;
}
