'use strict';
// renderMetrics: Prometheus text from the stats the servers keep and the store snapshot.
const test = require('node:test');
const assert = require('node:assert/strict');
const { renderMetrics } = require('../dist/server/metrics');
const { QueryStats } = require('../dist/dns/handler');
const { defaultPoolConfig } = require('../dist/model/poolConfig');

function member(ip, verdict, admin = 'enabled') {
  return { ip, weight: 1, admin, addedAtMs: 1, verdict, verdictSinceMs: 1, observations: [] };
}

test('pool members by verdict: check-none members count as up (as answers treat them), drained apart', () => {
  const pools = new Map([
    ['a.lb.example.com', { config: { ...defaultPoolConfig('a.lb.example.com'), check: 'none' }, members: [member('10.0.0.1', 'unknown'), member('10.0.0.2', 'unknown', 'drained')] }],
    ['b.lb.example.com', { config: defaultPoolConfig('b.lb.example.com'), members: [member('10.0.0.3', 'down'), member('10.0.0.4', 'unknown')] }],
  ]);
  const text = renderMetrics({
    queries: new QueryStats(),
    store: () => ({ status: 'ready', snapshot: { pools, zones: [], instances: new Map() } }),
  });
  const value = (labels) => Number(new RegExp(`^tierdns_pool_members\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('pool="a.lb.example.com",state="up"'), 1);
  assert.equal(value('pool="a.lb.example.com",state="unknown"'), 0);
  assert.equal(value('pool="a.lb.example.com",state="drained"'), 1);
  assert.equal(value('pool="b.lb.example.com",state="down"'), 1);
  assert.equal(value('pool="b.lb.example.com",state="unknown"'), 1);
  assert.match(text, /^tierdns_store_up 1$/m);
  // Rows sit under their metric's TYPE line, ahead of the next metric.
  const at = (re) => text.search(re);
  assert.ok(at(/^# TYPE tierdns_pool_members gauge$/m) < at(/^tierdns_pool_members\{pool="a/m));
  assert.ok(at(/^tierdns_pool_members\{pool="b.*state="drained"\} 0$/m) < at(/^# HELP tierdns_live_instances/m));

  // Rows are kept per pool view: the same views render the same, a replaced view as it is now.
  const render = () => renderMetrics({ queries: new QueryStats(), store: () => ({ status: 'ready', snapshot: { pools, zones: [], instances: new Map() } }) });
  assert.equal(render(), text);
  pools.set('b.lb.example.com', { config: defaultPoolConfig('b.lb.example.com'), members: [member('10.0.0.3', 'up'), member('10.0.0.4', 'up')] });
  const after = render();
  assert.match(after, /^tierdns_pool_members\{pool="b.lb.example.com",state="up"\} 2$/m);
  assert.match(after, /^tierdns_pool_members\{pool="b.lb.example.com",state="down"\} 0$/m);
  assert.match(after, /^tierdns_pool_members\{pool="a.lb.example.com",state="drained"\} 1$/m);
});
