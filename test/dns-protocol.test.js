'use strict';
// PRODUCT.md §9, item by item, against the real server over real sockets.
require('./helpers/native-env');
const test = require('node:test');
const assert = require('node:assert/strict');
const { ask, buildQuery, udpExchange, tcpExchange, decode, startDns, poolView, encodeName, TYPES } = require('./helpers/dns');
const ZONE = require('./fixtures/example.zone');

const NET_ZONE = `
$ORIGIN example.net.
$TTL 60
@ SOA ns1.example.com. h.example.com. 1 2 3 4 30
@ NS ns1.example.com.
target A 127.0.0.77
`;

// Shapes found by the differential run against Knot (scripts/conformance.sh).
const LONG = ['a', 'b', 'c', 'd'].map((c) => c.repeat(60)).join('.');
const CONF_ZONE = `
$ORIGIN conf.test.
$TTL 60
@ SOA ns h 1 2 3 4 30
@ NS ns
ns A 127.0.0.1
c CNAME target
target A 127.0.0.2
tocut CNAME www.sub
sub NS ns.sub
ns.sub A 127.0.0.3
long DNAME ${LONG}.
d2 DNAME conf.test.
${Array.from({ length: 12 }, (_, i) => `fat NS ns${i}-${'n'.repeat(50)}.fat`).join('\n')}
ns0-${'n'.repeat(50)}.fat A 127.0.0.4
`;

// A zone whose SOA names are long and outside it: its negative answers cannot use pointers.
const L60 = (c) => c.repeat(60);
const FAR_ZONE = `
$ORIGIN far.test.
$TTL 60
@ SOA ${L60('m')}.${L60('n')}.${L60('o')}.example.org. ${L60('h')}.${L60('i')}.${L60('j')}.example.org. 1 2 3 4 30
@ NS ns.example.org.
`;

let srv;
test.before(async () => {
  srv = await startDns(null, {
    zones: { 'example.com': ZONE, 'example.net': NET_ZONE, 'conf.test': CONF_ZONE, 'far.test': FAR_ZONE },
    pools: [poolView('ws.example.com', [['127.0.1.1'], ['127.0.1.2'], ['::1']]), poolView('p.d2.conf.test', [['127.0.1.9']])],
  });
});
test.after(() => srv.close());

const rrs = (section) => section.map((r) => `${r.name.toLowerCase()} ${r.ttl} ${r.type} ${r.address ?? r.domain ?? r.exchange ?? r.data ?? r.target ?? r.ns ?? ''}`).sort();

test('header: QR=1, ID, opcode, RD and CD copied, RA=0, Z=0, AD=0', async () => {
  const r = await ask(srv.port, 'example.com', 'SOA', { id: 0xbeef, cd: true });
  assert.equal(r.id, 0xbeef);
  assert.equal(r.qr, 1);
  assert.equal(r.rd, 1);
  assert.equal(r.cd, 1);
  assert.equal(r.ra, 0);
  assert.equal(r.z, 0);
  assert.equal(r.ad, 0);
  assert.equal(r.aa, 1);
  const r2 = await ask(srv.port, 'example.com', 'SOA', { rd: false });
  assert.equal(r2.rd, 0);
  assert.equal(r2.cd, 0);
});

test('packets shorter than a header and packets with QR=1 are dropped', async () => {
  assert.equal(await udpExchange(srv.port, Buffer.from([1, 2, 3, 4, 5]), { timeoutMs: 300 }), null);
  const q = buildQuery('example.com', 'A');
  q[2] |= 0x80;
  assert.equal(await udpExchange(srv.port, q, { timeoutMs: 300 }), null);
});

