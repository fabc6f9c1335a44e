import type { Logger } from 'pino';
import { Snapshot } from '../dns/snapshot';
import { HealthLoop } from '../health/loop';
import type { OwnState } from '../health/loopTypes';
import type { ProbeStats } from '../health/probeStats';
import { ProbeThread } from '../health/thread';
import { openStore } from '../store/open';
import { StoreSync } from './sync';
import { OwnVerdicts, type OwnUpdate } from './ownVerdicts';
import type { PoolView } from '../model/types';
import type { Store } from '../store/types';
import { TierdnsError, errorMessage } from '../util/errors';
import { collectGarbage } from '../util/heap';
import { POOLS_PER_TURN, nextTurn } from '../util/turn';
import type { ListenAddress } from '../util/listen';
import { loadZoneDir } from '../zone/load';
import { formatProblem, type ZoneData } from '../zone/types';
import { DnsServer } from './dnsServer';
import type { TcpLimits } from '../dns/tcpServer';
import type { RrlOptions } from '../dns/rrl';
import type { Server } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { tierdnsVersion } from '../util/version';
import { Metrics, type StoreState } from './metrics';
import { serveMetrics, type InstanceState } from './metricsServer';
import { StatusFeed } from './statusFeed';
import { writeStatusJson } from './statusJson';

/** When, after start, the one collection of start-up garbage runs (see collectGarbage). */
const STARTUP_GC_DELAY_MS = 3000;
/** Heap in use below which it is skipped: a small instance has little to return and need not pause. */
const STARTUP_GC_MIN_HEAP_MB = 32;

export interface InstanceOptions {
  zonesDir: string;
  listen: ListenAddress[];
  storeUrl: string;
  stateDir?: string;
  instance: string;
  log: Logger;
  /** Run the health-probe loop (one worker of a cluster does). */
  probe: boolean;
  /** Probe on a thread of its own (default true), else on the thread answering queries. */
  probeThread?: boolean;
  /** How much lower the probe thread runs, 0-19 (default health/thread's). */
  probeNice?: number;
  /** Source address of probes (default: the kernel chooses). */
  probeSource?: string;
  /** Redis key prefix when the store URL has none. */
  prefix?: string;
  /** Use the native addon where it is built (default true); false uses Node's dgram and net. */
  native?: boolean;
  /** Where successive answers start rotating (spreads instances and workers). */
  rotationStart?: number;
  resyncMs?: number;
  /** What differs from DEFAULT_TCP_LIMITS (the serve flags). */
  tcpLimits?: Partial<TcpLimits>;
  /** Response rate limiting of UDP answers (default DEFAULT_RRL). */
  rrl?: RrlOptions;
  /** Serve Prometheus metrics, /healthz, /readyz and the status page here. */
  metrics?: ListenAddress;
  /** Told every own-state change of the prober (the probing worker passes them to the others). */
  onOwnUpdate?: (u: OwnUpdate) => void;
}

/** The probe loop, on its own thread (ProbeThread) or on this one (HealthLoop). */
interface Prober {
  updatePool(name: string, view: PoolView | undefined): void;
  start(): void;
  stop(): Promise<void>;
  stats(): ProbeStats;
}

/**
 * One running `tierdns serve`: zones from files, pools from the store kept in memory by
 * StoreSync, probes by HealthLoop, answers by DnsServer. Answers never wait on the store.
 */
export class Instance {
  readonly snapshot: Snapshot;
  readonly dns: DnsServer;
  private store?: Store;
  private sync?: StoreSync;
  private own?: OwnVerdicts;
  /** Own-state updates from the probing worker that came before start() made `own`. */
  private readonly ownBacklog: OwnUpdate[] = [];
  private health?: Prober;
  private zones: ZoneData[] = [];
  private publishTimer?: NodeJS.Timeout;
  private startupGcTimer?: NodeJS.Timeout;
  private metricsServer?: Server;
  private readonly feed = new StatusFeed();
  private listening = false;
  private stopping = false;
  bound: ListenAddress[] = [];

  constructor(private readonly opts: InstanceOptions) {
    this.snapshot = new Snapshot({
      rotationStart: opts.rotationStart,
      warn: (message) => opts.log.error(`pool: ${message}`),
    });
    this.dns = new DnsServer(this.snapshot, opts.log, opts.tcpLimits, opts.rrl);
  }

