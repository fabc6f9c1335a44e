'use strict';
// A private redis-server for tests: its own loopback port and temp dir, no persistence unless
// a test asks for SAVE. Set REDIS_URL to use an existing server instead; tests that must kill,
// restart or reconfigure Redis still start their own (startPrivateRedis). Never touches the
// machine's Redis on 6379.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolve when the server answers PING, reject after timeoutMs. */
function waitForPong(port, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, '127.0.0.1');
      let buf = '';
      sock.setTimeout(500);
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        buf += d;
        if (buf.includes('+PONG')) {
          sock.destroy();
          resolve();
        }
      });
      const retry = () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`redis on port ${port} did not start`));
        else setTimeout(attempt, 50);
      };
      sock.on('error', retry);
      sock.on('timeout', retry);
    };
    attempt();
  });
}

class TestRedis {
  constructor(port, dir) {
    this.port = port;
    this.dir = dir;
    this.proc = undefined;
    this.external = false;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start(extraArgs = []) {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no', '--logfile', path.join(this.dir, 'redis.log'), ...extraArgs];
    this.proc = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
    await waitForPong(this.port);
  }

  /** SIGKILL by pid (only the process this helper started) and wait until it is gone. */
  async kill() {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = undefined;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await this.exited;
  }

  /** Start again on the same port and dir (dump.rdb, if a test ran SAVE, is loaded). */
  async restart() {
    await this.kill();
    await this.start();
  }

  async stop() {
    await this.kill();
    if (!this.external) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A running server: REDIS_URL when set (external, cannot be killed), else a private one. */
async function startRedis() {
  if (process.env.REDIS_URL) {
    const r = new TestRedis(0, '');
    r.external = true;
    Object.defineProperty(r, 'url', { value: process.env.REDIS_URL });
    return r;
  }
  return startPrivateRedis();
}

/** A private redis-server even when REDIS_URL is set: for tests that kill, restart or reconfigure it. */
async function startPrivateRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-redis-'));
  const r = new TestRedis(await freePort(), dir);
  await r.start();
  return r;
}

let prefixCounter = 0;
/** A key prefix no other test uses, so tests can share one server. */
function uniquePrefix() {
  prefixCounter += 1;
  return `tt${process.pid}x${Date.now().toString(36)}x${prefixCounter}:`;
}

/** Every key under `prefix` with its DUMP, for "nothing changed" assertions. */
async function dumpKeys(url, prefix) {
  const { Redis } = require('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const out = {};
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) out[k] = (await client.dumpBuffer(k)).toString('hex');
    } while (cursor !== '0');
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
  } finally {
    client.disconnect();
  }
}

/** A raw client for setting up odd states (malformed entries, newer layouts). */
async function rawClient(url) {
  const { Redis } = require('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

module.exports = { TestRedis, startRedis, startPrivateRedis, freePort, uniquePrefix, dumpKeys, rawClient, waitForPong };
