'use strict';
// Fake balancers for the health tests, on loopback only: healthy and broken TCP, HTTP(S) and
// WebSocket servers. Each records its open sockets so close() is immediate, and registers
// cleanup with t.after right where it is created.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startBalancer, handleUpgrade, isLoopback } = require('../../scripts/fake-balancer');

/** Track sockets of `server`, add close(), listen on host:port, register cleanup; resolves to { host, port, server, close }. */
function serve(t, server, host = '127.0.0.1', port = 0) {
  if (!isLoopback(host)) throw new Error(`${host} is not loopback`);
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  // TLS servers see the TCP connection first; track that one too.
  server.on('secureConnection', (s) => s.on('error', () => {}));
  const close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  if (t) t.after(close);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ host, port: server.address().port, server, close, sockets }));
  });
}

/** Accepts connections and closes them (a healthy TCP listener). */
function tcpBalancer(t, host) {
  return serve(t, net.createServer((s) => s.end()), host);
}

/** Accepts connections and never says a word (a hung process): probes must time out. */
function silentBalancer(t, host) {
  // Reads (and drops) what it is sent, so it notices when the prober hangs up.
  return serve(t, net.createServer((s) => s.resume()), host);
}

/** Records each connection's remote address and how it ended ('end' or an error code). */
function recordingTcpBalancer(t, host) {
  const seen = [];
  const server = net.createServer((s) => {
    const entry = { remoteAddress: s.remoteAddress, ended: undefined };
    seen.push(entry);
    s.on('error', (err) => { entry.ended = err.code; });
    s.on('end', () => { entry.ended ??= 'end'; s.end(); });
    s.resume();
  });
  return serve(t, server, host).then((srv) => ({ ...srv, seen }));
}

/**
 * A listener whose accept queue is full: python3 listens with backlog 0 and never accepts, one
 * connection fills the queue, and Linux then drops further SYNs, so a connect() hangs like one
 * to a blackholed balancer. Node cannot listen without accepting, hence the helper process.
 */
async function fullBacklogListener(t, host) {
  if (!isLoopback(host)) throw new Error(`${host} is not loopback`);
  const { spawn } = require('node:child_process');
  const py = spawn('python3', ['-c', [
    'import socket, sys, time',
    `s = socket.socket(socket.AF_INET6 if ':' in ${JSON.stringify(host)} else socket.AF_INET)`,
    `s.bind((${JSON.stringify(host)}, 0)); s.listen(0)`,
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { py.stdin.end(); py.kill(); });
  const port = await new Promise((resolve, reject) => {
    py.once('error', reject);
    py.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  });
  // Fill the queue (backlog 0 holds one connection), then keep that connection open.
  const filler = await new Promise((resolve, reject) => {
    const c = net.connect({ host, port }, () => resolve(c));
    c.once('error', reject);
  });
  t.after(() => filler.destroy());
  return { host, port };
}

/** Answers `status` after `delayMs`; `raw` (a string) is written instead of a proper response. */
function httpBalancer(t, { host, status = 200, delayMs = 0, raw } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url, headers: req.headers, remoteAddress: req.socket.remoteAddress });
    const answer = () => {
      if (raw !== undefined) return req.socket.end(raw);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('hello\n');
    };
    if (delayMs) setTimeout(answer, delayMs);
    else answer();
  });
  return serve(t, server, host).then((b) => Object.assign(b, { requests }));
}

/** A self-signed certificate for CN=localhost, made with the openssl CLI into a temp dir. */
function selfSignedCert(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-cert-'));
  if (t) t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

/** HTTPS with a self-signed certificate; records the SNI name each client sent. */
function httpsBalancer(t, { host, status = 200, cert } = {}) {
  const requests = [];
  const server = https.createServer(cert ?? selfSignedCert(t), (req, res) => {
    requests.push({ url: req.url, headers: req.headers, servername: req.socket.servername });
    res.writeHead(status);
    res.end('hello\n');
  });
  return serve(t, server, host).then((b) => Object.assign(b, { requests }));
}

/**
 * A WebSocket balancer. Options: `accept(key)` to answer a wrong Sec-WebSocket-Accept,
 * `closeReply: false` to ignore close frames, `status` to answer upgrades with that status instead.
 */
function wsBalancer(t, { host, status, accept, closeReply } = {}) {
  const upgrades = [];
  const closes = [];
  const server = http.createServer((req, res) => {
    res.writeHead(200);
    res.end('not a websocket\n');
  });
  server.on('upgrade', (req, socket) => {
    upgrades.push({ url: req.url, headers: req.headers });
    if (status) return socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    socket.on('data', (d) => { if ((d[0] & 0x0f) === 0x8) closes.push(d); });
    handleUpgrade(req, socket, { accept, closeReply });
  });
  return serve(t, server, host).then((b) => Object.assign(b, { upgrades, closes }));
}

/** The shared demo balancer (scripts/fake-balancer.js) on host:port, closed after the test. */
async function demoBalancer(t, opts) {
  const server = await startBalancer(opts);
  if (t) t.after(() => server.kill());
  return { host: opts.host, port: server.address().port, server, kill: () => server.kill() };
}

/** A port with nothing listening on `host` (bound then released). */
function closedPort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

module.exports = { tcpBalancer, recordingTcpBalancer, fullBacklogListener, silentBalancer, httpBalancer, httpsBalancer, wsBalancer, demoBalancer, selfSignedCert, closedPort };
