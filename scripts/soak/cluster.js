'use strict';
// The soak's world, all on loopback: a Redis Sentinel group (the test suite's SentinelGroup:
// master, replica, three sentinels), three `tierdns serve` instances, fake WebSocket balancers
// (scripts/fake-balancer.js) as processes that can be killed and restarted, and the CLI.
// Everything started here is tracked by PID and killed by PID in stop().

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { SentinelGroup } = require('../../test/helpers/sentinel');

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const ZONES = path.join(ROOT, 'zones');

function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer().on('error', reject).listen(0, host, () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Resolve once `re` shows in the child's stdout (rejects after `ms` or when it exits). */
function waitOutput(child, re, ms, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what}: not ready after ${ms} ms: ${out.slice(-300)}`)), ms);
    child.stdout.on('data', (d) => {
      out += d;
      if (re.test(out)) { clearTimeout(timer); resolve(out); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}): ${out.slice(-300)}`)); });
  });
}

class SoakCluster {
  constructor(work) {
    this.work = work;
    this.children = new Set();
    this.group = undefined;
    this.instances = [];
    this.balancers = new Map();
    this.balancerPort = 0;
  }

  track(child) {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async startStore() {
    const dir = path.join(this.work, 'redis');
    fs.mkdirSync(dir);
    // Restarts shorter than down-after are restarts, not failovers.
    this.group = new SentinelGroup(dir, { downAfterMs: 3000, failoverTimeoutMs: 6000 });
    await this.group.start();
    return this.group.url;
  }

  /** A balancer process on ip (same port for all); killed with kill -9 by killBalancer. */
  async startBalancer(ip) {
    const child = this.track(spawn(process.execPath, [path.join(ROOT, 'scripts', 'fake-balancer.js'), '--host', ip, '--port', String(this.balancerPort)],
      { stdio: ['ignore', 'pipe', 'ignore'] }));
    await waitOutput(child, /ready/, 5000, `balancer ${ip}`);
    this.balancers.set(ip, child);
  }

  killBalancer(ip) {
    const child = this.balancers.get(ip);
    this.balancers.delete(ip);
    if (child && child.exitCode === null) child.kill('SIGKILL');
  }

  async startInstance(name, url) {
    const port = await freePort();
    const stateDir = path.join(this.work, `state-${name}`);
    const log = fs.openSync(path.join(this.work, `${name}.log`), 'a');
    const child = this.track(spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=2', CLI, 'serve', '--zones', ZONES,
      '--listen', `127.0.0.1:${port}`, '--store', url, '--state-dir', stateDir, '--instance', name, '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', log] }));
    child.stdout.on('data', (d) => fs.writeSync(log, d));
    await waitOutput(child, /serve: ready/, 20_000, name);
    const inst = { name, port, pid: child.pid, child };
    this.instances.push(inst);
    return inst;
  }

  /** Run the CLI: { code, stdout, stderr, startMs, endMs }. */
  cli(args, url) {
    const startMs = Date.now();
    return new Promise((resolve) => {
      const child = this.track(spawn(process.execPath, [CLI, ...args, '--store', url, '--zones', ZONES], { stdio: ['ignore', 'pipe', 'pipe'] }));
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, startMs, endMs: Date.now() }); });
    });
  }

  /** Resident set size of a process in KiB (undefined when gone). */
  static rssKiB(pid) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  async stop() {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (this.group) await this.group.stop().catch(() => undefined);
  }
}

module.exports = { SoakCluster, freePort, waitOutput, ROOT };
