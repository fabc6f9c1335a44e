'use strict';
// TSIG (RFC 8945 §5.2): tierdns holds no keys, so a signed query gets NOTAUTH with its TSIG
// echoed unsigned and error BADKEY; a TSIG that is not the last record, or a second one, is
// FORMERR. Against the real server, with dig and kdig signing and with crafted packets.
require('./helpers/native-env');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { promisify } = require('node:util');
const execFile = promisify(require('node:child_process').execFile);
const { buildQuery, encodeName, encodeOpt, udpExchange, tcpExchange, startDns, poolView } = require('./helpers/dns');

const ZONE = `$ORIGIN example.com.
$TTL 300
@ IN SOA ns1 host 1 3600 600 86400 60
@ IN NS ns1
ns1 IN A 192.0.2.53
`;
const SECRET = 'hmac-sha256:mykey.example:c2VjcmV0c2VjcmV0c2VjcmV0';

async function server(t) {
  return startDns(t, { zones: { 'example.com': ZONE }, pools: [poolView('ws.example.com', [['192.0.2.1'], ['192.0.2.2']])] });
}

/** A TSIG RR as a client signs it: key name, hmac-sha256, time, fudge 300, a 32-byte MAC. */
function tsigRecord(keyName = 'mykey.example', { owner = encodeName(keyName), originalId = 0x4242 } = {}) {
  const head = Buffer.concat([encodeName('hmac-sha256'), Buffer.from([0, 0, 0x6b, 0x1a, 0x2b, 0x3c, 0x01, 0x2c, 0, 32])]);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(originalId, 0);
  const rdata = Buffer.concat([head, Buffer.alloc(32, 7), tail]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(250, 0);
  fixed.writeUInt16BE(255, 2);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

/** A query for ws.example.com A with `records` appended to the additional section. */
function withAdditional(records, opts = {}) {
  const q = buildQuery('ws.example.com', 'A', { id: 0x4242, ...opts });
  const msg = Buffer.concat([q, ...records]);
  msg.writeUInt16BE(q.readUInt16BE(10) + records.length, 10);
  return msg;
}

/** The TSIG record at the end of a response: owner, algorithm, time, fudge, MAC size, original ID, error. */
function trailingTsig(buf) {
  const read = (off) => {
    const labels = [];
    while (buf[off] !== 0) {
      labels.push(buf.toString('latin1', off + 1, off + 1 + buf[off]));
      off += buf[off] + 1;
    }
    return [labels.join('.'), off + 1];
  };
  // Walk past the question and every record to the last one.
  let off = 12;
  off = read(off)[1] + 4;
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  let last;
  for (let i = 0; i < records; i++) {
    last = off;
    off = (buf[off] === 0 ? off + 1 : read(off)[1]);
    off += 10 + buf.readUInt16BE(off + 8);
  }
  assert.equal(off, buf.length, 'nothing after the last record');
  const [owner, typeAt] = read(last);
  const [algorithm, timeAt] = read(typeAt + 10);
  return {
    owner, type: buf.readUInt16BE(typeAt), class: buf.readUInt16BE(typeAt + 2), ttl: buf.readUInt32BE(typeAt + 4),
    algorithm, time: buf.readUIntBE(timeAt, 6), fudge: buf.readUInt16BE(timeAt + 6), macSize: buf.readUInt16BE(timeAt + 8),
    originalId: buf.readUInt16BE(timeAt + 10), error: buf.readUInt16BE(timeAt + 12), otherLength: buf.readUInt16BE(timeAt + 14),
  };
}

test('dig -y and kdig -y: NOTAUTH with the TSIG echoed, error BADKEY, over UDP and TCP', async (t) => {
  const s = await server(t);
  const dig = async (...args) => (await execFile('dig', ['@127.0.0.1', '-p', String(s.port), '+time=2', '+tries=1', '-y', SECRET, 'ws.example.com', 'A', ...args])).stdout;
  for (const transport of ['+notcp', '+tcp']) {
    const out = await dig(transport);
    assert.match(out, /status: NOTAUTH/);
    assert.match(out, /ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 2/, 'OPT and TSIG only');
    assert.match(out, /mykey\.example\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/);
    assert.doesNotMatch(out, /192\.0\.2\./, 'no data for a signed query');
  }
  const kdig = (await execFile('kdig', ['@127.0.0.1', '-p', String(s.port), '+time=2', '+retry=0', '-y', SECRET, 'ws.example.com', 'A'])).stdout;
  assert.match(kdig, /status: BADKEY/);
  assert.match(kdig, /TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/);
});

test('the echoed TSIG: same key name and algorithm, the request\'s time, MAC size 0, BADKEY; unsigned answers unchanged', async (t) => {
  const s = await server(t);
  for (const edns of [undefined, {}]) {
    const r = await udpExchange(s.port, withAdditional([tsigRecord('MyKey.Example')], { edns }));
    assert.equal(r.readUInt16BE(0), 0x4242);
    assert.equal(r[2] & 0x84, 0x80, 'QR, not AA');
    assert.equal(r[3] & 0x0f, 9, 'NOTAUTH');
    assert.equal(r.readUInt16BE(6), 0);
    assert.equal(r.readUInt16BE(10), edns ? 2 : 1);
    assert.deepEqual(trailingTsig(r), {
      owner: 'MyKey.Example', type: 250, class: 255, ttl: 0, algorithm: 'hmac-sha256', time: 0x6b1a2b3c,
      fudge: 300, macSize: 0, originalId: 0x4242, error: 17, otherLength: 0,
    });
  }
  // The same query unsigned is answered as always.
  const plain = await udpExchange(s.port, buildQuery('ws.example.com', 'A'));
  assert.equal(plain[3] & 0x0f, 0);
  assert.equal(plain.readUInt16BE(6), 2);
});

test('a TSIG owner compressed against the question is echoed whole', async (t) => {
  const s = await server(t);
  // Owner: "k" then a pointer to example.com inside the question (offset 12 + 3).
  const owner = Buffer.from([1, 0x6b, 0xc0, 15]);
  const r = await udpExchange(s.port, withAdditional([tsigRecord('x', { owner })]));
  assert.equal(r[3] & 0x0f, 9);
  assert.equal(trailingTsig(r).owner, 'k.example.com');
});

test('a TSIG that is not last, a second TSIG, or a TSIG outside the additional section: FORMERR', async (t) => {
  const s = await server(t);
  const formerr = async (msg, label) => {
    for (const r of [await udpExchange(s.port, msg), (await tcpExchange(s.port, [msg]))[0]]) {
      assert.ok(r, `${label}: answered`);
      assert.equal(r[3] & 0x0f, 1, `${label}: FORMERR`);
      assert.equal(r.readUInt16BE(6) + r.readUInt16BE(8) + r.readUInt16BE(10), 0, `${label}: no records`);
    }
  };
  await formerr(withAdditional([tsigRecord(), encodeOpt({})]), 'TSIG before OPT');
  await formerr(withAdditional([tsigRecord(), tsigRecord()]), 'two TSIGs');
  const inAuthority = withAdditional([tsigRecord()]);
  inAuthority.writeUInt16BE(1, 8);
  inAuthority.writeUInt16BE(0, 10);
  await formerr(inAuthority, 'TSIG in the authority section');
  // A TSIG whose RDATA does not tile its length.
  const bad = tsigRecord();
  bad.writeUInt16BE(bad.readUInt16BE(encodeName('mykey.example').length + 8) + 1, encodeName('mykey.example').length + 8);
  await formerr(withAdditional([Buffer.concat([bad, Buffer.from([0])])]), 'TSIG with a bad RDATA length');
});

test('a TSIG that does not fit a 512-byte answer: NOTAUTH with TC set, so the client retries over TCP', async (t) => {
  const s = await server(t);
  const long = (c) => Array.from({ length: 4 }, () => c.repeat(60)).join('.');
  // A 245-byte question name and a 245-byte key name: over 512 bytes with the TSIG.
  const q = buildQuery(long('q').slice(0, 230) + '.example.com', 'A', { id: 0x4242 });
  const msg = Buffer.concat([q, tsigRecord(long('k'))]);
  msg.writeUInt16BE(1, 10);
  const r = await udpExchange(s.port, msg);
  assert.equal(r[3] & 0x0f, 9);
  assert.equal(r[2] & 0x02, 0x02, 'TC over UDP');
  assert.equal(r.readUInt16BE(10), 0, 'no TSIG in the truncated answer');
  assert.ok(r.length <= 512);
  const [overTcp] = await tcpExchange(s.port, [msg]);
  assert.equal(overTcp[2] & 0x02, 0, 'no TC over TCP');
  assert.equal(trailingTsig(overTcp).owner, long('k'));
});
