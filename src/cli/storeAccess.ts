import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { TierdnsError } from '../util/errors';
import { openStore } from '../store/open';
import { parseStoreUrl } from '../store/url';
import type { Store } from '../store/types';
import { DEFAULT_STORE_URL, readEnvironment } from './config';

// How CLI commands reach the store: which URL (flag, env, default), whether a missing file
// store is an error, and the line that tells the operator which store a change went to.

/** Below the 3 s an operator waits for "store unreachable" (test/cli.test.js). */
const CLI_CONNECT_WAIT_MS = 2000;

export interface StoreFlags {
  store?: string;
  zones?: string;
}

/** The store a command uses, and where the URL came from (printed with changes). */
export interface StoreChoice {
  url: string;
  source: 'flag' | 'env' | 'default';
}

export function chooseStore(flags: StoreFlags): StoreChoice {
  if (flags.store !== undefined) return { url: flags.store, source: 'flag' };
  const env = readEnvironment().store;
  if (env !== undefined) return { url: env, source: 'env' };
  return { url: DEFAULT_STORE_URL, source: 'default' };
}

/** The store as an operator should read it: an absolute path for files, no password for Redis. */
export function describeStore(choice: StoreChoice, store: Store): string {
  const loc = parseStoreUrl(choice.url);
  const where = loc.kind === 'file' ? `file:${resolve(loc.path)}` : store.description;
  return choice.source === 'default' ? `${where} (the default: no --store given, TIERDNS_STORE unset)` : where;
}

/** Bad input gets one line (docs/cli.md); commander puts its "(Did you mean …?)" on a second. */
export function oneLineErrors(cmd: Command): Command {
  const inherited = cmd.configureOutput();
  const write = inherited.outputError ?? ((str: string, w: (s: string) => void): void => w(str));
  return cmd.configureOutput({ ...inherited, outputError: (str, w) => write(`${str.trimEnd().replace(/\s*\n\s*/g, ' ')}\n`, w) });
}

export function withStoreOptions(cmd: Command): Command {
  return oneLineErrors(cmd)
    .option('--store <url>', `store: file:PATH, redis://[user:pass@]host:port/db, rediss://…, redis-sentinel://host:port[,…]/master (env TIERDNS_STORE; default ${DEFAULT_STORE_URL})`)
    .option('--zones <dir>', 'zones directory; pool names must lie in a zone named by its *.zone files (default ./zones if present, else the zones running servers published)');
}

/** Store problems worth an operator's attention (malformed entries) as plain lines; the rest stays quiet. */
function cliLogger(): Logger {
  return pino({ level: 'warn' }, {
    write(line: string): void {
      try {
        const entry = JSON.parse(line) as { code?: string; msg?: string };
        if (entry.code === 'TIERDNS_E_STORE_DATA') process.stderr.write(`tierdns: warning: ${entry.msg ?? ''}\n`);
      } catch {
        /* not ours to print */
      }
    },
  });
}

/** Whether the store is a file that does not exist (commands that only read or edit refuse it). */
export function missingFileStore(choice: StoreChoice): string | undefined {
  const loc = parseStoreUrl(choice.url);
  if (loc.kind !== 'file' || existsSync(loc.path)) return undefined;
  return resolve(loc.path);
}

/**
 * Open the store, run, close. `create`: a file store that does not exist yet is created by the
 * first write (`pool set`, `apply`); every other command refuses it, so a wrong path or folder
 * says so instead of showing an empty store.
 */
export async function withStore<T>(
  flags: StoreFlags, run: (store: Store, choice: StoreChoice) => Promise<T>, opts: { create?: boolean } = {},
): Promise<T> {
  const choice = chooseStore(flags);
  const missing = opts.create ? undefined : missingFileStore(choice);
  if (missing !== undefined) {
    const why = choice.source === 'default' ? ` (no --store given and TIERDNS_STORE unset, so the default ${DEFAULT_STORE_URL} was used, relative to ${process.cwd()})` : '';
    throw new TierdnsError('TIERDNS_E_STORE_MISSING', `file store ${missing} does not exist${why}`);
  }
  const store = openStore(choice.url, { connectWaitMs: CLI_CONNECT_WAIT_MS, log: cliLogger(), prefix: readEnvironment().prefix, confirmOnReplica: true });
  try {
    return await run(store, choice);
  } finally {
    await store.close();
  }
}

/** The line every changing command ends with. */
export function storeLine(choice: StoreChoice, store: Store): string {
  return `store: ${describeStore(choice, store)}\n`;
}
