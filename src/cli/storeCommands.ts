import type { Command } from 'commander';
import { formatDuration } from '../util/duration';
import { TierdnsError } from '../util/errors';
import { normalizePoolName } from '../model/names';
import { LIMITS } from '../model/poolConfig';
import type { PoolConfig } from '../model/types';
import {
  bad, checkBackup, mergePoolConfig, parseDurationIn, parseIntIn, parseMemberIp, parsePoolFlags, precheck, type PoolSetFlags,
} from './options';
import { DEFAULT_DRAIN_TIMEOUT_MS, DRAIN_TIMEOUT_EXIT, waitForDrain } from './drainWait';
import { checkPoolName } from './poolNameCheck';
import { poolJson, renderPoolList } from './storeStatus';
import { oneLineErrors, storeLine, withStore, withStoreOptions, type StoreFlags } from './storeAccess';

// `tierdns pool …` and `tierdns member …` (docs/cli.md). Every input is
// validated before the store is touched; every change is one atomic store operation.

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
    .option('--load <kind>', "steer by load read from each member: none|agent|json|nginx|haproxy (default none; docs/steering.md)")
    .option('--load-port <n>', "port of the load feed 1..65535, 0 = the probe port (default 0)")
    .option('--load-path <path>', 'HTTP path of a json/nginx/haproxy feed (default /load, /nginx_status, /stats;csv)')
    .option('--capacity <n>', 'connections a member holds when full, 0..1e9; needed for nginx, overrides what a feed says (default 0 = none)')
    .option('--slow-start <duration>', 'ramp a member that comes up from 10% to 100% of its weight over this long, 0 = off, up to 1h (default 0)')
    .action(async (rawName: string, flags: PoolSetFlags) => {
      const name = normalizePoolName(rawName, 'pool name');
      const patch = parsePoolFlags(flags);
      precheck(name, patch);
      await withStore(flags, async (store, choice) => {
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
        process.stdout.write(`pool ${name} ${what}\n${storeLine(choice, store)}`);
      }, { create: true });
    });
  withStoreOptions(pool.command('rm <name>'))
    .description('remove a pool with its members')
    .action(async (rawName: string, flags: StoreFlags) => {
      const name = normalizePoolName(rawName, 'pool name');
      await withStore(flags, async (store, choice) => {
        const snap = await store.snapshot();
        const users = [...snap.pools.values()].filter((v) => v.config.whenAllDown === `pool:${name}`).map((v) => v.config.name);
        if (users.length > 0) throw bad('pool rm', `${name}: it is the --when-all-down backup of ${users.join(', ')}; change ${users.length > 1 ? 'those' : 'that'} first`);
        if (!(await store.removePool(name))) throw new TierdnsError('TIERDNS_E_NO_POOL', `no pool named ${name}`);
        process.stdout.write(`pool ${name} removed\n${storeLine(choice, store)}`);
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
  withStoreOptions(member.command('add <pool> <ip...>'))
    .description('add members (several in one atomic step), or change the weight/port of existing ones (admin state kept)')
    .option('--weight <n>', 'share of first places in answers, 1..1000 (default 1; an existing member keeps its own)')
    .option('--port <n>', "probe port 1..65535 (default the pool's)")
    .action(async (rawPool: string, rawIps: string[], flags: StoreFlags & { weight?: string; port?: string }) => {
      const pool = normalizePoolName(rawPool, 'pool name');
      const ips = [...new Set(rawIps.map(parseMemberIp))];
      const weight = flags.weight === undefined ? undefined : parseIntIn(flags.weight, '--weight', LIMITS.weight.min, LIMITS.weight.max);
      const port = flags.port === undefined ? undefined : parseIntIn(flags.port, '--port', LIMITS.port.min, LIMITS.port.max);
      await withStore(flags, async (store, choice) => {
        // One atomic step for every address: what is not given (weight, port, admin state) stays as stored.
        const updates = await store.updateMembers(pool, ips.map((ip) => [ip, { weight, port, create: true }])).catch((err: unknown) => {
          throw err instanceof TierdnsError && err.code === 'TIERDNS_E_NO_POOL'
            ? new TierdnsError('TIERDNS_E_NO_POOL', `no pool named ${pool} (create it with: tierdns pool set ${pool})`)
            : err;
        });
        const lines = updates.map((u) => `member ${u.after.ip} ${u.before ? 'updated in' : 'added to'} ${pool}\n`);
        process.stdout.write(`${lines.join('')}${storeLine(choice, store)}`);
      });
    });
  withStoreOptions(member.command('rm <pool> <ip>'))
    .description('remove a member')
    .action(async (rawPool: string, rawIp: string, flags: StoreFlags) => {
      const pool = normalizePoolName(rawPool, 'pool name');
      const ip = parseMemberIp(rawIp);
      await withStore(flags, async (store, choice) => {
        if (!(await store.removeMember(pool, ip))) throw new TierdnsError('TIERDNS_E_NO_MEMBER', `pool ${pool} has no member ${ip}`);
        process.stdout.write(`member ${ip} removed from ${pool}\n${storeLine(choice, store)}`);
      });
    });
  withStoreOptions(member.command('drain <pool> <ip>'))
    .description('stop handing out a member (it keeps being probed); --wait blocks until its connections are gone')
    .option('--wait', 'wait until the load feed reports at most --until connections, or without such a feed until 2 x TTL passed (docs/steering.md)')
    .option('--until <n>', 'with --wait: connections left that count as drained (default 0)')
    .option('--timeout <duration>', `with --wait: give up after this long, 0..7d, with exit ${DRAIN_TIMEOUT_EXIT} (default ${formatDuration(DEFAULT_DRAIN_TIMEOUT_MS)}, or 2 x TTL when that is the wait and longer)`)
    .action(async (rawPool: string, rawIp: string, flags: StoreFlags & { wait?: boolean; until?: string; timeout?: string }) => {
      const pool = normalizePoolName(rawPool, 'pool name');
      const ip = parseMemberIp(rawIp);
      if (!flags.wait && (flags.until !== undefined || flags.timeout !== undefined)) throw bad('--until/--timeout', 'need --wait');
      const until = flags.until === undefined ? 0 : parseIntIn(flags.until, '--until', 0, LIMITS.capacity.max);
      const timeoutMs = flags.timeout === undefined ? undefined : parseDurationIn(flags.timeout, '--timeout', 0, 7 * 24 * 3_600_000);
      await withStore(flags, async (store, choice) => {
        await store.updateMember(pool, ip, { admin: 'drained' });
        process.stdout.write(`member ${ip} of ${pool} drained\n${storeLine(choice, store)}`);
        if (!flags.wait) return;
        await waitForDrain(store, {
          pool, ip, until, timeoutMs, pollMs: DRAIN_POLL_MS, now: Date.now,
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          print: (line) => process.stdout.write(`${line}\n`),
        });
      });
    });
  withStoreOptions(member.command('undrain <pool> <ip>'))
    .description('hand out a drained member again')
    .action(async (rawPool: string, rawIp: string, flags: StoreFlags) => {
      const pool = normalizePoolName(rawPool, 'pool name');
      const ip = parseMemberIp(rawIp);
      await withStore(flags, async (store, choice) => {
        await store.updateMember(pool, ip, { admin: 'enabled' });
        process.stdout.write(`member ${ip} of ${pool} enabled\n${storeLine(choice, store)}`);
      });
    });
}

/** How often `member drain --wait` reads the store. */
const DRAIN_POLL_MS = 500;

export function registerStoreCommands(program: Command): void {
  registerPool(program);
  registerMember(program);
}