test('opcode other than QUERY gets NOTIMP with flags cleared', async () => {
  const r = await ask(srv.port, 'example.com', 'SOA', { opcode: 2 });
  assert.equal(r.rcode, 4);
  assert.equal(r.opcode, 2);
  assert.equal(r.aa, 0);
  assert.equal(r.answers.length, 0);
  // ISC genreport "opcodeflg": opcode 15, no question, every flag set -> NOTIMP, no flag echoed.
  const h = Buffer.from([0x12, 0x34, (15 << 3) | 0x07, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const flg = decode(await udpExchange(srv.port, h));
  assert.equal(flg.rcode, 4);
  assert.equal(flg.opcode, 15);
  assert.deepEqual([flg.qr, flg.aa, flg.tc, flg.rd, flg.ra, flg.z, flg.ad, flg.cd], [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(flg.questions.length, 0);
  const notify = await ask(srv.port, 'example.com', 'SOA', { opcode: 4 });
  assert.equal(notify.rcode, 4);
});

test('QDCOUNT other than 1 gets FORMERR', async () => {
  const zero = Buffer.alloc(12);
  zero.writeUInt16BE(7, 0);
  const r0 = decode(await udpExchange(srv.port, zero));
  assert.equal(r0.rcode, 1);
  assert.equal(r0.id, 7);
  const two = buildQuery('example.com', 'A', { qdcount: 2 });
  const r2 = decode(await udpExchange(srv.port, two));
  assert.equal(r2.rcode, 1);
});

test('class other than IN is REFUSED; names outside every zone are REFUSED without AA', async () => {
  const ch = await ask(srv.port, 'version.bind', 'TXT', { qclass: 3 });
  assert.equal(ch.rcode, 5);
  const any = await ask(srv.port, 'example.com', 'SOA', { qclass: 255 });
  assert.equal(any.rcode, 5);
  const out = await ask(srv.port, 'example.org', 'A');
  assert.equal(out.rcode, 5);
  assert.equal(out.aa, 0);
  const root = await ask(srv.port, '.', 'NS');
  assert.equal(root.rcode, 5);
});

test('the question is echoed byte for byte (0x20 mixed case) and matched case-insensitively', async () => {
  const q = buildQuery('WwW.ExAmPlE.CoM', 'A');
  const buf = await udpExchange(srv.port, q);
  assert.deepEqual(buf.subarray(12, q.length), q.subarray(12));
  const r = decode(buf);
  assert.equal(r.rcode, 0);
  assert.equal(r.answers[0].type, TYPES.CNAME);
  const pool = buildQuery('WS.example.COM', 'A');
  const pbuf = await udpExchange(srv.port, pool);
  assert.deepEqual(pbuf.subarray(12, pool.length), pool.subarray(12));
  assert.equal(decode(pbuf).answers.length, 2);
});

test('a known pool name is recognised in any case, and a name sharing its table slot is not mistaken for it', async () => {
  // The hot path remembers names a pool answered by their case-folded wire bytes in a
  // direct-mapped table (src/dns/query.ts, FNV-1a into 4,096 slots): same slot, other name.
  const slotOf = (name) => {
    let h = 0x811c9dc5;
    for (const b of encodeName(name).subarray(0, -1)) h = Math.imul(h ^ (b >= 0x41 && b <= 0x5a ? b + 0x20 : b), 0x01000193);
    return (h >>> 0) & 4095;
  };
  const target = slotOf('ws.example.com');
  let twin;
  for (let i = 0; twin === undefined; i++) if (slotOf(`c${i}.example.com`) === target) twin = `c${i}.example.com`;
  for (const name of ['ws.example.com', 'WS.EXAMPLE.COM', 'wS.eXaMpLe.cOm']) {
    const q = buildQuery(name, 'A');
    const buf = await udpExchange(srv.port, q);
    assert.deepEqual(buf.subarray(12, q.length), q.subarray(12), name);
    assert.equal(decode(buf).answers.length, 2, name);
    const other = await ask(srv.port, twin, 'A');
    assert.equal(other.rcode, 3, `${twin} after ${name}`);
    assert.equal(other.answers.length, 0);
  }
});

test('NXDOMAIN carries the SOA with TTL min(SOA TTL, MINIMUM)', async () => {
  const r = await ask(srv.port, 'nope.example.com', 'A');
  assert.equal(r.rcode, 3);
  assert.equal(r.aa, 1);
  assert.equal(r.answers.length, 0);
  assert.equal(r.authorities.length, 1);
  assert.equal(r.authorities[0].type, TYPES.SOA);
  assert.equal(r.authorities[0].ttl, 300);
  const net = await ask(srv.port, 'nope.example.net', 'A');
  assert.equal(net.authorities[0].ttl, 30);
});

test('negative answers: the SOA points into the question (case kept); names outside the zone are whole; too big is TC', async () => {
  // NXDOMAIN and NODATA copy the SOA from a per-zone template: owner, MNAME and RNAME end in
  // a pointer to the zone's name inside the question, wherever that is.
  for (const [name, type, rcode] of [['NoPe.Example.COM', 'A', 3], ['x.y.nope.example.com', 'AAAA', 3], ['mail.example.com', 'AAAA', 0], ['ws.example.com', 'MX', 0]]) {
    for (const edns of [undefined, { udp: 1232, do: true }]) {
      const r = await ask(srv.port, name, type, { edns });
      assert.equal(r.rcode, rcode, name);
      assert.equal(r.aa, 1);
      assert.equal(r.authorities.length, 1);
      const soa = r.authorities[0];
      // The pointers carry the question's case, as they did from the general writer.
      assert.deepEqual([soa.name.toLowerCase(), soa.ttl, soa.primary.toLowerCase(), soa.admin.toLowerCase(), soa.serial, soa.minimum],
        ['example.com', 300, 'ns1.example.com', 'hostmaster.example.com', 2026112501, 300], name);
      const qnameEnd = 12 + name.length + 2;
      const apexAt = 12 + name.length - 'example.com'.length;
      assert.equal(r.raw.readUInt16BE(qnameEnd + 4), 0xc000 | apexAt, `${name}: owner is a pointer to the zone's name`);
      // ns1 + pointer, hostmaster + pointer, 5 numbers: 2 + 10 + (4 + 2) + (11 + 2) + 20 bytes.
      assert.equal(r.raw.length, qnameEnd + 4 + 51 + (edns ? 11 : 0), name);
      assert.equal(r.raw.toString('latin1', 12, qnameEnd).includes(name.split('.')[0]), true, 'question case kept');
    }
  }
  // SOA names outside the zone are written whole, whatever the question.
  const net = await ask(srv.port, 'NoPe.example.net', 'A');
  assert.deepEqual([net.rcode, net.authorities[0].primary, net.authorities[0].admin, net.authorities[0].ttl], [3, 'ns1.example.com', 'h.example.com', 30]);
  // 12 + question (193 + 4) + SOA (2 + 10 + 2 x 193 + 20) is over 512: TC without EDNS, and
  // the same answer over EDNS and over TCP.
  const longName = `${L60('a')}.${L60('b')}.${L60('c')}.far.test`;
  const small = await ask(srv.port, longName, 'A');
  assert.deepEqual([small.rcode, small.tc, small.authorities.length], [3, 1, 0]);
  for (const opts of [{ edns: { udp: 1232 } }, { tcp: true }]) {
    const big = opts.tcp ? decode(await tcpExchange(srv.port, [buildQuery(longName, 'A')]).then((a) => a[0])) : await ask(srv.port, longName, 'A', opts);
    assert.deepEqual([big.rcode, big.tc, big.authorities.length], [3, 0, 1], JSON.stringify(opts));
    assert.equal(big.authorities[0].primary, `${L60('m')}.${L60('n')}.${L60('o')}.example.org`);
    assert.equal(big.authorities[0].admin, `${L60('h')}.${L60('i')}.${L60('j')}.example.org`);
  }
});

test('NODATA carries the SOA; empty non-terminals are NODATA, not NXDOMAIN', async () => {
  const r = await ask(srv.port, 'mail.example.com', 'AAAA');
  assert.equal(r.rcode, 0);
  assert.equal(r.answers.length, 0);
  assert.equal(r.authorities[0].type, TYPES.SOA);
  for (const name of ['sub.example.com', 'ent.sub.example.com', '_tcp.example.com']) {
    const e = await ask(srv.port, name, 'A');
    assert.equal(e.rcode, 0, name);
    assert.equal(e.authorities[0].type, TYPES.SOA, name);
  }
  const below = await ask(srv.port, 'x.deep.ent.sub.example.com', 'A');
  assert.equal(below.rcode, 3);
});

test('in-zone CNAMEs are chased, across our zones too; loops and out-of-zone targets stop', async () => {
  const r = await ask(srv.port, 'alias.example.com', 'A');
  assert.deepEqual(r.answers.map((a) => a.type), [TYPES.CNAME, TYPES.CNAME, TYPES.A, TYPES.A]);
  assert.equal(r.aa, 1);
  const loop = await ask(srv.port, 'loop1.example.com', 'A');
  assert.equal(loop.rcode, 0);
  assert.deepEqual(loop.answers.map((a) => a.type), [TYPES.CNAME, TYPES.CNAME]);
  const out = await ask(srv.port, 'out.example.com', 'A');
  assert.equal(out.answers.length, 1);
  assert.equal(out.answers[0].domain, 'target.elsewhere.net');
  const cname = await ask(srv.port, 'www.example.com', 'CNAME');
  assert.deepEqual(cname.answers.map((a) => a.type), [TYPES.CNAME]);
});

test('apex NS answers carry glue in the additional section', async () => {
  const r = await ask(srv.port, 'example.com', 'NS');
  assert.equal(r.answers.length, 2);
  assert.deepEqual(rrs(r.additionals), ['ns1.example.com 3600 1 127.0.0.1', 'ns1.example.com 3600 28 ::1', 'ns2.example.com 3600 1 127.0.0.2'].sort());
});

test('delegations below the zone get referrals: AA=0, NS in authority, glue', async () => {
  for (const name of ['child.example.com', 'www.child.example.com']) {
    const r = await ask(srv.port, name, 'A');
    assert.equal(r.rcode, 0);
    assert.equal(r.aa, 0);
    assert.equal(r.answers.length, 0);
    assert.deepEqual(r.authorities.map((a) => a.type), [TYPES.NS, TYPES.NS]);
    assert.deepEqual(rrs(r.additionals), ['ns.child.example.com 3600 1 127.0.0.53']);
  }
  const ds = await ask(srv.port, 'child.example.com', 'DS');
  assert.equal(ds.aa, 1);
  assert.equal(ds.authorities[0].type, TYPES.SOA);
});

test('wildcards synthesize answers at the query name (RFC 4592)', async () => {
  const r = await ask(srv.port, 'anything.wild.example.com', 'TXT');
  assert.equal(r.rcode, 0);
  assert.equal(r.answers[0].name.toLowerCase(), 'anything.wild.example.com');
  const deep = await ask(srv.port, 'a.b.wild.example.com', 'A');
  assert.equal(deep.answers[0].address, '127.0.0.10');
  const real = await ask(srv.port, 'host.wild.example.com', 'A');
  assert.equal(real.answers.length, 0, 'existing names are not covered by the wildcard');
  assert.equal(real.rcode, 0);
  const below = await ask(srv.port, 'x.host.wild.example.com', 'A');
  assert.equal(below.rcode, 3, 'the closest encloser host.wild has no wildcard child');
});

test('DNAME answers with the DNAME and a synthesized CNAME (RFC 6672)', async () => {
  const r = await ask(srv.port, 'target.dn.example.com', 'A');
  assert.deepEqual(r.answers.map((a) => a.type), [TYPES.DNAME, TYPES.CNAME, TYPES.A]);
  assert.equal(r.answers[2].address, '127.0.0.77');
});

test('MX and SRV answers add the addresses we hold', async () => {
  const mx = await ask(srv.port, 'example.com', 'MX');
  assert.deepEqual(rrs(mx.additionals), ['mail.example.com 3600 1 127.0.0.25']);
  const srvr = await ask(srv.port, '_sip._tcp.example.com', 'SRV');
  assert.deepEqual(rrs(srvr.additionals), ['sip.example.com 3600 1 127.0.0.30']);
});

test('EDNS: OPT iff the query had one, version 0, payload 1232, DO copied', async () => {
  const plain = await ask(srv.port, 'example.com', 'SOA');
  assert.equal(plain.opt, undefined);
  const e = await ask(srv.port, 'example.com', 'SOA', { edns: { udp: 4096, do: true } });
  assert.equal(e.opt.version, 0);
  assert.equal(e.opt.do, true);
  assert.equal(e.opt.udp, 1232);
  const nodo = await ask(srv.port, 'example.com', 'SOA', { edns: { udp: 4096 } });
  assert.equal(nodo.opt.do, false);
  const pool = await ask(srv.port, 'ws.example.com', 'A', { edns: { udp: 1400, do: true } });
  assert.equal(pool.opt.do, true);
  assert.equal(pool.answers.length, 2);
});

test('EDNS: version > 0 gets BADVERS with an OPT of version 0', async () => {
  const r = await ask(srv.port, 'example.com', 'SOA', { edns: { version: 1 } });
  assert.equal(r.rcode, 16);
  assert.equal(r.opt.version, 0);
  assert.equal(r.answers.length, 0);
});

test('EDNS: unknown options and flags are ignored and never echoed', async () => {
  const r = await ask(srv.port, 'example.com', 'SOA', {
    edns: { flags: 0x4000, options: [{ code: 65001, data: Buffer.from('abc') }, { code: 10, data: Buffer.alloc(8, 7) }] },
  });
  assert.equal(r.rcode, 0);
  assert.equal(r.answers.length, 1);
  const raw = r.raw;
  // Our OPT is the last 11 bytes: no options, flags only DO (clear here).
  assert.equal(raw.readUInt16BE(raw.length - 2), 0);
  assert.equal(raw.readUInt16BE(raw.length - 4), 0);
});

test('EDNS: more than one OPT is FORMERR', async () => {
  const q = buildQuery('example.com', 'SOA', { edns: {} });
  const opt = q.subarray(q.length - 11);
  const twice = Buffer.concat([q, opt]);
  twice.writeUInt16BE(2, 10);
  const r = decode(await udpExchange(srv.port, twice));
  assert.equal(r.rcode, 1);
});

test('EDNS: a malformed OPT (options overrunning RDATA, non-root owner) is FORMERR', async () => {
  const q = buildQuery('example.com', 'SOA', { edns: { options: [{ code: 3, data: Buffer.alloc(4) }] } });
  q.writeUInt16BE(100, q.length - 6); // option length beyond the RDATA
  assert.equal(decode(await udpExchange(srv.port, q)).rcode, 1);
});

test('EDNS: payload is clamped to min(client, 1232); 512 without EDNS; truncation keeps the OPT', async () => {
  const noEdns = await ask(srv.port, 'big.example.com', 'TXT');
  assert.equal(noEdns.tc, 1);
  assert.ok(noEdns.raw.length <= 512);
  assert.equal(noEdns.answers.length, 0, 'the TXT RRset is dropped whole');
  const small = await ask(srv.port, 'big.example.com', 'TXT', { edns: { udp: 1000 } });
  assert.equal(small.tc, 1);
  assert.ok(small.raw.length <= 1000);
  assert.ok(small.opt, 'OPT kept');
  const fits = await ask(srv.port, 'big.example.com', 'TXT', { edns: { udp: 65000 } });
  assert.equal(fits.tc, 0);
  assert.equal(fits.answers.length, 3);
  assert.ok(fits.raw.length <= 1232);
  const [tcp] = await tcpExchange(srv.port, [buildQuery('big.example.com', 'TXT')]);
  assert.equal(decode(tcp).answers.length, 3);
});

test('ANY gets a minimal answer (RFC 8482)', async () => {
  const r = await ask(srv.port, 'example.com', 'ANY');
  assert.equal(r.rcode, 0);
  assert.equal(r.answers.length, 1);
  const pool = await ask(srv.port, 'ws.example.com', 'ANY');
  assert.equal(pool.answers.length, 2);
  assert.ok(pool.answers.every((a) => a.type === TYPES.A));
});

test('AXFR and IXFR are REFUSED over UDP and TCP', async () => {
  assert.equal((await ask(srv.port, 'example.com', 'AXFR')).rcode, 5);
  assert.equal((await ask(srv.port, 'example.com', 'IXFR')).rcode, 5);
  const [buf] = await tcpExchange(srv.port, [buildQuery('example.com', 'AXFR')]);
  assert.equal(decode(buf).rcode, 5);
});

test('other static types: TXT, CAA, SRV', async () => {
  const txt = await ask(srv.port, 'example.com', 'TXT');
  assert.equal(txt.answers.length, 1);
  const caa = await ask(srv.port, 'caa.example.com', 'CAA');
  assert.equal(caa.answers.length, 1);
  assert.deepEqual(caa.raw.subarray(caa.raw.length - 20), Buffer.from('\x05issueletsencrypt.org', 'latin1').subarray(1));
});

test('TCP: pipelined queries each get an answer with their own ID', async () => {
  const msgs = [];
  for (let i = 0; i < 50; i++) msgs.push(buildQuery(i % 2 ? 'ws.example.com' : 'example.com', i % 2 ? 'A' : 'SOA', { id: 1000 + i }));
  const answers = await tcpExchange(srv.port, msgs);
  assert.equal(answers.length, 50);
  const ids = answers.map((a) => a.readUInt16BE(0)).sort((a, b) => a - b);
  assert.deepEqual(ids, msgs.map((_, i) => 1000 + i));
  for (const a of answers) assert.equal(decode(a).rcode, 0);
});

test('questions with bad names are FORMERR: label type 0x40, overlong name, truncated question', async () => {
  const bad = buildQuery('example.com', 'A');
  bad[12] = 0x41;
  assert.equal(decode(await udpExchange(srv.port, bad)).rcode, 1);
  const long = buildQuery(Array(5).fill('a'.repeat(60)).join('.'), 'A');
  assert.equal(decode(await udpExchange(srv.port, long)).rcode, 1);
  const cut = buildQuery('example.com', 'A').subarray(0, 20);
  assert.equal(decode(await udpExchange(srv.port, cut)).rcode, 1);
  const ptr = Buffer.concat([buildQuery('example.com', 'A').subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
  assert.equal(decode(await udpExchange(srv.port, ptr)).rcode, 1);
});

test('meta query types: OPT as QTYPE is FORMERR, other meta types NOTIMP', async () => {
  assert.equal((await ask(srv.port, 'example.com', 41)).rcode, 1);
  assert.equal((await ask(srv.port, 'example.com', 250)).rcode, 4);
});

test('Node dns.Resolver gets the same answers', async () => {
  const { Resolver } = require('node:dns').promises;
  const r = new Resolver();
  r.setServers([`127.0.0.1:${srv.port}`]);
  assert.deepEqual((await r.resolve4('ns1.example.com')).sort(), ['127.0.0.1']);
  assert.deepEqual((await r.resolve4('ws.example.com')).sort(), ['127.0.1.1', '127.0.1.2']);
  assert.deepEqual(await r.resolve6('ws.example.com'), ['::1']);
  const mx = await r.resolveMx('example.com');
  assert.deepEqual(mx, [{ exchange: 'mail.example.com', priority: 10 }]);
  await assert.rejects(r.resolve4('nope.example.com'), { code: 'ENOTFOUND' });
});

test('question names with escapes (dots, binary labels) do not confuse lookup', async () => {
  const name = Buffer.concat([Buffer.from([5]), Buffer.from('a.b\x00C', 'latin1'), encodeName('example.com')]);
  const q = Buffer.concat([buildQuery('x', 'A').subarray(0, 12), name, Buffer.from([0, 1, 0, 1])]);
  const r = decode(await udpExchange(srv.port, q));
  assert.equal(r.rcode, 3);
});

test('dig (installed by .ci/run) sees an authoritative answer, EDNS and the pool', async () => {
  // Asynchronous: the server runs in this process and must keep answering while dig waits.
  const execFile = require('node:util').promisify(require('node:child_process').execFile);
  const run = async (...args) => (await execFile('dig', ['@127.0.0.1', '-p', String(srv.port), '+norec', '+time=2', '+tries=1', ...args])).stdout;
  const soa = await run('example.com', 'SOA');
  assert.match(soa, /status: NOERROR/);
  assert.match(soa, /flags: qr aa;/);
  assert.match(soa, /EDNS: version: 0, flags:; udp: 1232/);
  const pool = (await run('ws.example.com', 'A', '+short')).trim().split('\n').sort();
  assert.deepEqual(pool, ['127.0.1.1', '127.0.1.2']);
  const nx = await run('nope.example.com', 'A');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /AUTHORITY: 1/);
  const tcp = await run('big.example.com', 'TXT', '+tcp');
  assert.match(tcp, /ANSWER: 3/);
});

test('ANY at a CNAME owner answers the CNAME alone (RFC 1034 4.3.2 3a)', async () => {
  const r = await ask(srv.port, 'c.conf.test', 'ANY');
  assert.equal(r.rcode, 0);
  assert.deepEqual(r.answers.map((a) => a.type), [TYPES.CNAME]);
});

test('DNAME: QTYPE CNAME gets the synthesized CNAME as the answer; an overlong result is YXDOMAIN (RFC 6672 2.2)', async () => {
  const cname = await ask(srv.port, 'x.d2.conf.test', 'CNAME');
  assert.equal(cname.rcode, 0);
  assert.deepEqual(cname.answers.map((a) => a.type), [TYPES.DNAME, TYPES.CNAME]);
  assert.equal(cname.authorities.length, 0, 'not chased into x.conf.test (NXDOMAIN with SOA)');
  const prefix = Array.from({ length: 5 }, () => 'q'.repeat(10)).join('.');
  const long = await ask(srv.port, `${prefix}.long.conf.test`, 'A');
  assert.equal(long.rcode, 6);
  assert.deepEqual(long.answers.map((a) => a.type), [TYPES.DNAME]);
});

test('a CNAME whose target is below a delegation ends with the referral in authority (RFC 1034 4.3.2 3b)', async () => {
  const r = await ask(srv.port, 'tocut.conf.test', 'A');
  assert.equal(r.rcode, 0);
  assert.equal(r.aa, 1);
  assert.deepEqual(r.answers.map((a) => a.type), [TYPES.CNAME]);
  assert.deepEqual(r.authorities.map((a) => a.type), [TYPES.NS]);
  assert.deepEqual(rrs(r.additionals), ['ns.sub.conf.test 60 1 127.0.0.3']);
});

test('truncation adds nothing after the dropped RRset: no glue without its NS', async () => {
  const r = await ask(srv.port, 'www.fat.conf.test', 'A');
  assert.equal(r.tc, 1);
  assert.equal(r.authorities.length, 0);
  assert.equal(r.additionals.length, 0);
  const big = await ask(srv.port, 'www.fat.conf.test', 'A', { edns: { udp: 4096 } });
  assert.equal(big.tc, 0);
  assert.equal(big.authorities.length, 12);
  assert.equal(big.additionals.filter((a) => a.type === TYPES.A).length, 1);
});

test('names in NS, CNAME, MX and SOA RDATA are compressed (RFC 1035 4.1.4)', async () => {
  const ns = await ask(srv.port, 'example.com', 'NS');
  // ns1.example.com and ns2.example.com point into the question name: 2 + 4 bytes each.
  assert.deepEqual(ns.answers.map((a) => a.ns).sort(), ['ns1.example.com', 'ns2.example.com']);
  const soa = await ask(srv.port, 'example.com', 'SOA');
  assert.equal(soa.answers[0].primary, 'ns1.example.com');
  assert.equal(soa.answers[0].admin, 'hostmaster.example.com');
  assert.ok(soa.raw.length < 100, `SOA answer is ${soa.raw.length} bytes`);
  const mx = await ask(srv.port, 'example.com', 'MX');
  assert.equal(mx.answers[0].exchange, 'mail.example.com');
  const dig = await ask(srv.port, 'www.example.com', 'CNAME');
  assert.equal(dig.answers[0].domain, 'ws.example.com');
  // A referral that fits 512 bytes only compressed.
  const big = await ask(srv.port, 'x.child.example.com', 'A');
  assert.equal(big.tc, 0);
});

test('NOTIMP and FORMERR answers carry an OPT when the query had one (RFC 6891 7)', async () => {
  const notimp = await ask(srv.port, 'example.com', 'SOA', { opcode: 2, edns: { udp: 4096 } });
  assert.equal(notimp.rcode, 4);
  assert.ok(notimp.opt, 'OPT in NOTIMP');
  const q = buildQuery('example.com', 'A', { edns: { udp: 4096 } });
  // QDCOUNT=0: the OPT follows the header directly.
  const noQuestion = Buffer.concat([q.subarray(0, 12), q.subarray(12 + encodeName('example.com').length + 4)]);
  noQuestion.writeUInt16BE(0, 4);
  const formerr = decode(await udpExchange(srv.port, noQuestion));
  assert.equal(formerr.rcode, 1);
  assert.ok(formerr.opt, 'OPT in FORMERR');
  const plain = await ask(srv.port, 'example.com', 'SOA', { opcode: 2 });
  assert.equal(plain.opt, undefined, 'no OPT without one in the query');
});

test('a pool below a DNAME is occluded: its name gets the DNAME (RFC 6672 2.4)', async () => {
  const r = await ask(srv.port, 'p.d2.conf.test', 'A');
  assert.deepEqual(r.answers.map((a) => a.type).slice(0, 2), [TYPES.DNAME, TYPES.CNAME]);
  assert.ok(!r.answers.some((a) => a.address === '127.0.1.9'));
});
