'use strict';
// Run the real CLI (`node dist/cli.js`) as operators do, and capture what the store holds
// before and after, so "bad input changes nothing" is checked byte for byte.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { dumpKeys } = require('./redis');

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

/** Resolve with { code, stdout, stderr, ms } (never rejects; kills after timeoutMs). */
function runCli(args, { cwd, env = {}, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, TIERDNS_STORE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Everything a location holds: the file's bytes and its directory listing, or a DUMP of every key. */
async function storeState(loc) {
  if (loc.file) {
    const dir = path.dirname(loc.file);
    return {
      files: fs.readdirSync(dir).sort(),
      bytes: fs.existsSync(loc.file) ? fs.readFileSync(loc.file).toString('hex') : null,
    };
  }
  return dumpKeys(loc.url.split('?')[0], loc.prefix);
}

module.exports = { CLI, runCli, storeState };
