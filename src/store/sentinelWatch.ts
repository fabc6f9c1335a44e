import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../util/errors';
import type { RedisLocation } from './url';

// Where the master of a Sentinel group is, and when it moves (docs/store.md "Redis Sentinel").
// Every sentinel is asked at once and the newest configuration (highest config epoch) wins: after
// a failover the other sentinels learn the new master from the leader only within seconds, and
// asking them one by one (as ioredis does) kept clients on the old master. Server connections
// also follow +switch-master on every sentinel and reconnect the moment it is announced: after a
// graceful failover the old master stays writable until Sentinel demotes it (~10 s), and every
// write made there in between is lost.

export interface MasterAddress {
  host: string;
  port: number;
}

export interface MasterState extends MasterAddress {
  /** The configuration epoch the answer came with. */
  epoch: number;
  /** A sentinel is failing this master over right now (writes there may be lost). */
  failingOver: boolean;
  /** The sentinels hold the master subjectively or objectively down. */
  down: boolean;
  /** Replicas a sentinel sees connected and in sync with this master. */
  replicasInSync: number;
}

/** Per sentinel question; a sentinel that does not answer in time is skipped. */
const ASK_TIMEOUT_MS = 1000;
/** An answer is reused this long (every connection of a store asks when it reconnects). */
const CACHE_MS = 100;
/** While the master is down or being failed over, a connection waits up to this long for the new one. */
const FAILOVER_WAIT_MS = 1000;
const POLL_MS = 100;

type Fields = Record<string, string>;

