'use strict';
// Load feeds for the steering tests, on loopback only: a HAProxy-style agent, a JSON endpoint,
// feeds that misbehave (hang, flood, close early), and the real nginx and haproxy daemons with
// a temp config. Every server and process registers its cleanup with t.after where it starts.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { closedPort } = require('./balancers');

function listen(t, server, host, port = 0) {
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  const close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  t.after(close);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ host, port: server.address().port, close, sockets }));
  });
}

/** An agent that writes `feed.reply` (a line, e.g. "75%\n") to each connection and closes; `feed.reads` counts them. */
async function agentFeed(t, { host = '127.0.0.1', port = 0, reply = '100%\n' } = {}) {
  const feed = { reply, reads: 0 };
  const server = net.createServer((s) => {
    feed.reads++;
    s.end(feed.reply);
  });
  return Object.assign(feed, await listen(t, server, host, port));
}

/** GET → `feed.body` (an object is sent as JSON) with `feed.status`; `feed.requests` records paths. */
async function jsonFeed(t, { host = '127.0.0.1', port = 0, body = { connections: 0, capacity: 100 }, status = 200 } = {}) {
  const feed = { body, status, requests: [] };
  const server = http.createServer((req, res) => {
    feed.requests.push(req.url);
    const text = typeof feed.body === 'string' ? feed.body : JSON.stringify(feed.body);
    res.writeHead(feed.status, { 'content-type': 'application/json' });
    res.end(text);
  });
  return Object.assign(feed, await listen(t, server, host, port));
}

/**
 * A feed that misbehaves: 'hang' (accepts, never writes), 'flood' (10 MB without a newline, as an
 * HTTP body or a raw agent stream), 'close' (closes at once), 'half' (an HTTP response cut short),
 * and for agents: 'reset' (a reset at once), 'partial' (half a line, then a reset), 'drip' (a
 * byte every 20 ms, never a newline), 'nul' (a line of NULs).
 */
async function badFeed(t, mode, { host = '127.0.0.1', port = 0, http: asHttp = false } = {}) {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    if (mode === 'hang') return s.resume();
    if (mode === 'close') return s.destroy();
    if (mode === 'half') return s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"connections": 1');
    if (mode === 'reset') return s.resetAndDestroy();
    if (mode === 'partial') {
      s.write('up 4');
      return setTimeout(() => s.resetAndDestroy(), 30);
    }
    if (mode === 'nul') return s.end(Buffer.alloc(40, 0));
    if (mode === 'drip') {
      const timer = setInterval(() => s.write('x'), 20);
      return s.on('close', () => clearInterval(timer));
    }
    if (mode === 'flood') {
      if (asHttp) s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n');
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 10 * 1024 * 1024) {
          sent += chunk.length;
          if (!s.write(chunk)) return s.once('drain', pump);
        }
        s.end();
      };
      return pump();
    }
    throw new Error(`unknown bad feed mode ${mode}`);
  });
  return listen(t, server, host, port);
}

/** Resolve once host:port accepts a connection (bounded: ~5 s). */
async function waitListening(host, port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host, port }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${host}:${port}`);
}

function daemon(t, cmd, args, dir) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  // SIGTERM, so nginx's master stops its workers; SIGKILL if it has not exited within 2 s.
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      process.kill(proc.pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(proc.pid, 'SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  proc.stderrText = () => stderr;
  return proc;
}

/** The real nginx with stub_status at /nginx_status on a free loopback port. */
async function realNginx(t, host = '127.0.0.1') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-nginx-'));
  const port = await closedPort(host);
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, [
    'worker_processes 1;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, 'daemon off;',
    'events { worker_connections 64; }',
    'http {', '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k};`),
    `  server { listen ${host}:${port}; location = /nginx_status { stub_status; } location / { return 200 "ok\\n"; } }`,
    '}',
  ].join('\n'));
  const proc = daemon(t, 'nginx', ['-c', conf, '-p', dir], dir);
  await waitListening(host, port).catch((err) => { throw new Error(`${err.message}: ${proc.stderrText()}`); });
  return { host, port, proc };
}

/**
 * The real haproxy: a TCP frontend with maxconn `maxconn` on `port` passing to `backendPort`,
 * and stats at /stats on `statsPort`.
 */
async function realHaproxy(t, { host = '127.0.0.1', maxconn = 300, backendPort } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-haproxy-'));
  const port = await closedPort(host);
  const statsPort = await closedPort(host);
  backendPort ??= await closedPort(host);
  const conf = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(conf, [
    'global', '  maxconn 1000',
    'defaults', '  mode tcp', '  timeout connect 1s', '  timeout client 30s', '  timeout server 30s',
    'frontend ws', `  bind ${host}:${port}`, `  maxconn ${maxconn}`, '  default_backend app',
    'backend app', `  server a1 ${host}:${backendPort}`,
    'listen stats', '  mode http', `  bind ${host}:${statsPort}`, '  maxconn 50', '  stats enable', '  stats uri /stats',
    '',
  ].join('\n'));
  const proc = daemon(t, 'haproxy', ['-f', conf, '-db'], dir);
  await waitListening(host, statsPort).catch((err) => { throw new Error(`${err.message}: ${proc.stderrText()}`); });
  return { host, port, statsPort, proc };
}

/** Open `n` plain TCP connections to host:port and keep them open until the test ends. */
async function holdConnections(t, host, port, n) {
  const sockets = [];
  t.after(() => { for (const s of sockets) s.destroy(); });
  for (let i = 0; i < n; i++) {
    sockets.push(await new Promise((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(s));
      s.on('error', reject);
    }));
  }
  return sockets;
}

module.exports = { agentFeed, jsonFeed, badFeed, realNginx, realHaproxy, holdConnections, waitListening };
