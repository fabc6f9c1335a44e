import cluster from 'node:cluster';
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import pino, { type Logger } from 'pino';
import { Instance } from '../server/instance';
import { receiveOwnUpdates, relayOwnUpdates, sendOwnUpdates } from './ownRelay';
import { isInstanceName } from '../store/codec';
import { TierdnsError, errorMessage } from '../util/errors';
import { hostPort, parseListen, type ListenAddress } from '../util/listen';
import { useNativeAddon } from '../util/native';
import { DEFAULT_STORE_URL, ENVIRONMENT_HELP, readEnvironment, type Environment } from './config';
import { LOG_OPTIONS } from '../util/log';
import { DEFAULT_RRL_EXEMPT, type RrlOptions } from '../dns/rrl';
import { parseRrlFlags } from './options';
import { addTcpOptions, parseTcpFlags, type TcpFlags } from './tcpFlags';
import type { TcpLimits } from '../dns/tcpLimits';

interface ServeFlags extends TcpFlags {
  zones: string;
  listen: string[];
  store?: string;
  stateDir?: string;
  metrics?: string;
  instance: string;
  workers: string;
  logLevel: string;
  rrlRate: string;
  rrlSlip: string;
  rrlExempt: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('answer DNS for the zones in --zones and the pools in --store')
    .option('--zones <dir>', 'directory of <zone>.zone files', 'zones')
    .option('--listen <host:port>', 'address to answer on, UDP and TCP; repeatable (default 127.0.0.1:5300)', collect, [])
    .option('--store <url>', `redis://, rediss://, redis-sentinel:// or file:PATH (env TIERDNS_STORE; default ${DEFAULT_STORE_URL})`)
    .option('--state-dir <dir>', 'keep the last store snapshot here, to serve it if the store is down at start')
    .option('--metrics <host:port>', 'serve Prometheus metrics over HTTP here')
    .option('--instance <name>', 'name of this instance in the store (default: host name)', hostname())
    .option('--workers <n>', 'worker processes answering queries (one per core)', '1')
    // Response rate limiting of UDP answers (docs/rrl.md); TCP answers are never limited.
    .option('--rrl-rate <n>', 'UDP answers per second per client /24 (IPv4) or /56 (IPv6) for the same answer; 0 = off', '200')
    .option('--rrl-slip <n>', 'every Nth rate-limited answer is sent truncated (TC=1) so a real client retries over TCP; 0 = drop all', '2')
    .option('--rrl-exempt <cidrs>', "CIDRs never rate limited, comma-separated, or 'none'", DEFAULT_RRL_EXEMPT)
    .addOption(new Option('--log-level <level>', 'pino log level').choices(LOG_LEVELS).default('info'));
  addTcpOptions(serve)
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(async (flags: ServeFlags) => {
      const listen = (flags.listen.length ? flags.listen : ['127.0.0.1:5300']).map(parseListen);
      const workers = Number(flags.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
        throw new TierdnsError('TIERDNS_E_BAD_VALUE', `--workers must be an integer from 1 to 256, got "${flags.workers}"`);
      }
      // The store keys observations by instance name: one it would refuse means no heartbeat and no vote.
      if (!isInstanceName(flags.instance)) {
        throw new TierdnsError('TIERDNS_E_BAD_VALUE', '--instance must be 1 to 255 printable characters without spaces or |');
      }
      if (flags.metrics) checkMetricsApart(flags.metrics, listen, workers);
      const rrl = workerShare(parseRrlFlags(flags.rrlRate, flags.rrlSlip, flags.rrlExempt), workers);
      const tcpLimits = parseTcpFlags(flags);
      const log = pino({ ...LOG_OPTIONS, level: flags.logLevel, base: { instance: flags.instance, pid: process.pid } });
      if (workers > 1 && cluster.isPrimary) return runPrimary(workers, log);
      await runInstance(flags, readEnvironment(), listen, { rrl, tcpLimits }, log);
    });
}

/**
 * Each of `workers` workers keeps its own RRL table and limits at its share of the rate (at
 * least one answer a second): the kernel spreads datagrams over workers by source address and
 * port, and resolvers (and spoofed floods) pick a new source port per query, so a source meets
 * about the whole rate in all (docs/rrl.md).
 */
function workerShare(rrl: RrlOptions, workers: number): RrlOptions {
  if (workers <= 1 || rrl.ratePerSecond === 0) return rrl;
  return { ...rrl, ratePerSecond: Math.max(1, rrl.ratePerSecond / workers) };
}

/**
 * The metrics listener (one port per worker from the one given) must not take a DNS port: DNS
 * over TCP would then fail to bind with an error that does not say why.
 */
