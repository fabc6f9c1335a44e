'use strict';
// Run `tierdns serve` as a real process for end-to-end tests; the port comes from its ready log.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

// Processes started per test, so a temp dir is removed only after they have exited
// (node:test runs after-hooks in registration order, and dirs are made first).
const stopsByTest = new WeakMap();

function tempDir(t, prefix = 'tierdns-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (t) {
    t.after(async () => {
      await Promise.all((stopsByTest.get(t) ?? []).map((stop) => stop('SIGKILL')));
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    });
  }
  return dir;
}

/**
 * Start serve with `args` (added to --listen 127.0.0.1:0 unless args has --listen).
 * Resolves { proc, port, logs, lines, stop } once the instance logs 'serve: ready' (`lines`: the
 * raw log lines, for what parsing would hide, such as a key written twice).
 * `prefix` runs it through a command that execs it (e.g. ['prlimit', '--nofile=256', '--']).
 */
function startServe(t, args, { env = {}, timeoutMs = 10000, prefix = [] } = {}) {
  const full = ['serve', ...(args.includes('--listen') ? [] : ['--listen', '127.0.0.1:0']), ...args];
  const [cmd, ...cmdArgs] = [...prefix, process.execPath, CLI, ...full];
  // Its own process group, so a stop reaches cluster workers too.
  const proc = spawn(cmd, cmdArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const logs = [];
  const lines = [];
  let buffered = '';
  const stop = async (signal = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    if (signal === 'SIGKILL') {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        proc.kill('SIGKILL');
      }
    } else proc.kill(signal);
    await exited;
  };
  if (t) {
    t.after(() => stop('SIGKILL'));
    if (!stopsByTest.has(t)) stopsByTest.set(t, []);
    stopsByTest.get(t).push(stop);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not get ready:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
    proc.stdout.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        let entry;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { msg: line };
        }
        logs.push(entry);
        if (entry.msg === 'serve: ready') {
          clearTimeout(timer);
          resolve({ proc, port: entry.listen[0].port, logs, lines, stop });
        }
      }
    });
    proc.stderr.on('data', (chunk) => logs.push({ stderr: String(chunk) }));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`serve exited with ${code}: ${logs.map((l) => l.stderr ?? l.msg).join(' | ')}`), { code, logs }));
    });
  });
}

/** Run the CLI to completion: { code, stdout, stderr }; killed after `timeoutMs` (code null then). */
function runCli(args, { env = {}, input, timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(input ?? '');
  });
}

module.exports = { CLI, tempDir, startServe, runCli };
