// Presentation-format fields of RDATA (RFC 1035 §5.1, RFC 3597 §5): a cursor over one
// entry's tokens that turns each field into wire bytes or reports exactly what is wrong.
import type { Token } from './lexer';
import { type Labels, parseName, unescapeBytes } from './names';

/** A field that does not parse; caught by the record parser and turned into a problem. */
export class FieldError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

/** Largest TTL: RFC 2181 §8 keeps the top bit clear. */
export const MAX_TTL = 0x7fffffff;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * A TTL in seconds: plain digits, or BIND-style units (`1h30m`, `1W2D`), case-insensitive.
 * Returns a problem message when malformed or above `max`.
 */
export function parseTtl(text: string, max = MAX_TTL): number | string {
  let seconds: number;
  if (/^\d+$/.test(text)) {
    seconds = Number(text);
  } else if (/^(\d+[smhdw])+$/i.test(text)) {
    seconds = 0;
    for (const [, n, unit] of text.matchAll(/(\d+)([smhdw])/gi)) seconds += Number(n) * UNIT_SECONDS[unit.toLowerCase()];
  } else {
    return `bad TTL "${text}"`;
  }
  if (seconds > max) return `TTL "${text}" is above ${max}`;
  return seconds;
}

export class Fields {
  private i = 0;

  constructor(
    private readonly tokens: Token[],
    /** The current $ORIGIN, for relative names in RDATA. */
    readonly origin: Labels,
    /** Line of the entry, for problems about missing fields. */
    readonly line: number,
  ) {}

  get remaining(): number {
    return this.tokens.length - this.i;
  }

  /** The next token; a missing one is an error naming the field. */
  next(what: string): Token {
    const tok = this.tokens[this.i];
    if (!tok) throw new FieldError(this.line, `missing ${what}`);
    this.i++;
    return tok;
  }

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  /** Everything left, for fields that run to the end (hex blobs, TXT strings). */
  rest(): Token[] {
    const out = this.tokens.slice(this.i);
    this.i = this.tokens.length;
    return out;
  }

  /** Tokens left over after the last field are an error, not silently dropped. */
  end(): void {
    const tok = this.tokens[this.i];
    if (tok) throw new FieldError(tok.line, `unexpected "${tok.text}" after the last field`);
  }

  uint(what: string, max: number): number {
    const tok = this.next(what);
    if (tok.quoted || !/^\d+$/.test(tok.text) || Number(tok.text) > max) {
      throw new FieldError(tok.line, `bad ${what} "${tok.text}": expected an integer 0..${max}`);
    }
    return Number(tok.text);
  }

  u8(what: string): Buffer {
    return Buffer.from([this.uint(what, 0xff)]);
  }

  u16(what: string): Buffer {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(this.uint(what, 0xffff));
    return b;
  }

  u32(what: string): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.uint(what, 0xffffffff));
    return b;
  }

  /** A 32-bit time field that also takes TTL units (SOA refresh, retry, expire, minimum). */
  seconds(what: string): Buffer {
    const tok = this.next(what);
    const v = tok.quoted ? `bad TTL "${tok.text}"` : parseTtl(tok.text, 0xffffffff);
    if (typeof v === 'string') throw new FieldError(tok.line, `bad ${what}: ${v}`);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return b;
  }

  name(what: string): Labels {
    const tok = this.next(what);
    if (tok.quoted) throw new FieldError(tok.line, `bad ${what} "${tok.text}": a domain name cannot be quoted`);
    const labels = parseName(tok.text, this.origin);
    if (typeof labels === 'string') throw new FieldError(tok.line, labels);
    return labels;
  }

  /** The token's bytes with escapes decoded, quoted or not. */
  bytes(tok: Token): Buffer {
    const b = unescapeBytes(tok.text);
    if (typeof b === 'string') throw new FieldError(tok.line, b);
    return b;
  }

  /** A <character-string>: length byte plus at most 255 bytes (RFC 1035 §3.3). */
  charString(what: string, tok: Token = this.next(what)): Buffer {
    const b = this.bytes(tok);
    if (b.length > 255) throw new FieldError(tok.line, `${what} longer than 255 bytes (${b.length}): split it into several quoted strings`);
    return Buffer.concat([Buffer.from([b.length]), b]);
  }

  /** Hex that may be split by blanks over the remaining tokens (RFC 4034 §5.3, RFC 6698 §2.2). */
  hexRest(what: string, allowEmpty = false): Buffer {
    const toks = this.rest();
    const hex = toks.map((t) => t.text).join('');
    const line = toks[0]?.line ?? this.line;
    if (hex === '' && !allowEmpty) throw new FieldError(line, `missing ${what}`);
    if (toks.some((t) => t.quoted) || !/^([0-9a-f]{2})*$/i.test(hex)) {
      throw new FieldError(line, `bad ${what} "${hex}": expected an even number of hex digits`);
    }
    return Buffer.from(hex, 'hex');
  }
}
