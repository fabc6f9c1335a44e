'use strict';
// A Redis Sentinel group for tests, all on loopback and free ports: one master, one replica and
// three sentinels (`redis-server --sentinel`), with short timings so a failover takes about a
// second. Failover by `SENTINEL FAILOVER` (graceful) or by killing the master by PID (crash).
// Every process is this helper's own and is killed by PID in stop().

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { TestRedis, freePort, waitForPong } = require('./redis');

const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';
const MASTER_NAME = 'tdnsmaster';

class SentinelGroup {
  constructor(dir, { downAfterMs = 1000, failoverTimeoutMs = 4000, replicas = 1 } = {}) {
    this.dir = dir;
    this.replicaCount = replicas;
    this.name = MASTER_NAME;
    this.downAfterMs = downAfterMs;
    this.failoverTimeoutMs = failoverTimeoutMs;
    /** Data nodes by port. */
    this.nodes = new Map();
    this.sentinels = [];
  }

  /** redis-sentinel:// URL naming all three sentinels. */
  get url() {
    return `redis-sentinel://${this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${this.name}/0`;
  }

  async start() {
    const ports = [await freePort()];
    for (let i = 0; i < this.replicaCount; i++) ports.push(await freePort());
    for (const port of ports) {
      const dir = path.join(this.dir, `node-${port}`);
      fs.mkdirSync(dir);
      this.nodes.set(port, new TestRedis(port, dir));
    }
    // No delay before a diskless full sync: the replica is in sync within milliseconds.
    const common = ['--repl-diskless-sync-delay', '0'];
    await this.nodes.get(ports[0]).start(common);
    for (const port of ports.slice(1)) await this.nodes.get(port).start([...common, '--replicaof', '127.0.0.1', String(ports[0])]);
    await this.waitInSync(ports[0], 15_000, this.replicaCount);
    for (let i = 0; i < 3; i++) this.sentinels.push(await this.startSentinel(ports[0], i));
    await this.waitSentinelsAgree(ports[0]);
  }

  async startSentinel(masterPort, i) {
    const port = await freePort();
    const conf = path.join(this.dir, `sentinel-${i}.conf`);
    fs.writeFileSync(conf, [
      `port ${port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${this.dir}`, `logfile ${path.join(this.dir, `sentinel-${i}.log`)}`,
      `sentinel monitor ${this.name} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${this.name} ${this.downAfterMs}`,
      `sentinel failover-timeout ${this.name} ${this.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${this.name} 1`,
      '',
    ].join('\n'));
    const proc = spawn(REDIS_SERVER, [conf, '--sentinel'], { stdio: 'ignore' });
    const exited = new Promise((r) => proc.once('exit', r));
    await waitForPong(port);
    return { port, proc, exited };
  }

  /** A raw client of sentinel `i` (or of a data node, by port, with `node: true`). */
  client(port) {
    const { Redis } = require('ioredis');
    return new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  }

  async ask(i, ...args) {
    const c = this.client(this.sentinels[i].port);
    try {
      await c.connect();
      return await c.call('SENTINEL', ...args);
    } finally {
      c.disconnect();
    }
  }

  /** The master's port as sentinel `i` names it. */
  async masterPort(i = 0) {
    const reply = await this.ask(i, 'get-master-addr-by-name', this.name);
    return Number(reply[1]);
  }

  get master() {
    return this._masterPort === undefined ? undefined : this.nodes.get(this._masterPort);
  }

  /** Until every sentinel names `port` as the master and knows a replica and the other sentinels. */
  async waitSentinelsAgree(port, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const ok = await Promise.all(this.sentinels.map(async (_, i) => {
          const m = await this.ask(i, 'master', this.name);
          const f = Object.fromEntries(m.reduce((acc, v, k) => (k % 2 ? acc : [...acc, [v, m[k + 1]]]), []));
          return Number(f.port) === port && Number(f['num-slaves']) >= 1 && Number(f['num-other-sentinels']) >= 2 && !/failover/.test(f.flags);
        }));
        if (ok.every(Boolean)) break;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`sentinels did not agree on master ${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this._masterPort = port;
  }

  /** Until `replicas` replicas (or more) of `masterPort` report their link up and the master's offset. */
  async waitInSync(masterPort, timeoutMs = 15_000, replicas = 1) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = this.client(masterPort);
      try {
        await c.connect();
        const info = await c.info('replication');
        const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
        const slaves = [...info.matchAll(/slave\d+:ip=[^,]+,port=\d+,state=(\w+),offset=(\d+)/g)];
        if (slaves.length >= replicas && slaves.every(([, state, off]) => state === 'online' && Number(off) === offset)) return;
      } catch { /* not ready */ } finally {
        c.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`replica of ${masterPort} not in sync`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves with { atMs, from, to } when the first sentinel announces +switch-master (subscribed to all first). */
  async onSwitch() {
    const clients = this.sentinels.map((s) => this.client(s.port));
    await Promise.all(clients.map(async (c) => { await c.connect(); await c.subscribe('+switch-master'); }));
    return new Promise((resolve) => {
      for (const c of clients) {
        c.on('message', (_ch, msg) => {
          const [, , fromPort, , toPort] = msg.split(' ');
          for (const x of clients) x.disconnect();
          resolve({ atMs: Date.now(), from: Number(fromPort), to: Number(toPort) });
        });
      }
    });
  }

  /** The data node that is not the master. */
  get replica() {
    return [...this.nodes.values()].find((n) => n !== this.master);
  }

  /**
   * The replica comes back empty and its first full sync is held back by the master for
   * `delaySec` (Redis's repl-diskless-sync-delay): promoted within that time, it is an empty master.
   */
  async emptyReplica(delaySec = 10) {
    const c = this.client(this.master.port);
    await c.connect();
    await c.config('SET', 'repl-diskless-sync-delay', String(delaySec));
    c.disconnect();
    const replica = this.replica;
    await replica.kill();
    for (const f of fs.readdirSync(replica.dir)) fs.rmSync(path.join(replica.dir, f), { force: true });
    await replica.start(['--replicaof', '127.0.0.1', String(this.master.port)]);
  }

  /** `SENTINEL FAILOVER` on sentinel 0: the master is reachable and demoted gracefully. */
  async failover() {
    await this.ask(0, 'failover', this.name);
  }

  /** kill -9 of the current master (by PID). */
  async crashMaster() {
    await this.master.kill();
  }

  async stop() {
    for (const s of this.sentinels) {
      if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
      await s.exited;
    }
    for (const node of this.nodes.values()) await node.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Start a group; stopped after the test. */
async function startSentinelGroup(t, opts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-sentinel-'));
  const group = new SentinelGroup(dir, opts);
  t.after(() => group.stop());
  await group.start();
  return group;
}

module.exports = { startSentinelGroup, SentinelGroup };
