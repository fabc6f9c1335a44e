'use strict';
// Metrics text: the pool and member series from the store snapshot, the counters the servers
// keep, and text that promtool accepts.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { Metrics } = require('../dist/server/metrics');
const { QueryStats } = require('../dist/dns/handler');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { summarizePool } = require('../dist/model/poolSummary');
const { zeroProbeStats, countProbe } = require('../dist/health/probeStats');

function member(ip, verdict, admin = 'enabled', observations = []) {
  return { ip, weight: 1, admin, addedAtMs: 1, verdict, verdictSinceMs: 1, observations };
}

function obs(instance, state) {
  return { instance, state, sinceMs: 1 };
}

function pool(name, members, config = {}) {
  return { config: { ...defaultPoolConfig(name), ...config }, members };
}

function metricsOf(pools, { instances = new Map(), status = 'ready', queries = new QueryStats(), probes } = {}) {
  const state = { status, pools: new Map(pools.map((p) => [p.config.name, p])), instances, lastSyncMs: 1_700_000_000_000 };
  return new Metrics({ queries, store: () => state, probes, version: '9.9.9' });
}

function value(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('pool members by verdict: check-none members count as up (as answers treat them), drained apart', async () => {
  const text = await metricsOf([
    pool('a.lb.example.com', [member('10.0.0.1', 'unknown'), member('10.0.0.2', 'unknown', 'drained')], { check: 'none' }),
    pool('b.lb.example.com', [member('10.0.0.3', 'down'), member('10.0.0.4', 'unknown')]),
  ]).text();
  assert.equal(value(text, 'tierdns_pool_members{pool="a.lb.example.com",state="up"}'), 1);
  assert.equal(value(text, 'tierdns_pool_members{pool="a.lb.example.com",state="unknown"}'), 0);
  assert.equal(value(text, 'tierdns_pool_members{pool="a.lb.example.com",state="drained"}'), 1);
  assert.equal(value(text, 'tierdns_pool_members{pool="b.lb.example.com",state="down"}'), 1);
  assert.equal(value(text, 'tierdns_pool_members{pool="b.lb.example.com",state="unknown"}'), 1);
  assert.equal(value(text, 'tierdns_member_up{pool="a.lb.example.com",member="10.0.0.1"}'), 1);
  assert.equal(value(text, 'tierdns_member_up{pool="b.lb.example.com",member="10.0.0.4"}'), 0);
  assert.equal(value(text, 'tierdns_member_drained{pool="a.lb.example.com",member="10.0.0.2"}'), 1);
  assert.equal(value(text, 'tierdns_member_drained{pool="a.lb.example.com",member="10.0.0.1"}'), 0);
  assert.equal(value(text, 'tierdns_member_effective_weight{pool="b.lb.example.com",member="10.0.0.3"}'), 1);
  assert.equal(value(text, 'tierdns_store_up'), 1);
  assert.equal(value(text, 'tierdns_store_last_sync_timestamp_seconds'), 1_700_000_000);
  assert.equal(value(text, 'tierdns_build_info{version="9.9.9",node="' + process.versions.node + '"}'), 1);
  // Rows sit under their family's TYPE line, ahead of the next family.
  const at = (re) => text.search(re);
  assert.ok(at(/^# TYPE tierdns_pool_members gauge$/m) < at(/^tierdns_pool_members\{pool="a/m));
  assert.ok(at(/^tierdns_pool_members\{pool="b.*state="drained"\} 0$/m) < at(/^# HELP tierdns_pool_failing_open/m));
});

test('failing open: per address family, only under --when-all-down all', () => {
  const fo = (members, config) => summarizePool(pool('p.lb.example.com', members, config)).failingOpen;
  assert.equal(fo([member('10.0.0.1', 'down'), member('10.0.0.2', 'down')]), true);
  assert.equal(fo([member('10.0.0.1', 'unknown')]), true, 'no verdict yet: every enabled member is handed out');
  assert.equal(fo([member('10.0.0.1', 'down'), member('10.0.0.2', 'up')]), false);
  // IPv6 all down while IPv4 is up: AAAA answers fail open.
  assert.equal(fo([member('10.0.0.1', 'up'), member('2001:db8::1', 'down')]), true);
  // A drained member is never handed out, so it does not make a pool fail open.
  assert.equal(fo([member('10.0.0.1', 'down', 'drained'), member('10.0.0.2', 'up')]), false);
  assert.equal(fo([member('10.0.0.1', 'down', 'drained')]), false);
  assert.equal(fo([member('10.0.0.1', 'down')], { whenAllDown: 'none' }), false);
  assert.equal(fo([member('10.0.0.1', 'down')], { whenAllDown: 'pool:backup.lb.example.com' }), false);
  assert.equal(fo([]), false);
});

test('disputed members: only live instances count, unknown does not vote', async () => {
  const p = pool('d.lb.example.com', [
    member('10.0.0.1', 'up', 'enabled', [obs('ns1', 'up'), obs('ns2', 'down')]),
    member('10.0.0.2', 'up', 'enabled', [obs('ns1', 'up'), obs('ns3', 'down')]),
    member('10.0.0.3', 'up', 'enabled', [obs('ns1', 'up'), obs('ns2', 'unknown')]),
  ]);
  const text = await metricsOf([p], { instances: new Map([['ns1', 1], ['ns2', 1]]) }).text();
  assert.equal(value(text, 'tierdns_pool_members_disputed{pool="d.lb.example.com"}'), 1);
  assert.equal(value(text, 'tierdns_live_instances'), 2);
});

test('query counters, the sampled answer-time histogram and probe stats are read at scrape time', async () => {
  const queries = new QueryStats();
  const probes = zeroProbeStats();
  const m = metricsOf([], { queries, probes: () => probes, status: 'down' });
  queries.byRcode[3] = 5;
  queries.byType[1] = 4;
  queries.byType[256] = 2;
  queries.observeLatency(30);
  queries.observeLatency(2000);
  countProbe(probes, true, 0.5);
  countProbe(probes, false, 1000);
  const text = await m.text();
  assert.equal(value(text, 'tierdns_answers_total{rcode="NXDOMAIN"}'), 5);
  assert.equal(value(text, 'tierdns_queries_total{qtype="A"}'), 4);
  assert.equal(value(text, 'tierdns_queries_total{qtype="other"}'), 2);
  assert.equal(value(text, 'tierdns_answer_duration_seconds_bucket{le="0.00005"}'), 1);
  assert.equal(value(text, 'tierdns_answer_duration_seconds_bucket{le="0.005"}'), 2);
  assert.equal(value(text, 'tierdns_answer_duration_seconds_count'), 2);
  assert.equal(value(text, 'tierdns_probes_total{result="ok"}'), 1);
  assert.equal(value(text, 'tierdns_probes_total{result="failed"}'), 1);
  assert.equal(value(text, 'tierdns_probe_duration_seconds_bucket{le="0.001"}'), 1);
  assert.equal(value(text, 'tierdns_probe_duration_seconds_bucket{le="1"}'), 2);
  assert.equal(value(text, 'tierdns_probe_duration_seconds_sum'), 1.0005);
  assert.equal(value(text, 'tierdns_store_up'), 0);
  // A later scrape sees later counts (nothing is cached between scrapes).
  queries.byRcode[3] = 6;
  assert.equal(value(await m.text(), 'tierdns_answers_total{rcode="NXDOMAIN"}'), 6);
});

test('promtool accepts the text, label values with quotes and backslashes included', async () => {
  const text = await metricsOf([
    pool('a.lb.example.com', [member('10.0.0.1', 'up'), member('2001:db8::1', 'down', 'drained')]),
    pool('odd"\\name.lb.example.com', [member('10.0.0.2', 'up')]),
  ], { probes: zeroProbeStats }).text();
  assert.match(text, /^tierdns_pool_failing_open\{pool="odd\\"\\\\name\.lb\.example\.com"\} 0$/m);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool must be installed (Debian package prometheus; .ci/run installs it)');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
