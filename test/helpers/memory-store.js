'use strict';
// A minimal in-memory Store (src/store/types.ts) for unit tests of the health loop: same
// verdict rule (mergeVerdict over live instances, the recorder always voting), counters of
// writes, and a switch that makes every call fail as an unreachable store would.

const { mergeVerdict } = require('../../dist/model/verdict');

function defaultConfig(name, over = {}) {
  return {
    name, ttlSeconds: 20, check: 'tcp', port: 80, path: '/', expectMin: 200, expectMax: 399,
    intervalMs: 2000, fastIntervalMs: 500, timeoutMs: 1000, rise: 2, fall: 3, maxAnswers: 0, whenAllDown: 'all', ...over,
  };
}

class MemoryStore {
  constructor({ nowMs = Date.now, instanceTtlMs = 5000 } = {}) {
    this.description = 'memory';
    this.nowMs = nowMs;
    this.instanceTtlMs = instanceTtlMs;
    /** name -> { config, members: Map<ip, member>, verdicts: Map<ip, {verdict, sinceMs}>, observations: Map<ip, Map<instance, obs>> } */
    this.pools = new Map();
    this.instances = new Map();
    this.watchers = new Set();
    this.failing = false;
    this.writes = [];
    this.heartbeats = 0;
  }

  check() {
    if (this.failing) {
      const err = new Error('store unreachable');
      err.code = 'TIERDNS_E_STORE_UNREACHABLE';
      return Promise.reject(err);
    }
    return undefined;
  }

  live() {
    const cutoff = this.nowMs() - this.instanceTtlMs;
    return new Set([...this.instances].filter(([, at]) => at >= cutoff).map(([name]) => name));
  }

  view(name) {
    const p = this.pools.get(name);
    if (!p) return undefined;
    const members = [...p.members.values()].map((m) => {
      const v = p.verdicts.get(m.ip);
      return { ...m, verdict: v.verdict, verdictSinceMs: v.sinceMs, observations: [...(p.observations.get(m.ip)?.values() ?? [])].map((o) => ({ ...o })) };
    });
    return { config: { ...p.config }, members };
  }

  notify(name) {
    for (const w of this.watchers) w({ kind: 'pool', name });
  }

  async snapshot() {
    return this.check() ?? { pools: new Map([...this.pools.keys()].map((n) => [n, this.view(n)])), zones: [], instances: new Map(this.instances) };
  }

  async readPool(name) {
    return this.check() ?? this.view(name);
  }

  async setPool(config) {
    const p = this.pools.get(config.name);
    if (p) p.config = { ...config };
    else this.pools.set(config.name, { config: { ...config }, members: new Map(), verdicts: new Map(), observations: new Map() });
    this.notify(config.name);
  }

  async removePool(name) {
    const had = this.pools.delete(name);
    if (had) this.notify(name);
    return had;
  }

  async addMember(pool, member) {
    const p = this.pools.get(pool);
    if (!p) throw Object.assign(new Error(`no pool ${pool}`), { code: 'TIERDNS_E_NO_POOL' });
    const existing = p.members.get(member.ip);
    p.members.set(member.ip, { weight: 1, ...existing, ...member, admin: existing?.admin ?? 'enabled', addedAtMs: existing?.addedAtMs ?? this.nowMs() });
    if (!existing) p.verdicts.set(member.ip, { verdict: 'unknown', sinceMs: this.nowMs() });
    this.notify(pool);
  }

  async removeMember(pool, ip) {
    const p = this.pools.get(pool);
    const had = Boolean(p?.members.delete(ip));
    if (had) {
      p.verdicts.delete(ip);
      p.observations.delete(ip);
      this.notify(pool);
    }
    return had;
  }

  async setAdmin(pool, ip, admin) {
    this.pools.get(pool).members.get(ip).admin = admin;
    this.notify(pool);
  }

  async recordObservation(pool, ip, obs) {
    const failed = this.check();
    if (failed) return failed;
    this.writes.push({ pool, ip, obs: { ...obs }, atMs: this.nowMs() });
    const p = this.pools.get(pool);
    if (!p?.members.has(ip)) {
      const { TierdnsError } = require('../../dist/util/errors');
      throw new TierdnsError(p ? 'TIERDNS_E_NO_MEMBER' : 'TIERDNS_E_NO_POOL', `no member ${ip} in ${pool}`);
    }
    const byInstance = p.observations.get(ip) ?? new Map();
    p.observations.set(ip, byInstance);
    const before = byInstance.get(obs.instance);
    byInstance.set(obs.instance, { ...obs });
    const previous = p.verdicts.get(ip);
    const verdict = mergeVerdict(previous.verdict, [...byInstance.values()], new Set(this.live()).add(obs.instance));
    if (verdict !== previous.verdict) p.verdicts.set(ip, { verdict, sinceMs: this.nowMs() });
    if (!before || before.state !== obs.state || verdict !== previous.verdict) this.notify(pool);
    return verdict;
  }

  async heartbeat(instance, ttlMs, nowMs) {
    const failed = this.check();
    if (failed) return failed;
    this.heartbeats += 1;
    this.instanceTtlMs = ttlMs;
    this.instances.set(instance, nowMs);
  }

  async publishZones() {}

  async watch(onChange) {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  onStatus() {}

  async close() {
    this.watchers.clear();
  }

  /** Test shortcut: this instance's observation of a member. */
  observation(pool, ip, instance) {
    return this.pools.get(pool)?.observations.get(ip)?.get(instance);
  }

  verdict(pool, ip) {
    return this.pools.get(pool)?.verdicts.get(ip)?.verdict;
  }
}

module.exports = { MemoryStore, defaultConfig };