  async start(): Promise<void> {
    const { log, zonesDir } = this.opts;
    const loaded = loadZoneDir(zonesDir);
    // A directory that cannot be read fails the start like a port that cannot be bound; a
    // reload keeps the zones it has instead.
    const unreadable = loaded.problems.find((p) => p.file === zonesDir);
    if (unreadable) throw new TierdnsError('TIERDNS_E_ZONE', `--zones ${zonesDir}: ${unreadable.message}`);
    this.applyZones(loaded);
    const store = openStore(this.opts.storeUrl, { log, prefix: this.opts.prefix });
    this.store = store;
    const sync = new StoreSync({ store, stateDir: this.opts.stateDir, resyncMs: this.opts.resyncMs, log, instance: this.opts.instance });
    this.sync = sync;
    const own = new OwnVerdicts({
      instance: this.opts.instance, log, serve: (name, view) => this.snapshot.setPool(name, view),
      views: () => sync.current().pools, lastSyncMs: () => sync.lastSyncMs,
    });
    this.own = own;
    for (const u of this.ownBacklog.splice(0)) own.apply(u);
    if (this.opts.probe) {
      const { instance } = this.opts;
      const { probeSource: sourceAddress, prefix } = this.opts;
      const share = this.opts.onOwnUpdate;
      const onOwnState = (pool: string, ip: string, state: OwnState | undefined): void => {
        own.setOwn(pool, ip, state);
        share?.({ kind: 'own', pool, ip, own: state ?? null });
      };
      const onWritesOk = (ok: boolean): void => {
        own.setWritesOk(ok);
        share?.({ kind: 'writes', ok });
      };
      this.health = (this.opts.probeThread ?? true)
        ? new ProbeThread({
          storeUrl: this.opts.storeUrl, store, instance, log, pools: () => sync.current().pools,
          nice: this.opts.probeNice, sourceAddress, prefix, native: this.opts.native, onOwnState, onWritesOk,
        })
        : new HealthLoop({ store, instance, log, sourceAddress, onOwnState, onWritesOk });
    }
    sync.on('pool', (name: string, view) => {
      own.pool(name, view);
      this.health?.updatePool(name, view);
      this.feed.bump();
    });
    // A new or re-seeded store holds no zones of this instance: the CLI checks names against them.
    sync.on('identity', () => {
      this.publishZones();
      this.feed.bump();
    });
    sync.on('status', (status) => {
      own.setStoreReady(status === 'ready');
      this.feed.bump();
    });
    sync.on('reset', () => this.feed.bump());
    // Before the store is read and the listeners bound, so /readyz can say it is not ready yet.
    if (this.opts.metrics) this.metricsServer = await this.serveMetrics(this.opts.metrics, sync, store, own);
    // Pools (with their stored verdicts) are in memory before the first answer (docs/health.md).
    await sync.start();
    own.setStoreReady(sync.storeStatus === 'ready');
    for (const [name, view] of sync.current().pools) own.pool(name, view);
    this.bound = await this.dns.listen(this.opts.listen);
    // After listening: tracking 40,000 members takes a while and probing starts later anyway.
    // Pools changed meanwhile reached the loop through 'pool'; updatePool is idempotent.
    if (this.health instanceof HealthLoop) {
      // (A ProbeThread is told every pool by itself when its thread starts.)
      // In slices, answering between them: the file store decodes a pool's members on first
      // use, and this is where most pools are first used.
      // Names, not views: a pool changed or removed meanwhile reached the loop through 'pool',
      // and an older view must not be applied over it.
      let n = 0;
      for (const name of [...sync.current().pools.keys()]) {
        if (n++ % POOLS_PER_TURN === 0) await nextTurn();
        const view = sync.current().pools.get(name);
        if (view) this.health.updatePool(name, view);
      }
    }
    this.listening = true;
    this.feed.bump();
    this.health?.start();
    this.publishZones();
    // Once start-up work is over (the first snapshot save comes 1 s after the first read):
    // collect what it left in the old generation instead of carrying it until the heap limit.
    this.startupGcTimer = setTimeout(() => {
      // Not process.memoryUsage(): it reads /proc and throws when descriptors run out.
      const heapMB = (): number => Math.round(getHeapStatistics().used_heap_size / 1048576);
      const before = heapMB();
      // A small instance has little to return and need not pause for it.
      if (before < STARTUP_GC_MIN_HEAP_MB) return;
      const ms = collectGarbage();
      log.debug({ pauseMs: ms === undefined ? undefined : Math.round(ms), heapMB: [before, heapMB()] }, 'serve: start-up garbage collected');
    }, STARTUP_GC_DELAY_MS);
    this.startupGcTimer.unref();
    log.info({ listen: this.bound, zones: this.zones.map((z) => z.origin), store: store.description, tcp: this.dns.tcpClients.describe() }, 'serve: ready');
  }

