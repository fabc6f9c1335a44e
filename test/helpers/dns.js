'use strict';
// Real-socket DNS helpers for tests: raw query building, UDP/TCP exchange, and decoding with
// dns2's codec (an independent implementation of the wire format).
const dgram = require('node:dgram');
const net = require('node:net');
const { Packet } = require('dns2');
const pino = require('pino');
const { Snapshot } = require('../../dist/dns/snapshot');
const { DnsServer } = require('../../dist/server/dnsServer');
const { parseZone } = require('../../dist/zone/parse');

const TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNAME: 39, OPT: 41, DS: 43, AXFR: 252, IXFR: 251, ANY: 255, CAA: 257 };

/** Encode a name exactly as given (case kept). */
function encodeName(name) {
  const parts = name.replace(/\.$/, '').split('.').filter((l) => l.length);
  const bufs = parts.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l, 'latin1')]), Buffer.from(l, 'latin1')]));
  return Buffer.concat([...bufs, Buffer.from([0])]);
}

/**
 * Build a query. opts: id, rd (default true), cd, opcode, qclass, edns: {udp, version, do, options:[{code,data}], flags},
 * extra: Buffer appended to the additional section (count in extraCount).
 */
function buildQuery(name, type, opts = {}) {
  const t = typeof type === 'string' ? TYPES[type] : type;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(opts.id ?? 0x1234, 0);
  header[2] = ((opts.opcode ?? 0) << 3) | (opts.rd === false ? 0 : 1);
  header[3] = opts.cd ? 0x10 : 0;
  header.writeUInt16BE(opts.qdcount ?? 1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(t, 0);
  q.writeUInt16BE(opts.qclass ?? 1, 2);
  const additional = [];
  if (opts.edns) additional.push(encodeOpt(opts.edns));
  if (opts.extra) additional.push(opts.extra);
  header.writeUInt16BE(additional.length + (opts.extraCount ?? 0) - (opts.extra ? 1 : 0), 10);
  return Buffer.concat([header, encodeName(name), q, ...additional]);
}

function encodeOpt(e) {
  const options = (e.options ?? []).map((o) => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(o.code, 0);
    b.writeUInt16BE(o.data.length, 2);
    return Buffer.concat([b, o.data]);
  });
  const rdata = Buffer.concat(options);
  const rr = Buffer.alloc(11);
  rr[0] = 0;
  rr.writeUInt16BE(41, 1);
  rr.writeUInt16BE(e.udp ?? 1232, 3);
  rr[5] = 0;
  rr[6] = e.version ?? 0;
  rr.writeUInt16BE((e.do ? 0x8000 : 0) | (e.flags ?? 0), 7);
  rr.writeUInt16BE(rdata.length, 9);
  return Buffer.concat([rr, rdata]);
}

function udpExchange(port, msg, { host = '127.0.0.1', timeoutMs = 1000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(null);
    }, timeoutMs);
    sock.on('message', (buf) => {
      clearTimeout(timer);
      sock.close();
      resolve(buf);
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.send(msg, port, host);
  });
}

/** Send several messages on one TCP connection (pipelined) and collect `expect` answers. */
function tcpExchange(port, msgs, { host = '127.0.0.1', expect = msgs.length, timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    const answers = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(answers);
    }, timeoutMs);
    sock.on('connect', () => {
      sock.write(Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]))));
    });
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const len = pending.readUInt16BE(0);
        answers.push(pending.subarray(2, 2 + len));
        pending = pending.subarray(2 + len);
      }
      if (answers.length >= expect) {
        clearTimeout(timer);
        sock.destroy();
        resolve(answers);
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Decoded view of a response: header fields, sections, and the OPT when present. */
function decode(buf) {
  const p = Packet.parse(buf);
  const h = p.header;
  const opt = p.additionals.find((r) => r.type === 41);
  return {
    raw: buf,
    id: h.id, qr: h.qr, opcode: h.opcode, aa: h.aa, tc: h.tc, rd: h.rd, ra: h.ra, z: h.z, ad: h.ad, cd: h.cd,
    rcode: (buf[3] & 0x0f) | (opt ? opt.extendedRcode << 4 : 0),
    questions: p.questions,
    answers: p.answers,
    authorities: p.authorities,
    additionals: p.additionals.filter((r) => r.type !== 41),
    opt: opt ? { udp: buf.length && opt.class, version: (opt.ttl >>> 16) & 0xff, do: ((opt.ttl >>> 15) & 1) === 1, rdata: opt.rdata } : undefined,
    errors: p.errors,
  };
}

async function ask(port, name, type, opts = {}) {
  const buf = await udpExchange(port, buildQuery(name, type, opts), opts);
  return buf && decode(buf);
}

const silent = pino({ level: 'silent' });

/**
 * Start a DNS server on 127.0.0.1 port 0 serving zones given as text ({origin: text}) and pools
 * given as PoolView objects. Returns { port, snapshot, server, close }.
 */
async function startDns(t, { zones, pools = [], tcpLimits } = {}) {
  const snapshot = new Snapshot({ warn: () => undefined });
  const data = Object.entries(zones).map(([origin, text]) => {
    const { zone, problems } = parseZone(text, { file: `${origin}.zone`, origin });
    if (problems.length) throw new Error(problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
    return zone;
  });
  snapshot.setZones(data);
  for (const view of pools) snapshot.setPool(view.config.name, view);
  const server = new DnsServer(snapshot, silent, tcpLimits);
  const [bound] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
  const close = () => server.close(0);
  if (t) t.after(close);
  return { port: bound.port, snapshot, server, close };
}

/** A PoolView for tests: members as [ip, {weight, verdict, admin}] pairs. */
function poolView(name, members, config = {}) {
  return {
    config: {
      name, ttlSeconds: 20, check: 'none', port: 80, path: '/', expectMin: 200, expectMax: 399,
      intervalMs: 2000, fastIntervalMs: 500, timeoutMs: 1000, rise: 2, fall: 3, maxAnswers: 0, whenAllDown: 'all',
      ...config,
    },
    members: members.map(([ip, m = {}]) => ({
      ip, weight: m.weight ?? 1, admin: m.admin ?? 'enabled', addedAtMs: 0,
      verdict: m.verdict ?? 'up', verdictSinceMs: 0, observations: [],
    })),
  };
}

module.exports = { TYPES, buildQuery, encodeName, encodeOpt, udpExchange, tcpExchange, decode, ask, startDns, poolView, silent };
