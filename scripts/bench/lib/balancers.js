#!/usr/bin/env node
'use strict';
// Four fake "balancers" for the `ws` pool's TCP health checks: one process listening on
// 127.0.1.1..127.0.1.4 port $BALANCER_PORT (8080). Each accepts TCP and answers any HTTP
// request with 200, so tcp and http checks both pass. An address already taken (e.g. by the
// shared bench's balancers) is fine as long as it accepts connections.
// Prints "balancers ready" once all four accept connections.
const net = require('node:net');

const PORT = Number(process.env.BALANCER_PORT || 8080);
const addrs = [1, 2, 3, 4].map((n) => `127.0.1.${n}`);
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';

function listen(host) {
  return new Promise((resolve) => {
    const srv = net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.once('data', () => sock.end(RESPONSE));
      sock.setTimeout(5000, () => sock.destroy());
    });
    srv.once('error', (err) => resolve(err.code || String(err)));
    srv.listen(PORT, host, () => resolve('listening'));
  });
}

function reachable(host) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: PORT, timeout: 500 }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { s.destroy(); resolve(false); });
  });
}

(async () => {
  let ours = 0;
  for (const host of addrs) {
    const r = await listen(host);
    if (r === 'listening') ours++;
    else if (!(await reachable(host))) {
      console.error(`balancer ${host}:${PORT}: ${r} and nothing answers there`);
      process.exit(1);
    } else console.error(`balancer ${host}:${PORT}: already served by another process, using it`);
  }
  for (const host of addrs) if (!(await reachable(host))) { console.error(`balancer ${host}:${PORT} unreachable`); process.exit(1); }
  console.log(`balancers ready (${ours} served here)`);
  if (ours === 0) process.exit(0);
})();