  private serveMetrics(at: ListenAddress, sync: StoreSync, store: Store, own: OwnVerdicts): Promise<Server> {
    // Pools as answers see them: own verdicts while the store is down (docs/health.md).
    const storeState = (): StoreState => {
      const snapshot = sync.current();
      return {
        status: sync.storeStatus,
        pools: own.servedPools(snapshot.pools),
        instances: snapshot.instances,
        lastSyncMs: sync.lastInSyncMs,
        verdicts: own.verdictSource,
        lost: sync.storeLost,
        losses: sync.storeLosses,
      };
    };
    const health = this.health;
    const version = tierdnsVersion();
    const metrics = new Metrics({
      queries: this.dns.handler.stats,
      store: storeState,
      probes: health ? () => health.stats() : undefined,
      tcp: this.dns.tcpClients,
      version,
    });
    const state = (): InstanceState => {
      const serving = this.listening && !this.stopping;
      const reason = !serving ? (this.stopping ? 'stopping' : 'listeners not bound yet') : !sync.loaded ? 'pools not loaded yet (store unreachable, no saved snapshot)' : '';
      return { serving, ready: serving && sync.loaded, reason };
    };
    const head = () => ({ instance: this.opts.instance, version, generation: this.feed.generation, ready: state().ready, storeDescription: store.description });
    return serveMetrics(at, { metrics, feed: this.feed, state, status: (write) => writeStatusJson(head(), storeState(), write) }, this.opts.log);
  }

  /** Load the zones directory; a zone whose file is broken keeps its previous version. */
  reloadZones(): void {
    this.applyZones(loadZoneDir(this.opts.zonesDir));
  }

  private applyZones({ zones, problems }: ReturnType<typeof loadZoneDir>): void {
    const { log } = this.opts;
    for (const p of problems) log.error({ file: p.file, line: p.line }, `zone: ${formatProblem(p)}`);
    const broken = new Set(problems.map((p) => p.file));
    const loaded = new Set(zones.map((z) => z.origin));
    // An unreadable directory keeps every zone; a broken file keeps its own zone.
    const dirBroken = broken.has(this.opts.zonesDir);
    const kept = this.zones.filter((z) => !loaded.has(z.origin) && (dirBroken || broken.has(z.file)));
    for (const z of kept) log.warn({ zone: z.origin, file: z.file }, 'zone: keeping the previous version');
    this.zones = [...zones, ...kept];
    this.snapshot.setZones(this.zones);
    log.info({ zones: this.zones.map((z) => `${z.origin} (${z.records.length} records)`) }, 'zone: loaded');
    if (this.store) this.publishZones();
  }

  private publishZones(): void {
    clearTimeout(this.publishTimer);
    const store = this.store;
    if (!store) return;
    store.publishZones(this.opts.instance, this.zones.map((z) => z.origin), this.snapshot.zoneRules).catch((err: unknown) => {
      // The store may be down: try again later, answers do not depend on it.
      this.opts.log.warn(`store: cannot publish zones: ${errorMessage(err)}`);
      this.publishTimer = setTimeout(() => this.publishZones(), 5000);
      this.publishTimer.unref();
    });
  }

  /** An own-state update from the probing worker (a worker that does not probe: see OwnUpdate). */
  applyOwnUpdate(u: OwnUpdate): void {
    if (this.own) this.own.apply(u);
    else this.ownBacklog.push(u);
  }

  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.publishTimer);
    clearTimeout(this.startupGcTimer);
    this.feed.close();
    this.metricsServer?.close();
    this.metricsServer?.closeIdleConnections();
    await this.health?.stop();
    this.own?.stop();
    await this.dns.close(graceMs);
    await this.sync?.stop();
    await this.store?.close();
  }
}
