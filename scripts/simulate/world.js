'use strict';
// The world around tierdns (docs/steering.md, "The simulation"): balancer tiers with a
// connection capacity, clients arriving behind caching resolvers, long-lived sessions, and one
// tier restarting. Time advances a second at a time; everything random comes from one seed.

const { seeded, normal, poisson, zipf } = require('./rng');
const { SimTierdns } = require('./tierdns');

/** The model's parameters; every run of a comparison shares them. */
const WORLD = {
  tiers: 4,
  /** Connections one tier holds at most. */
  capacity: 10_000,
  /** Sessions in flight on average, as a share of all tiers' capacity. */
  utilisation: 0.7,
  /** Session lifetime: lognormal, median 10 min, sigma 1.5 (mean ~31 min, 1% last over 5.5 h), capped at 24 h. */
  lifetimeMedianS: 600,
  lifetimeSigma: 1.5,
  lifetimeCapS: 86_400,
  /** Recursive resolvers; clients pick one by Zipf(1): a few big ones serve most clients. */
  resolvers: 500,
  resolverZipf: 1,
  /** Answer TTL (the pool's) and probe interval. */
  ttlSeconds: 20,
  intervalMs: 2000,
  /** tierdns instances (ns1, ns2); a resolver asks either. */
  instances: 2,
  /** The restart: when, for how long the tier is down, and the verdict's detection delays. */
  restartAtS: 3600,
  downForS: 60,
  detectDownS: 3,
  detectUpS: 2,
  /** Clients of a tier that dies reconnect after 1..30 s. */
  reconnectMaxS: 30,
  /** Failed clients (every address refused) try again after 5..15 s, at most 3 times. */
  retries: 3,
  durationS: 6 * 3600,
  sampleEveryS: 10,
};

function lifetime(random, w) {
  return Math.min(w.lifetimeCapS, Math.max(1, Math.round(w.lifetimeMedianS * Math.exp(w.lifetimeSigma * normal(random)))));
}

/** A residual lifetime of a session in flight at equilibrium: length-biased lifetime, then a uniform point of it. */
function residual(random, w) {
  const biased = w.lifetimeMedianS * Math.exp(w.lifetimeSigma * w.lifetimeSigma + w.lifetimeSigma * normal(random));
  return Math.max(1, Math.round(Math.min(w.lifetimeCapS, biased) * random()));
}

/**
 * One run. `steer`: { load: 'none'|'json', slowStartMs, smoothingMs, minFactor }. Returns the
 * per-tier connection samples and the counters the report needs.
 */
