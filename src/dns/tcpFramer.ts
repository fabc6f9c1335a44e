/**
 * DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): each message is preceded by its
 * length as two bytes, big-endian. Bytes go in as they arrive, in chunks of any size;
 * complete messages come out in order. Pure: no sockets, no timers.
 *
 *   const f = new TcpFramer();
 *   f.push(chunk);
 *   for (let m = f.next(); m !== undefined; m = f.next()) answer(m);
 *   if (f.partial) …a message has begun and is not complete yet
 *
 * Every 16-bit length is a valid frame, so framing itself never fails: a length of 0 gives an
 * empty message and a short one a message too short for a DNS header; what to do with those
 * is the caller's decision. What it holds is bounded by what was pushed and not yet taken.
 */
export class TcpFramer {
  /** Unconsumed bytes start at `buf[off]`. */
  private buf: Buffer = EMPTY;
  private off = 0;

  /** Bytes held: of complete messages not taken yet, and of the one begun. */
  get bufferedBytes(): number {
    return this.buf.length - this.off;
  }

  /** Some bytes of a message (its length, or part of its body) have arrived, but not all. */
  get partial(): boolean {
    const held = this.buf.length - this.off;
    return held > 0 && (held < 2 || held < 2 + this.buf.readUInt16BE(this.off));
  }

  /** A complete message is waiting for next(). */
  get ready(): boolean {
    const held = this.buf.length - this.off;
    return held >= 2 && held >= 2 + this.buf.readUInt16BE(this.off);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const held = this.buf.length - this.off;
    if (held === 0) {
      this.buf = bytes;
    } else {
      const joined = Buffer.allocUnsafe(held + bytes.length);
      this.buf.copy(joined, 0, this.off);
      bytes.copy(joined, held);
      this.buf = joined;
    }
    this.off = 0;
  }

  /** The next complete message (a view of the bytes pushed, never written to), or undefined. */
  next(): Buffer | undefined {
    if (!this.ready) {
      this.compact();
      return undefined;
    }
    const len = this.buf.readUInt16BE(this.off);
    const start = this.off + 2;
    this.off = start + len;
    const msg = this.buf.subarray(start, this.off);
    if (this.off === this.buf.length) {
      this.buf = EMPTY;
      this.off = 0;
    }
    return msg;
  }

  /** Keep a small unconsumed tail in its own buffer, so it does not pin a large chunk. */
  private compact(): void {
    const held = this.buf.length - this.off;
    if (this.off > 0 && held < this.buf.length / 2) {
      this.buf = Buffer.from(this.buf.subarray(this.off));
      this.off = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
