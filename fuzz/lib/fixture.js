'use strict';
// The zones and pools the query target answers from: every answer path docs/dns.md describes
// (pools up, down, large, backup, max-answers; CNAME and DNAME chains, into another zone too;
// wildcards; delegations with glue; MX/SRV additional data; a TXT too big for 512 bytes).

const { Snapshot } = require('../../dist/dns/snapshot');
const { parseZone } = require('../../dist/zone/parse');
const { poolView } = require('../../test/helpers/dns');

const BIG_TXT = Array.from({ length: 6 }, (_, i) => `"${String(i).repeat(200)}"`).join(' ');

const ZONES = {
  'lb.example.com': `$ORIGIN lb.example.com.
$TTL 300
@ IN SOA ns1 hostmaster.example.com. 1 7200 3600 1209600 60
@ NS ns1
@ NS ns2.other.test.
@ MX 10 mail
@ TXT "v=spf1 -all"
ns1 A 192.0.2.1
ns1 AAAA 2001:db8::1
mail A 192.0.2.25
www CNAME ws
alias CNAME www.other.test.
loop1 CNAME loop2
loop2 CNAME loop1
d DNAME other.test.
long DNAME ${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(50)}.other.test.
*.wild TXT "wildcard"
*.wild A 192.0.2.80
sub NS ns.sub
sub NS ns.other.test.
ns.sub A 192.0.2.53
_sip._udp SRV 10 5 5060 mail
big TXT ${BIG_TXT}
a.b.c TXT "deep"
`,
  'other.test': `$ORIGIN other.test.
$TTL 60
@ SOA ns2 h.other.test. 7 3600 600 86400 30
@ NS ns2
ns2 A 198.51.100.2
www A 198.51.100.80
`,
};

function member(i, m = {}) {
  return [i < 256 ? `10.0.${Math.floor(i / 256)}.${i % 256}` : `10.1.0.${i % 256}`, m];
}

function buildSnapshot() {
  const snap = new Snapshot({ warn: () => undefined });
  snap.setZones(Object.entries(ZONES).map(([origin, text]) => {
    const { zone, problems } = parseZone(text, { file: `${origin}.zone`, origin });
    if (problems.length) throw new Error(problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
    return zone;
  }));
  const pools = [
    poolView('ws.lb.example.com', [member(1), member(2, { weight: 3 }), member(3, { verdict: 'down' }), ['2001:db8::10']]),
    poolView('big.lb.example.com', Array.from({ length: 64 }, (_, i) => member(i + 1))),
    poolView('dark.lb.example.com', [member(9, { verdict: 'down' })], { whenAllDown: 'none' }),
    poolView('spare.lb.example.com', [member(7, { verdict: 'down' })], { whenAllDown: 'pool:ws.lb.example.com' }),
    poolView('two.lb.example.com', Array.from({ length: 8 }, (_, i) => member(i + 20)), { maxAnswers: 2 }),
    poolView('v6.lb.example.com', [['2001:db8::1:1'], ['2001:db8::1:2', { admin: 'drained' }]]),
    poolView('x.y.lb.example.com', [member(40)]),
  ];
  for (const p of pools) snap.setPool(p.config.name, p);
  return snap;
}

/**
 * A QueryHandler on the fixture's snapshot whose log keeps the last error it was given, so a
 * target can say why the answer path threw (handler.stats.failures counts those throws).
 */
function fuzzHandler() {
  const { QueryHandler } = require('../../dist/dns/handler');
  const snapshot = buildSnapshot();
  let lastError;
  const log = {
    error: (obj) => { lastError = obj?.err; },
    warn: () => undefined, info: () => undefined, debug: () => undefined, trace: () => undefined,
  };
  return { handler: new QueryHandler(() => snapshot, log), lastError: () => lastError?.stack ?? lastError };
}

module.exports = { buildSnapshot, fuzzHandler, ZONES };
