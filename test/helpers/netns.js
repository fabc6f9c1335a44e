'use strict';
// A small network of namespaces this helper creates itself, for a silent cut between tierdns
// and Redis (link up, packets dropped), as a switch port going dead does:
//
//   <tag>c (client: serve, balancers, CLI)  cA ──cB┐
//                                                  br0 in <tag>s (the switch)
//   <tag>r (Redis at 10.213.N.2)             rA ──rB┘
//
// cut() sets the switch's port rB down: the client's link stays up with carrier and its packets
// to Redis vanish in the bridge; heal() sets it up again. Nothing is created in the machine's own
// namespace. Every process is started through `ip netns exec` (which execs in place, so the PID
// is the program's) and killed by that PID before the namespaces are deleted.

const { execFileSync, spawn } = require('node:child_process');

function ip(args) {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** Whether namespaces can be made here: { ok: true } or { ok: false, reason }. */
function netnsSupport() {
  if (process.platform !== 'linux') return { ok: false, reason: 'network namespaces need Linux' };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'creating network namespaces needs root' };
  const name = `tdnsprobe${process.pid}`;
  try {
    ip(['netns', 'add', name]);
  } catch (err) {
    return { ok: false, reason: `ip netns add failed: ${String(err.stderr || err.message).trim()}` };
  }
  try {
    ip(['-n', name, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `bridge or veth unavailable: ${String(err.stderr || err.message).trim()}` };
  } finally {
    ip(['netns', 'del', name]);
  }
}

/** Build the three namespaces; deleted (after their processes are killed) when the test ends. */
function makeNet(t) {
  const n = (process.pid % 200) + 20;
  const tag = `tdns${process.pid}`;
  const ns = { c: `${tag}c`, s: `${tag}s`, r: `${tag}r` };
  const procs = new Set();
  t.after(async () => {
    await Promise.all([...procs].map((p) => killProc(p)));
    for (const name of Object.values(ns)) {
      try { ip(['netns', 'del', name]); } catch { /* already gone */ }
    }
  });
  for (const name of Object.values(ns)) ip(['netns', 'add', name]);
  ip(['-n', ns.s, 'link', 'add', 'br0', 'type', 'bridge']);
  ip(['-n', ns.s, 'link', 'set', 'br0', 'up']);
  ip(['-n', ns.r, 'link', 'add', 'rA', 'type', 'veth', 'peer', 'name', 'rB', 'netns', ns.s]);
  ip(['-n', ns.c, 'link', 'add', 'cA', 'type', 'veth', 'peer', 'name', 'cB', 'netns', ns.s]);
  for (const port of ['rB', 'cB']) {
    ip(['-n', ns.s, 'link', 'set', port, 'master', 'br0']);
    ip(['-n', ns.s, 'link', 'set', port, 'up']);
  }
  const redisHost = `10.213.${n}.2`;
  ip(['-n', ns.r, 'addr', 'add', `${redisHost}/24`, 'dev', 'rA']);
  ip(['-n', ns.c, 'addr', 'add', `10.213.${n}.3/24`, 'dev', 'cA']);
  for (const [name, dev] of [[ns.r, 'rA'], [ns.c, 'cA']]) {
    ip(['-n', name, 'link', 'set', dev, 'up']);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
  }
  return {
    ns,
    redisHost,
    /** Start `cmd args` inside namespace `where` ('c' or 'r'); killed by PID at the end. */
    spawnIn(where, cmd, args, opts = {}) {
      const p = spawn('ip', ['netns', 'exec', ns[where], cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
      p.exited = new Promise((r) => p.once('exit', r));
      procs.add(p);
      p.once('exit', () => procs.delete(p));
      return p;
    },
    /** Run to completion inside `where`: { code, stdout, stderr }. */
    run(where, cmd, args) {
      return new Promise((resolve) => {
        const p = spawn('ip', ['netns', 'exec', ns[where], cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => { stdout += d; });
        p.stderr.on('data', (d) => { stderr += d; });
        const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
        p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
      });
    },
    /** The switch port towards Redis goes dead: links stay up, packets are dropped. */
    cut() {
      ip(['-n', ns.s, 'link', 'set', 'rB', 'down']);
    },
    heal() {
      ip(['-n', ns.s, 'link', 'set', 'rB', 'up']);
    },
    killProc,
  };
}

async function killProc(p) {
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await p.exited;
}

module.exports = { netnsSupport, makeNet };
