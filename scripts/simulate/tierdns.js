'use strict';
// The tierdns side of the simulation, on the real code from dist/: LoadTracker turns feed
// readings into each instance's factor, mergeLoad makes the shared load, PoolAnswers (smooth
// weighted round-robin over effective weights, slow start, full members skipped) answers.
// Only the store and the sockets are left out: an observation is shared the moment it is
// published, as a notification would share it.

const path = require('node:path');
const dist = (p) => require(path.join(__dirname, '..', '..', 'dist', p));
const { PoolAnswers } = dist('pool/poolAnswers');
const { LoadTracker } = dist('health/loadTracker');
const { mergeLoad, sameLoad, servedWeights } = dist('model/load');
const { defaultPoolConfig } = dist('model/poolConfig');

const POOL = 'ws.lb.example.com';

class SimTierdns {
  /**
   * ips: member addresses; o: { load: 'none'|'json', capacity, slowStartMs, smoothingMs, minFactor,
   * intervalMs, ttlSeconds, instances }; now(): simulated ms.
   */
  constructor(ips, o, now) {
    this.ips = ips;
    this.now = now;
    this.config = {
      ...defaultPoolConfig(POOL), check: 'tcp', ttlSeconds: o.ttlSeconds, intervalMs: o.intervalMs,
      load: o.load, capacity: o.load === 'none' ? 0 : o.capacity, slowStartMs: o.slowStartMs,
    };
    this.instances = o.instances;
    this.members = new Map(ips.map((ip) => [ip, { verdict: 'up', sinceMs: 0, load: undefined }]));
    // Per instance, per member: the tracker and the observation it last published.
    this.trackers = [];
    this.published = [];
    for (let i = 0; i < o.instances; i++) {
      const opts = { kind: 'json', capacity: o.capacity, intervalMs: o.intervalMs, smoothingMs: o.smoothingMs, minFactor: o.minFactor };
      this.trackers.push(new Map(ips.map((ip) => [ip, new LoadTracker({ ...opts })])));
      this.published.push(new Map());
    }
    this.live = new Set(Array.from({ length: o.instances }, (_, i) => `i${i}`));
    this.answers = [];
    this.rebuilds = 0;
    this.rebuild();
  }

  view() {
    return {
      config: this.config,
      members: this.ips.map((ip) => {
        const m = this.members.get(ip);
        const view = { ip, weight: 1, admin: 'enabled', addedAtMs: 0, verdict: m.verdict, verdictSinceMs: m.sinceMs, observations: [] };
        if (m.load && this.config.load !== 'none') view.load = m.load;
        return view;
      }),
    };
  }

  /** A new view reached every instance: answers rebuilt, rotations carried on. */
  rebuild() {
    const view = this.view();
    this.current = view;
    this.answers = Array.from({ length: this.instances }, (_, i) => new PoolAnswers(view, i, this.now, this.answers[i]));
    this.rebuilds++;
  }

  setVerdict(ip, verdict) {
    const m = this.members.get(ip);
    if (m.verdict === verdict) return;
    m.verdict = verdict;
    m.sinceMs = this.now();
    this.rebuild();
  }

  /** Instance `i` reads every feed: `reading(ip)` is what the feed answers (a LoadReading). */
  readFeeds(i, reading) {
    if (this.config.load === 'none') return;
    let moved = false;
    for (const ip of this.ips) {
      const tracker = this.trackers[i].get(ip);
      const news = tracker.record(reading(ip), this.now());
      if (news === 'none') continue;
      this.published[i].set(ip, { instance: `i${i}`, state: 'up', sinceMs: 0, load: tracker.observation() });
      tracker.markPublished(this.now());
      moved = true;
    }
    if (!moved) return;
    let changed = false;
    for (const ip of this.ips) {
      const obs = this.published.map((p) => p.get(ip)).filter(Boolean);
      const merged = mergeLoad(obs, this.live);
      const m = this.members.get(ip);
      if (!sameLoad(merged, m.load)) {
        m.load = merged;
        changed = true;
      }
    }
    if (changed) this.rebuild();
  }

  /** Once a simulated second: slow start re-weighting, as the pool table's timer does. */
  tick() {
    for (const a of this.answers) if (a.rampUntilMs > 0) a.refreshWeights();
  }

  /** One answer of instance `i`: addresses in the order the answer lists them. */
  query(i) {
    const family = this.answers[i].select(4, () => undefined);
    return family ? family.nextRdata().map((b) => [...b].join('.')) : [];
  }

  /** Effective weights answers use now, by member. */
  weights() {
    return servedWeights(this.current, this.now());
  }
}

module.exports = { SimTierdns };