function checkMetricsApart(text: string, listen: ListenAddress[], workers: number): void {
  const first = parseListen(text);
  if (first.port === 0) return;
  // Sockets are bound one family each (IPv6 ones IPv6-only): a wildcard clashes within its family.
  const v6 = (host: string): boolean => host.includes(':');
  const wildcard = (host: string): boolean => host === '0.0.0.0' || host === '::';
  for (const at of listen) {
    const sameHost = at.host === first.host || (v6(at.host) === v6(first.host) && (wildcard(at.host) || wildcard(first.host)));
    if (sameHost && at.port >= first.port && at.port < first.port + workers) {
      throw new TierdnsError('TIERDNS_E_BAD_VALUE',
        `--metrics ${text} takes port ${at.port}, which --listen ${hostPort(at.host, at.port)} needs for DNS over TCP: give the metrics listener a port of its own`);
    }
  }
}

function metricsAddress(text: string, workerId: number): ListenAddress {
  const at = parseListen(text);
  return { host: at.host, port: at.port === 0 ? 0 : at.port + workerId - 1 };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runInstance(flags: ServeFlags, env: Environment, listen: ListenAddress[], limits: { rrl: RrlOptions; tcpLimits: TcpLimits }, log: Logger): Promise<void> {
  const { rrl, tcpLimits } = limits;
  const workerId = env.workerIndex;
  useNativeAddon(env.native);
  const instance = new Instance({
    zonesDir: flags.zones,
    listen,
    storeUrl: flags.store ?? env.store ?? DEFAULT_STORE_URL,
    prefix: env.prefix,
    probeThread: env.probeThread,
    probeNice: env.probeNice,
    probeSource: env.probeSource,
    native: env.native,
    rrl,
    stateDir: flags.stateDir,
    tcpLimits,
    instance: flags.instance,
    log,
    // One prober per instance: in a cluster only the first worker probes.
    probe: workerId === 1,
    rotationStart: (process.pid + workerId) % 1024,
    // Each worker keeps its own counters: worker N serves metrics on the given port + N - 1.
    metrics: flags.metrics ? metricsAddress(flags.metrics, workerId) : undefined,
    onOwnUpdate: cluster.isWorker && workerId === 1 ? sendOwnUpdates() : undefined,
  });
  if (cluster.isWorker && workerId !== 1) receiveOwnUpdates((u) => instance.applyOwnUpdate(u));
  process.on('unhandledRejection', (err) => log.error({ err }, 'serve: unhandled rejection'));
  // Before start: a SIGHUP sent as soon as 'serve: ready' is logged must reload, not kill the
  // process (SIGHUP's default action). A reload while starting is a second read of the zones.
  process.on('SIGHUP', () => {
    log.info('serve: SIGHUP, reloading zones');
    try {
      instance.reloadZones();
    } catch (err) {
      log.error(`zone: reload failed: ${errorMessage(err)}`);
    }
  });
  try {
    await instance.start();
  } catch (err) {
    await instance.stop(0).catch(() => undefined);
    throw err;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`serve: ${signal}, stopping`);
    instance.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'serve: stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A worker whose primary is gone stops too, instead of answering unsupervised.
  if (cluster.isWorker) process.on('disconnect', () => stop('primary gone'));
}

/**
 * V8 flags for the workers of a serving process, unless the operator chose their own (`npm
 * start` passes the same): a small young generation, and gc() for the one collection after
 * start-up; docs/performance.md says what each saves.
 */
export const SERVE_NODE_FLAGS = ['--expose-gc', '--max-semi-space-size=2'];

function withHeapFlags(execArgv: string[]): string[] {
  const own = (flag: string) => execArgv.some((a) => a.startsWith(flag.split('=')[0] as string));
  return [...execArgv, ...SERVE_NODE_FLAGS.filter((f) => !own(f))];
}

/** The cluster primary: forks workers, restarts one that dies, passes signals on. */
function runPrimary(workers: number, log: Logger): void {
  // Let the kernel spread TCP connections; UDP sockets are shared by every worker.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ execArgv: withHeapFlags(process.execArgv) });
  let stopping = false;
  const started = new Map<number, { index: number; atMs: number }>();
  const fork = (index: number) => {
    const worker = cluster.fork({ TIERDNS_WORKER_INDEX: String(index) });
    started.set(worker.id, { index, atMs: Date.now() });
  };
  relayOwnUpdates((w) => started.get(w.id)?.index);
  for (let i = 1; i <= workers; i++) fork(i);
  cluster.on('exit', (worker, code, signal) => {
    const info = started.get(worker.id) ?? { index: 1, atMs: 0 };
    started.delete(worker.id);
    if (stopping) {
      if (started.size === 0) process.exit(process.exitCode ?? 0);
      return;
    }
    // A worker that dies at start (bind error, bad flags) would only die again.
    if (Date.now() - info.atMs < 5000) {
      log.fatal({ worker: info.index, code, signal }, 'serve: worker failed at start; stopping');
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      process.exitCode = 1;
      if (started.size === 0) process.exit(1);
      return;
    }
    log.error({ worker: info.index, code, signal }, 'serve: worker died; starting another');
    setTimeout(() => fork(info.index), 500);
  });
  const forward = (signal: NodeJS.Signals) => () => {
    if (signal !== 'SIGHUP') stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.on('SIGHUP', forward('SIGHUP'));
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
}
