import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { TierdnsError, errorMessage } from '../util/errors';
import { openStore } from '../store/open';
import { normalizePoolName } from '../model/names';
import { LIMITS } from '../model/poolConfig';
import type { PoolConfig } from '../model/types';
import type { Store } from '../store/types';
import {
  bad, checkBackup, mergePoolConfig, parseIntIn, parseMemberIp, parsePoolFlags, precheck, type PoolSetFlags,
} from './options';
import { DEFAULT_STORE_URL, readEnvironment } from './config';
import { checkPoolName } from './poolNameCheck';
import { poolJson, renderPoolList, renderStatus, statusJson } from './storeStatus';

// `tierdns pool …`, `tierdns member …` and `tierdns status` (docs/cli.md). Every input is
// validated before the store is touched; every change is one atomic store operation.

/** Below the 3 s an operator waits for "store unreachable" (test/cli.test.js). */
const CLI_CONNECT_WAIT_MS = 2000;

export interface StoreFlags {
  store?: string;
  zones?: string;
}

/** Bad input gets one line (docs/cli.md); commander puts its "(Did you mean …?)" on a second. */
function oneLineErrors(cmd: Command): Command {
  const inherited = cmd.configureOutput();
  const write = inherited.outputError ?? ((str: string, w: (s: string) => void): void => w(str));
  return cmd.configureOutput({ ...inherited, outputError: (str, w) => write(`${str.trimEnd().replace(/\s*\n\s*/g, ' ')}\n`, w) });
}

