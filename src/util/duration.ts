import { TierdnsError } from './errors';

// Durations as operators type them (docs/cli.md): "500ms", "2s", "1m", "1h", "1m30s", "1.5s".
// A bare number is read in `bareUnit` (seconds unless the caller says otherwise), so
// `--interval 2` means two seconds, the way people say it.

export type DurationUnit = 'ms' | 's' | 'm' | 'h';

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/** Milliseconds (an integer) from duration text; throws TIERDNS_E_BAD_DURATION when malformed. */
export function parseDuration(text: string, bareUnit: DurationUnit = 's', what = 'duration'): number {
  const s = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) return toWholeMs(Number(s) * UNIT_MS[bareUnit], text, what);
  if (s === '') throw bad(text, what);
  let total = 0;
  let pos = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(s); m; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2] as DurationUnit];
    pos = PART.lastIndex;
  }
  if (pos !== s.length) throw bad(text, what);
  return toWholeMs(total, text, what);
}

function toWholeMs(ms: number, text: string, what: string): number {
  // Sub-millisecond precision would be silently lost by every timer; say so instead.
  if (!Number.isFinite(ms) || Math.abs(ms - Math.round(ms)) > 1e-6) throw bad(text, what);
  if (ms > Number.MAX_SAFE_INTEGER) throw bad(text, what);
  return Math.round(ms);
}

function bad(text: string, what: string): TierdnsError {
  return new TierdnsError(
    'TIERDNS_E_BAD_DURATION',
    `${what}: '${text}' is not a duration (use e.g. 500ms, 2s, 1m, 1h; whole milliseconds)`,
  );
}

/** Compact human form: 950ms, 2s, 1.5s, 3m12s, 2h5m, 3d4h. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const neg = ms < 0 ? '-' : '';
  let v = Math.abs(Math.round(ms));
  if (v < 1000) return `${neg}${v}ms`;
  if (v < 60_000) {
    const s = v / 1000;
    return `${neg}${Number.isInteger(s) ? s : s.toFixed(1).replace(/\.0$/, '')}s`;
  }
  v = Math.floor(v / 1000);
  const units: Array<[string, number]> = [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]];
  const parts: string[] = [];
  for (const [name, size] of units) {
    if (v >= size) {
      parts.push(`${Math.floor(v / size)}${name}`);
      v %= size;
    }
    // Two units are enough to read at a glance.
    if (parts.length === 2) break;
  }
  return neg + parts.join('');
}

/** Duration text that parseDuration reads back to exactly `ms`: 500ms, 2s, 1.5s, 1m30s, 1h. */
export function exactDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000 || (ms < 60_000 && ms % 1000 !== 0)) return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
  let rest = ms;
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}
