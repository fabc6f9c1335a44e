'use strict';
// Shipping: `npm pack` gives a tarball that `npm install -g` turns into a working `tierdns`
// command (dist/ inside, the native addon built at install or one line saying it was not),
// installed here into a temporary prefix.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { tmpDir } = require('./helpers/store');

const ROOT = path.join(__dirname, '..');

test('npm pack → npm install -g --prefix DIR → DIR/bin/tierdns works', async (t) => {
  const dir = tmpDir(t, 'tierdns-pack-');
  // What `npm test` just built; --ignore-scripts skips prepack/prepare (which clean and rebuild dist/).
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }));
  const files = packed.files.map((f) => f.path);
  for (const f of ['dist/cli.js', 'dist/cli/main.js', 'package.json', 'binding.gyp', 'native/udp_batch.c', 'scripts/native-build.js']) {
    assert.ok(files.includes(f), `${f} is not in the tarball`);
  }
  assert.deepEqual(files.filter((f) => /^(src|test|results|data)\//.test(f)), [], 'sources, tests or local data in the tarball');

  const prefix = path.join(dir, 'prefix');
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, path.join(dir, packed.filename),
    '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(install.status, 0, install.stdout + install.stderr);
  // The install step says, in one line, whether the native addon was built.
  assert.equal(install.stdout.split('\n').filter((l) => /^tierdns: native addon (built|not built)/.test(l)).length, 1, install.stdout);

  const bin = path.join(prefix, 'bin', 'tierdns');
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout, `${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}\n`);
  const check = spawnSync(bin, ['zone', 'check', path.join(ROOT, 'zones')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /^lb\.example\.com: \d+ records OK$/m);
  // apply loads the YAML parser: the installed dependencies are all there.
  fs.writeFileSync(path.join(dir, 'pools.yaml'), 'pools:\n  ws.lb.example.com:\n    members: [192.0.2.10]\n');
  const apply = spawnSync(bin, ['apply', '-f', 'pools.yaml', '--zones', path.join(ROOT, 'zones'), '--store', 'file:store.json'], { cwd: dir, encoding: 'utf8' });
  assert.equal(apply.status, 0, apply.stderr);
  assert.match(apply.stdout, /applied: 1 created/);
});