function withStoreOptions(cmd: Command): Command {
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

async function withStore<T>(flags: StoreFlags, run: (store: Store) => Promise<T>): Promise<T> {
  const env = readEnvironment();
  const url = flags.store ?? env.store ?? DEFAULT_STORE_URL;
  const store = openStore(url, { connectWaitMs: CLI_CONNECT_WAIT_MS, log: cliLogger(), prefix: env.prefix });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

function registerPool(program: Command): void {
  const pool = oneLineErrors(program.command('pool').description('create, change, remove and list pools'));
  withStoreOptions(pool.command('set <name>'))
    .description('create a pool, or change the given settings of an existing one')
    .option('--ttl <duration>', 'answer TTL, whole seconds 0..86400 (bare number = seconds; default 20s)')
    .option('--check <kind>', 'probe kind: none|tcp|http|https|ws (default tcp)')
    .option('--port <n>', 'probe port 1..65535 for members without one (default 80; 443 for https)')
    .option('--path <path>', 'http/https/ws request path (default /)')
    .option('--host <host>', "Host header for http/https/ws (default the member's IP; '' removes it)")
    .option('--expect <range>', 'accepted HTTP status or range within 100-599, e.g. 200-399 or 204 (default 200-399)')
    .option('--interval <duration>', 'probe period 100ms..10m, bare number = seconds (default 2s)')
    .option('--fast-interval <duration>', 're-probe period while results disagree with the verdict, 50ms..interval (default interval/4)')
    .option('--timeout <duration>', 'probe timeout, 10ms and below the interval (default 1s)')
    .option('--rise <n>', 'consecutive successes to go up, 1..100 (default 2)')
    .option('--fall <n>', 'consecutive failures to go down, 1..100 (default 3)')
    .option('--max-answers <n>', 'records per answer 0..64, 0 = every candidate (default 0)')
    .option('--when-all-down <mode>', 'no member up: all (answer every enabled member) | none (NODATA) | pool:<name> (default all)')
    .action(async (rawName: string, flags: PoolSetFlags) => {
      const name = normalizePoolName(rawName, 'pool name');
      const patch = parsePoolFlags(flags);
      precheck(name, patch);
      await withStore(flags, async (store) => {
        await checkPoolName(name, flags.zones, store);
        const target = patch.whenAllDown?.startsWith('pool:') ? patch.whenAllDown.slice(5) : undefined;
        if (target !== undefined && target !== name) await checkBackup(store, name, target);
        let before: PoolConfig | undefined;
        const update = (current: PoolConfig | undefined): PoolConfig => {
          before = current;
          return mergePoolConfig(name, current, patch);
        };
        const after = await store.updatePool(name, update);
        const what = !before ? 'created' : JSON.stringify(before) === JSON.stringify(after) ? 'unchanged' : 'updated';
        process.stdout.write(`pool ${name} ${what}\n`);
      });
    });
  withStoreOptions(pool.command('rm <name>'))
    .description('remove a pool with its members')
    .action(async (rawName: string, flags: StoreFlags) => {
      const name = normalizePoolName(rawName, 'pool name');
      await withStore(flags, async (store) => {
        const snap = await store.snapshot();
        const users = [...snap.pools.values()].filter((v) => v.config.whenAllDown === `pool:${name}`).map((v) => v.config.name);
        if (users.length > 0) throw bad('pool rm', `${name}: it is the --when-all-down backup of ${users.join(', ')}; change ${users.length > 1 ? 'those' : 'that'} first`);
        if (!(await store.removePool(name))) throw new TierdnsError('TIERDNS_E_NO_POOL', `no pool named ${name}`);
        process.stdout.write(`pool ${name} removed\n`);
      });
    });
  withStoreOptions(pool.command('ls'))
    .description('list pools')
    .option('--json', 'print JSON: {"pools":[config…]}')
    .action(async (flags: StoreFlags & { json?: boolean }) => {
      await withStore(flags, async (store) => {
        const snap = await store.snapshot();
        if (flags.json) {
          const pools = [...snap.pools.values()].map((v) => ({ ...poolJson(v.config), memberCount: v.members.length }));
          process.stdout.write(`${JSON.stringify({ pools })}\n`);
        } else {
          process.stdout.write(renderPoolList(snap));
        }
      });
    });
}

function registerMember(program: Command): void {
  const member = oneLineErrors(program.command('member').description('add, remove, drain and undrain pool members'));
  withStoreOptions(member.command('add <pool> <ip>'))
    .description('add a member, or change the weight/port of an existing one (admin state kept)')
    .option('--weight <n>', 'share of first places in answers, 1..1000 (default 1; an existing member keeps its own)')
    .option('--port <n>', "probe port 1..65535 (default the pool's)")
    .action(async (rawPool: string, rawIp: string, flags: StoreFlags & { weight?: string; port?: string }) => {
      const pool = normalizePoolName(rawPool, 'pool name');
      const ip = parseMemberIp(rawIp);
      const weight = flags.weight === undefined ? undefined : parseIntIn(flags.weight, '--weight', LIMITS.weight.min, LIMITS.weight.max);
      const port = flags.port === undefined ? undefined : parseIntIn(flags.port, '--port', LIMITS.port.min, LIMITS.port.max);
      await withStore(flags, async (store) => {
        // One atomic step: what is not given (weight, port, admin state) stays as stored.
        const update = await store.updateMember(pool, ip, { weight, port, create: true }).catch((err: unknown) => {
          throw err instanceof TierdnsError && err.code === 'TIERDNS_E_NO_POOL'
            ? new TierdnsError('TIERDNS_E_NO_POOL', `no pool named ${pool} (create it with: tierdns pool set ${pool})`)
            : err;
        });
        process.stdout.write(`member ${ip} ${update.before ? 'updated in' : 'added to'} ${pool}\n`);
      });
    });
  withStoreOptions(member.command('rm <pool> <ip>'))
    .description('remove a member')
    .action(async (rawPool: string, rawIp: string, flags: StoreFlags) => {
      const pool = normalizePoolName(rawPool, 'pool name');
      const ip = parseMemberIp(rawIp);
      await withStore(flags, async (store) => {
        if (!(await store.removeMember(pool, ip))) throw new TierdnsError('TIERDNS_E_NO_MEMBER', `pool ${pool} has no member ${ip}`);
        process.stdout.write(`member ${ip} removed from ${pool}\n`);
      });
    });
  for (const [verb, admin, help] of [
    ['drain', 'drained', 'stop handing out a member (it keeps being probed)'],
    ['undrain', 'enabled', 'hand out a drained member again'],
  ] as const) {
    withStoreOptions(member.command(`${verb} <pool> <ip>`))
      .description(help)
      .action(async (rawPool: string, rawIp: string, flags: StoreFlags) => {
        const pool = normalizePoolName(rawPool, 'pool name');
        const ip = parseMemberIp(rawIp);
        await withStore(flags, async (store) => {
          await store.updateMember(pool, ip, { admin });
          process.stdout.write(`member ${ip} of ${pool} ${admin}\n`);
        });
      });
  }
}

function registerStatus(program: Command): void {
  withStoreOptions(program.command('status [pool]'))
    .description('show pools, members, verdicts and what every instance observes')
    .option('--json', 'print JSON: {"pools":[{…,"members":[…]}],"instances":[…],"zones":[…]} (with --watch: one line per second)')
    .option('--watch', 'redraw every second until Ctrl-C')
    .action(async (rawPool: string | undefined, flags: StoreFlags & { json?: boolean; watch?: boolean }) => {
      const only = rawPool === undefined ? undefined : normalizePoolName(rawPool, 'pool name');
      await withStore(flags, async (store) => {
        const render = async (): Promise<string> => {
          const snap = await store.snapshot();
          const now = Date.now();
          if (only !== undefined && !snap.pools.has(only)) throw new TierdnsError('TIERDNS_E_NO_POOL', `no pool named ${only}`);
          const s = statusJson(snap, now, only);
          return flags.json ? `${JSON.stringify(s)}\n` : renderStatus(s, now);
        };
        if (!flags.watch) {
          process.stdout.write(await render());
          return;
        }
        await watchLoop(store, render, flags.json === true);
      });
    });
}

/** Redraw every second until SIGINT/SIGTERM; store errors are shown, not fatal. */
async function watchLoop(store: Store, render: () => Promise<string>, json: boolean): Promise<void> {
  let stop = false;
  let wake: () => void = () => undefined;
  const onSignal = (): void => {
    stop = true;
    wake();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop) {
      let text: string;
      try {
        text = await render();
      } catch (err) {
        text = json ? `${JSON.stringify({ error: errorMessage(err) })}\n` : `tierdns: ${errorMessage(err)}\n`;
      }
      const header = `tierdns status  ${store.description}  ${new Date().toISOString()}  (Ctrl-C to quit)\n\n`;
      process.stdout.write(json ? text : `\x1b[H\x1b[2J${header}${text}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 1000);
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerStoreCommands(program: Command): void {
  registerPool(program);
  registerMember(program);
  registerStatus(program);
}