function fields(flat: unknown): Fields {
  const out: Fields = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

export class SentinelWatch {
  private readonly askers: Redis[] = [];
  private readonly subscribers: Redis[] = [];
  private cached: { state: MasterState; atMs: number } | undefined;
  private asking: Promise<MasterState | undefined> | undefined;
  private readonly switchListeners = new Set<(to: MasterAddress) => void>();
  private following = false;
  private closed = false;

  constructor(private readonly loc: RedisLocation, private readonly log: Logger) {}

  private options(host: string, port: number, subscriber: boolean): RedisOptions {
    const o: RedisOptions = {
      host, port, lazyConnect: true, connectTimeout: ASK_TIMEOUT_MS, disableClientInfo: true,
      enableOfflineQueue: subscriber, maxRetriesPerRequest: subscriber ? null : 0,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 8), 1000),
      // A sentinel that stops answering is dropped and retried like a Redis connection.
      socketTimeout: 1500,
    };
    if (this.loc.sentinelUsername !== undefined) o.username = this.loc.sentinelUsername;
    if (this.loc.sentinelPassword !== undefined) o.password = this.loc.sentinelPassword;
    if (this.loc.tls) o.tls = this.loc.tls;
    return o;
  }

  /** The master as the sentinels see it now (cached for CACHE_MS); undefined when no sentinel answers. */
  async master(): Promise<MasterState | undefined> {
    if (this.cached && Date.now() - this.cached.atMs < CACHE_MS) return this.cached.state;
    this.asking ??= this.askAll().finally(() => { this.asking = undefined; });
    return this.asking;
  }

  /** Forget the cached answer (the address it gave was not a master). */
  invalidate(): void {
    this.cached = undefined;
  }

  /**
   * The master to connect to: while it is down or being failed over, wait (up to
   * FAILOVER_WAIT_MS) for the new one rather than write to one about to be replaced.
   */
  async masterToUse(): Promise<MasterState | undefined> {
    const deadline = Date.now() + FAILOVER_WAIT_MS;
    for (;;) {
      const state = await this.master();
      if (!state || (!state.down && !state.failingOver) || Date.now() >= deadline || this.closed) return state;
      await new Promise((r) => setTimeout(r, POLL_MS).unref());
      this.invalidate();
    }
  }

  private async askAll(): Promise<MasterState | undefined> {
    // Closed: no new connections (they would retry for ever and keep the process alive).
    if (this.closed) return undefined;
    if (this.askers.length === 0) {
      for (const s of this.loc.sentinels ?? []) {
        const c = new Redis(this.options(s.host, s.port, false));
        c.on('error', () => undefined);
        this.askers.push(c);
      }
    }
    const answers = await Promise.all(this.askers.map((c) => this.ask(c)));
    let best: MasterState | undefined;
    for (const a of answers) {
      if (a && (!best || a.epoch > best.epoch || (a.epoch === best.epoch && a.replicasInSync > best.replicasInSync))) best = a;
    }
    if (!best) return undefined;
    const epoch = best.epoch;
    // Only the leading sentinel marks a failover in progress; the others name the old master as
    // if nothing happened, until the leader announces the new one (a higher epoch).
    const state = { ...best, failingOver: answers.some((a) => a?.epoch === epoch && a.failingOver) };
    this.cached = { state, atMs: Date.now() };
    return state;
  }

  private async ask(c: Redis): Promise<MasterState | undefined> {
    const name = this.loc.name as string;
    try {
      if (c.status === 'wait' || c.status === 'end') await c.connect().catch(() => undefined);
      const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), ASK_TIMEOUT_MS).unref());
      const reply = await Promise.race([
        Promise.all([c.call('SENTINEL', 'MASTER', name), c.call('SENTINEL', 'REPLICAS', name)]), timeout]);
      if (!reply) return undefined;
      const m = fields(reply[0]);
      const flags = (m.flags ?? '').split(',');
      const replicas = Array.isArray(reply[1]) ? reply[1].map(fields) : [];
      const port = Number(m.port);
      if (!m.ip || !Number.isInteger(port)) return undefined;
      return {
        host: m.ip, port, epoch: Number(m['config-epoch'] ?? 0) || 0,
        failingOver: flags.includes('failover_in_progress'),
        down: flags.includes('s_down') || flags.includes('o_down'),
        replicasInSync: replicas.filter((r) => !/s_down|o_down|disconnected/.test(r.flags ?? '') && r['master-link-status'] === 'ok').length,
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Call `listener` with the new master whenever a sentinel announces +switch-master for this
   * group (subscribing to every sentinel on first use). Returns the function that removes it.
   */
  onSwitch(listener: (to: MasterAddress) => void): () => void {
    this.switchListeners.add(listener);
    if (!this.following && !this.closed) this.follow();
    return () => this.switchListeners.delete(listener);
  }

  private follow(): void {
    this.following = true;
    for (const s of this.loc.sentinels ?? []) {
      const c = new Redis({ ...this.options(s.host, s.port, true), lazyConnect: false });
      c.on('error', (err: Error) => this.log.debug({ sentinel: `${s.host}:${s.port}`, err: errorMessage(err) }, 'store: sentinel connection error'));
      c.on('message', (_channel: string, message: string) => this.switched(message));
      c.subscribe('+switch-master').catch(() => undefined);
      this.subscribers.push(c);
    }
  }

  /** "<name> <old-ip> <old-port> <new-ip> <new-port>" (every sentinel sends one). */
  private switched(message: string): void {
    const [name, , , host, portText] = message.split(' ');
    const port = Number(portText);
    if (name !== this.loc.name || !host || !Number.isInteger(port)) return;
    const known = this.cached?.state;
    if (known && known.host === host && known.port === port && !known.failingOver) return;
    this.log.info({ master: `${host}:${port}` }, 'store: Sentinel announced a new master; following it');
    this.cached = {
      state: { host, port, epoch: (known?.epoch ?? 0) + 1, failingOver: false, down: false, replicasInSync: 0 },
      atMs: Date.now(),
    };
    for (const l of this.switchListeners) {
      try {
        l({ host, port });
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'store: switch listener threw');
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const c of [...this.askers, ...this.subscribers]) c.disconnect();
    this.askers.length = 0;
    this.subscribers.length = 0;
    this.switchListeners.clear();
  }
}
