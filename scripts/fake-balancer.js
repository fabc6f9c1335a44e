#!/usr/bin/env node
'use strict';
// A tiny stand-in for a WebSocket load balancer, for scripts/demo.sh, scripts/failover.sh and
// the health tests: HTTP 200 on GET, RFC 6455 handshake on Upgrade, and a close reply to a
// close frame. Loopback only.
//
//   node scripts/fake-balancer.js --host 127.0.0.11 --port 8080 [--refuse-from 127.0.0.3]
//
// --refuse-from drops connections from that source address at once, to stand for a network
// path that is broken from one tierdns instance only. Prints "ready HOST:PORT" when listening.

const { createHash } = require('node:crypto');
const http = require('node:http');

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function acceptKey(key) {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

function isLoopback(host) {
  return host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Unmasked server close frame with status 1000. */
const CLOSE_FRAME = Buffer.from([0x88, 0x02, 0x03, 0xe8]);

/**
 * Answer WebSocket upgrades like a healthy balancer. `opts.accept(key)` overrides the
 * Sec-WebSocket-Accept value (tests use it to answer wrongly); `opts.closeReply: false` never
 * answers the close frame.
 */
function handleUpgrade(req, socket, opts = {}) {
  socket.on('error', () => socket.destroy());
  // HTTP servers allow half-open sockets; a peer that hung up gets our end too.
  socket.on('end', () => socket.end());
  const key = req.headers['sec-websocket-key'];
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket' || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = opts.accept ? opts.accept(key) : acceptKey(key);
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.on('data', (chunk) => {
    // A client close frame (opcode 8): answer with ours and end, as RFC 6455 §5.5.1 asks.
    if ((chunk[0] & 0x0f) === 0x8 && opts.closeReply !== false) socket.end(CLOSE_FRAME);
  });
}

/**
 * Start a balancer on host:port (port 0 = any). Resolves with the server; `server.sockets`
 * holds open connections so a kill drops them at once, like a dead process.
 */
function startBalancer({ host, port = 0, refuseFrom = [], ws = {} }) {
  if (!isLoopback(host)) throw new Error(`fake balancer: ${host} is not a loopback address`);
  const refused = new Set(refuseFrom);
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end('ok\n');
  });
  server.sockets = new Set();
  server.on('connection', (socket) => {
    if (refused.has(socket.remoteAddress)) return socket.destroy();
    server.sockets.add(socket);
    socket.on('close', () => server.sockets.delete(socket));
  });
  server.on('upgrade', (req, socket) => handleUpgrade(req, socket, ws));
  server.kill = () => new Promise((resolve) => {
    for (const s of server.sockets) s.destroy();
    server.close(() => resolve());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function parseArgs(argv) {
  const out = { host: '127.0.0.1', port: 8080, refuseFrom: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--host') out.host = value;
    else if (flag === '--port') out.port = Number(value);
    else if (flag === '--refuse-from') out.refuseFrom.push(value);
    else throw new Error(`fake balancer: unknown flag ${flag}`);
  }
  return out;
}

if (require.main === module) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  startBalancer(args).then((server) => {
    const { address, port } = server.address();
    console.log(`ready ${address}:${port}`);
    const stop = () => server.kill().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  }, (err) => {
    console.error(`fake balancer: ${err.message}`);
    process.exit(1);
  });
}

module.exports = { startBalancer, handleUpgrade, acceptKey, isLoopback };
