#!/usr/bin/env node
'use strict';
// A fake balancer tier for scripts/demo-steering.sh: it accepts WebSocket connections up to a
// capacity (503 beyond it), holds them open, counts them, and reports the count through the
// two load feeds tierdns reads: a HAProxy-style agent ("up N%", N the free share of capacity)
// and a JSON endpoint ({"connections": N, "capacity": M}). Loopback only.
//
//   node scripts/demo/ws-tier.js --host 127.0.0.71 --port 8080 --agent-port 9999 --load-port 9100 --capacity 300
//
// Prints "ready" when all three listen.

const http = require('node:http');
const net = require('node:net');
const { handleUpgrade, isLoopback } = require('../fake-balancer');

function parseArgs(argv) {
  const o = { host: '127.0.0.1', port: 8080, agentPort: 9999, loadPort: 9100, capacity: 1000 };
  const names = { '--host': 'host', '--port': 'port', '--agent-port': 'agentPort', '--load-port': 'loadPort', '--capacity': 'capacity' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key) throw new Error(`ws-tier: unknown flag ${argv[i]}`);
    o[key] = key === 'host' ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!isLoopback(o.host)) throw new Error(`ws-tier: ${o.host} is not a loopback address`);
  return o;
}

function start(o) {
  const open = new Set();
  const ws = http.createServer((req, res) => {
    res.writeHead(200, { connection: 'close' });
    res.end('ok\n');
  });
  ws.on('upgrade', (req, socket) => {
    if (open.size >= o.capacity) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    handleUpgrade(req, socket);
  });
  const agent = net.createServer((s) => {
    s.on('error', () => {});
    const free = Math.max(0, 1 - open.size / o.capacity);
    s.end(`up ${Math.round(free * 100)}%\n`);
  });
  const load = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ connections: open.size, capacity: o.capacity }));
  });
  const listen = (server, port) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, o.host, resolve);
  });
  return Promise.all([listen(ws, o.port), listen(agent, o.agentPort), listen(load, o.loadPort)]);
}

const o = parseArgs(process.argv.slice(2));
start(o).then(() => console.log('ready'), (err) => {
  console.error(`ws-tier: ${err.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
