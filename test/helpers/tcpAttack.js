'use strict';
// Hostile TCP clients from chosen loopback source addresses, and a legitimate client that
// measures how many of its queries are answered meanwhile. Every attack is bounded: it opens
// at most `count` connections at a time, reconnects at most `maxConnects` times, and stops
// when stop() is called. Used by test/dns-tcp-abuse.test.js, and runnable by hand:
//   node test/helpers/tcpAttack.js <attack> <port> [count] [seconds] [from…]
const net = require('node:net');
const { buildQuery } = require('./dns');

const framed = (msg) => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);

/** Connect from `localAddress`; resolves the socket, or null when refused, reset or too slow. */
function connectFrom(port, localAddress, { host = '127.0.0.1', timeoutMs = 2000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host, localAddress });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(null);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

/**
 * Keep up to `count` connections per source address open, each driven by `drive(socket)`
 * (which returns a cleanup function); a closed one is replaced when `reconnect` is set.
 * Returns { open(), connects, stop() }.
 */
function holdConnections(port, from, count, drive, { reconnect = false, maxConnects = count * from.length * 20, host } = {}) {
  const live = new Set();
  let stopped = false;
  let connects = 0;
  const openOne = async (addr) => {
    if (stopped || connects >= maxConnects) return;
    connects++;
    const s = await connectFrom(port, addr, { host });
    if (!s) {
      if (reconnect && !stopped) setTimeout(() => openOne(addr), 50);
      return;
    }
    if (stopped) return s.destroy();
    s.on('error', () => undefined);
    live.add(s);
    const cleanup = drive(s);
    s.once('close', () => {
      live.delete(s);
      cleanup?.();
      if (reconnect && !stopped) setTimeout(() => openOne(addr), 10);
    });
  };
  const opening = [];
  for (const addr of from) for (let i = 0; i < count; i++) opening.push(openOne(addr));
  return {
    ready: Promise.all(opening),
    open: () => live.size,
    connects: () => connects,
    stop() {
      stopped = true;
      for (const s of live) s.destroy();
    },
  };
}

const attacks = {
  /** Connect and send nothing. */
  idle: (port, from, count, opts) => holdConnections(port, from, count, () => undefined, opts),
  /** Send an empty frame (\0\0) every `everyMs`. */
  empty: (port, from, count, { everyMs = 3000, ...opts } = {}) => holdConnections(port, from, count, (s) => {
    s.write(Buffer.alloc(2));
    const timer = setInterval(() => s.writable && s.write(Buffer.alloc(2)), everyMs);
    return () => clearInterval(timer);
  }, opts),
  /** Send a query one byte every `everyMs`, reconnecting when closed. */
  slowloris: (port, from, count, { everyMs = 5000, ...opts } = {}) => holdConnections(port, from, count, (s) => {
    const bytes = framed(buildQuery('example.com', 'SOA'));
    let i = 0;
    s.write(bytes.subarray(i, ++i));
    const timer = setInterval(() => s.writable && i < bytes.length && s.write(bytes.subarray(i, ++i)), everyMs);
    return () => clearInterval(timer);
  }, { reconnect: true, ...opts }),
  /** Pipeline `queries` copies of a query with a large answer and never read. */
  nonreader: (port, from, count, { queries = 2000, name = 'big.example.com', type = 'TXT', ...opts } = {}) =>
    holdConnections(port, from, count, (s) => {
      s.pause();
      s.write(Buffer.concat(Array(queries).fill(framed(buildQuery(name, type)))));
      return undefined;
    }, opts),
};

/** One query over a fresh TCP connection from `localAddress`: true when answered in time. */
function tcpQuery(port, localAddress, { name = 'example.com', type = 'SOA', timeoutMs = 1000, host } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: host ?? '127.0.0.1', localAddress });
    let got = Buffer.alloc(0);
    const done = (ok) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('connect', () => s.write(framed(buildQuery(name, type, { id: 0x4242 }))));
    s.on('data', (c) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(got.readUInt16BE(2) === 0x4242 && (got[5] & 0x0f) === 0);
    });
    s.on('error', () => done(false));
    s.on('close', () => done(false));
  });
}

/** `tries` legitimate queries, one every `gapMs`: { ok, tries }. */
async function legitRate(port, { from = '127.0.0.1', tries = 10, gapMs = 100, ...opts } = {}) {
  let ok = 0;
  for (let i = 0; i < tries; i++) {
    if (await tcpQuery(port, from, opts)) ok++;
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return { ok, tries };
}

module.exports = { attacks, connectFrom, holdConnections, tcpQuery, legitRate, framed };

if (require.main === module) {
  const [kind, portText, countText = '100', secondsText = '20', ...from] = process.argv.slice(2);
  const port = Number(portText);
  if (!attacks[kind] || !port) {
    console.error(`usage: tcpAttack.js ${Object.keys(attacks).join('|')} PORT [COUNT] [SECONDS] [FROM…]`);
    process.exit(2);
  }
  const name = process.env.QNAME ?? 'example.com';
  (async () => {
    const attack = attacks[kind](port, from.length ? from : ['127.0.0.2'], Number(countText), { name, maxConnects: 1e6 });
    await attack.ready;
    const endAt = Date.now() + Number(secondsText) * 1000;
    let ok = 0;
    let tries = 0;
    while (Date.now() < endAt) {
      const r = await legitRate(port, { tries: 1, gapMs: 400, name, timeoutMs: 2000 });
      ok += r.ok;
      tries += r.tries;
    }
    console.log(JSON.stringify({ attack: kind, port, perSource: Number(countText), from, open: attack.open(), connects: attack.connects(), legit: `${ok}/${tries}` }));
    attack.stop();
    process.exit(0);
  })();
}
