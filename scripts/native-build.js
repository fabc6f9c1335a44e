#!/usr/bin/env node
'use strict';
// The package.json "install" step (run by `npm ci` / `npm install`): build the optional native
// UDP addon (binding.gyp, native/udp_batch.c, docs/native.md) with node-gyp. It never fails the
// install: where the addon cannot build (not Linux, no C compiler, no Node headers) it prints
// one line and tierdns answers UDP with Node's dgram, which gives the same answers.
//
//   TIERDNS_NATIVE=0 npm ci     skip the build (and, at run time, the addon: pure-Node path)
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const addon = path.join(root, 'build', 'Release', 'udp_batch.node');

function fallback(why) {
  fs.rmSync(addon, { force: true });
  console.log(`tierdns: native addon not built (${why}); Node's dgram and net will be used for UDP and tcp checks`);
  process.exit(0);
}

if (process.env.TIERDNS_NATIVE === '0') fallback('TIERDNS_NATIVE=0');
// recvmmsg/sendmmsg are Linux system calls.
if (process.platform !== 'linux') fallback(`it needs Linux, this is ${process.platform}`);
// npm names its bundled node-gyp in npm_config_node_gyp for install scripts; else try PATH.
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
if (r.error) fallback(`cannot run node-gyp: ${r.error.message}`);
if (r.status !== 0 || !fs.existsSync(addon)) fallback('node-gyp rebuild failed, see above');
console.log('tierdns: native addon built (build/Release/udp_batch.node: UDP batching, tcp prober, TCP send limits)');