function run(steer, seed, w = WORLD) {
  const random = seeded(seed);
  let nowS = 0;
  const ips = Array.from({ length: w.tiers }, (_, i) => `192.0.2.${11 + i}`);
  const tierOf = new Map(ips.map((ip, i) => [ip, i]));
  const dns = new SimTierdns(ips, { ...steer, capacity: w.capacity, intervalMs: w.intervalMs, ttlSeconds: w.ttlSeconds, instances: w.instances }, () => nowS * 1000);
  const conns = new Int32Array(w.tiers);
  const up = new Array(w.tiers).fill(true);
  const generation = new Int32Array(w.tiers);
  /** second -> flat list of [tier, generation] pairs of sessions ending then. */
  const ends = new Map();
  /** second -> clients (re)connecting then, by retries left. */
  const comebacks = new Map();
  const pickResolver = zipf(w.resolvers, w.resolverZipf);
  const cache = Array.from({ length: w.resolvers }, () => ({ untilS: -1, answer: [] }));
  const meanLifetimeS = w.lifetimeMedianS * Math.exp((w.lifetimeSigma * w.lifetimeSigma) / 2);
  const arrivalsPerS = (w.utilisation * w.tiers * w.capacity) / meanLifetimeS;
  const counters = { sessions: 0, refusedFull: 0, refusedDown: 0, failed: 0, queries: 0 };

  const endAt = (s, tier) => {
    let list = ends.get(s);
    if (!list) ends.set(s, (list = []));
    list.push(tier, generation[tier]);
  };
  const comeback = (s, retriesLeft) => {
    let list = comebacks.get(s);
    if (!list) comebacks.set(s, (list = []));
    list.push(retriesLeft);
  };
  // Equilibrium at start: sessions in flight spread evenly, as after a long run of any policy.
  const initial = Math.round(w.utilisation * w.tiers * w.capacity);
  for (let k = 0; k < initial; k++) {
    const tier = k % w.tiers;
    conns[tier]++;
    endAt(residual(random, w), tier);
  }

  /** A client connects: through its resolver's cached answer, trying the addresses in order. */
  const connect = (retriesLeft) => {
    const r = cache[pickResolver(random)];
    if (r.untilS <= nowS) {
      r.answer = dns.query(Math.floor(random() * w.instances));
      r.untilS = nowS + w.ttlSeconds;
      counters.queries++;
    }
    for (const ip of r.answer) {
      const tier = tierOf.get(ip);
      if (!up[tier]) {
        counters.refusedDown++;
        continue;
      }
      if (conns[tier] >= w.capacity) {
        counters.refusedFull++;
        continue;
      }
      conns[tier]++;
      endAt(nowS + lifetime(random, w), tier);
      return;
    }
    if (retriesLeft > 0) comeback(nowS + 5 + Math.floor(random() * 11), retriesLeft - 1);
    else counters.failed++;
  };

  const restarted = 0;
  const backUpS = w.restartAtS + w.downForS;
  const samples = [];
  for (nowS = 0; nowS <= w.durationS; nowS++) {
    if (nowS === w.restartAtS) {
      // The tier's process stops: every connection drops and its clients come back soon.
      up[restarted] = false;
      generation[restarted]++;
      for (let k = 0; k < conns[restarted]; k++) comeback(nowS + 1 + Math.floor(random() * w.reconnectMaxS), w.retries);
      conns[restarted] = 0;
    }
    if (nowS === w.restartAtS + w.detectDownS) dns.setVerdict(ips[restarted], 'down');
    if (nowS === backUpS) up[restarted] = true;
    if (nowS === backUpS + w.detectUpS) dns.setVerdict(ips[restarted], 'up');
    const list = ends.get(nowS);
    if (list) {
      for (let k = 0; k < list.length; k += 2) if (generation[list[k]] === list[k + 1]) conns[list[k]]--;
      ends.delete(nowS);
    }
    // Each instance reads every feed once an interval, the two instances half an interval apart.
    const intervalS = w.intervalMs / 1000;
    for (let i = 0; i < w.instances; i++) {
      if ((nowS + Math.floor((i * intervalS) / w.instances)) % intervalS === 0) {
        dns.readFeeds(i, (ip) => {
          const tier = tierOf.get(ip);
          return up[tier] ? { ok: true, count: { connections: conns[tier], capacity: w.capacity }, latencyMs: 1 } : { ok: false, error: 'ECONNREFUSED', latencyMs: 0 };
        });
      }
    }
    dns.tick();
    const back = comebacks.get(nowS);
    if (back) {
      comebacks.delete(nowS);
      for (const retriesLeft of back) connect(retriesLeft);
    }
    const arrivals = poisson(random, arrivalsPerS);
    counters.sessions += arrivals;
    for (let k = 0; k < arrivals; k++) connect(w.retries);
    if (nowS % w.sampleEveryS === 0) {
      const weights = dns.weights();
      samples.push({ s: nowS, conns: Array.from(conns), up: [...up], weights: ips.map((ip) => weights.get(ip) ?? 0) });
    }
  }
  return { samples, counters, backUpS, restartAtS: w.restartAtS, rebuilds: dns.rebuilds };
}

module.exports = { WORLD, run };
