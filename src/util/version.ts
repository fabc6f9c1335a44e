import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** This package's version, from its package.json (dist/util/ → ../../package.json). */
export function tierdnsVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
