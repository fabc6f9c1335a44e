'use strict';
// The CLI fed hostile files: a pools file that never ends (a device, a pipe) is refused at a
// size cap instead of read until memory runs out, and control characters from a pools or zone
// file are printed escaped, never sent to the terminal to run (docs/cli.md "apply").

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { tmpDir } = require('./helpers/store');
const { CLI, runCli } = require('./helpers/cli');

const ZONE = `$ORIGIN lb.example.com.
@ 300 SOA ns1 hostmaster.example.com. 1 3600 600 1209600 60
@ 300 NS ns1
ns1 300 A 192.0.2.1
`;

function setup(t) {
  const dir = tmpDir(t, 'tierdns-hostile-cli-');
  fs.mkdirSync(path.join(dir, 'zones'));
  fs.writeFileSync(path.join(dir, 'zones', 'lb.example.com.zone'), ZONE);
  return { dir, store: `file:${path.join(dir, 'store.json')}` };
}

/** No byte that a terminal acts on: C0 controls but tab and newline, DEL, C1 controls. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test('apply -f /dev/zero is refused at the size cap, not read until memory runs out', async (t) => {
  const { dir, store } = setup(t);
  const r = await runCli(['apply', '-f', '/dev/zero', '--dry-run', '--store', store], { cwd: dir, timeoutMs: 30_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot read \/dev\/zero: it is larger than 16 MiB \(TIERDNS_E_USAGE\)/);
  assert.equal(fs.existsSync(path.join(dir, 'store.json')), false, 'a refused file created the store');
});

test('apply -f FILE larger than the cap is refused before it is read', async (t) => {
  const { dir, store } = setup(t);
  const big = path.join(dir, 'big.yaml');
  fs.writeFileSync(big, 'pools: {}\n');
  fs.truncateSync(big, 16 * 1024 * 1024 + 1);
  const r = await runCli(['apply', '-f', big, '--store', store], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /it is larger than 16 MiB \(TIERDNS_E_USAGE\)/);
});

test('apply -f - stops reading standard input past the cap', async (t) => {
  const { dir, store } = setup(t);
  const child = spawn(process.execPath, [CLI, 'apply', '-f', '-', '--dry-run', '--store', store], {
    cwd: dir, env: { ...process.env, TIERDNS_STORE: '' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdin.on('error', () => {}); // EPIPE once the CLI gives up reading
  // Writes until the CLI exits: a reader without a cap would never stop.
  const chunk = Buffer.alloc(1 << 20, 0x20);
  let exited = false;
  const code = new Promise((resolve) => child.on('close', (c) => { exited = true; resolve(c); }));
  (function pump() {
    if (exited || child.stdin.destroyed) return;
    if (child.stdin.write(chunk)) setImmediate(pump);
    else child.stdin.once('drain', pump);
  })();
  assert.equal(await code, 2, stderr);
  assert.match(stderr, /cannot read standard input: it is larger than 16 MiB/);
});

test('apply: a small pools file from a pipe still applies', async (t) => {
  const { dir, store } = setup(t);
  const child = spawn(process.execPath, [CLI, 'apply', '-f', '-', '--store', store], {
    cwd: dir, env: { ...process.env, TIERDNS_STORE: '' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  child.stdin.end('pools:\n  ws.lb.example.com:\n    members: [192.0.2.10]\n');
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0, out);
  const ls = await runCli(['pool', 'ls', '--store', store], { cwd: dir });
  assert.match(ls.stdout, /ws\.lb\.example\.com/);
});

test('apply: control characters from the file are printed escaped', async (t) => {
  const { dir, store } = setup(t);
  const file = path.join(dir, 'esc.yaml');
  // ESC ] 0 ; … BEL retitles a terminal window; ESC [ 31 m recolours; CR overwrites the line.
  fs.writeFileSync(file, 'pools:\n  "ws\\e]0;pwned\\a\\e[31m\\r\\x9b.lb.example.com":\n    members: ["\\e[2J"]\n');
  const r = await runCli(['apply', '-f', file, '--dry-run', '--store', store], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, CONTROL);
  assert.match(r.stderr, /ws\\x1b\]0;pwned\\x07\\x1b\[31m\\r\\x9b\.lb\.example\.com/);
});

test('zone check: control characters from a zone file are printed escaped', async (t) => {
  const { dir } = setup(t);
  fs.appendFileSync(path.join(dir, 'zones', 'lb.example.com.zone'), 'foo 300 \x1b]0;pwned\x07 192.0.2.9\n');
  const r = await runCli(['zone', 'check', 'zones'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, CONTROL);
  assert.match(r.stderr, /lb\.example\.com\.zone:5: unknown type "\\x1b\]0"/);
});
