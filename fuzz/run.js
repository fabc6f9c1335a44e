#!/usr/bin/env node
'use strict';
// Run a fuzz target under Jazzer.js (docs/fuzzing.md):
//   node fuzz/run.js TARGET|all [--runs N | --seconds S] [--seed N] [--out DIR] [-- libFuzzer flags…]
// Seeds: fuzz/corpus/TARGET and fuzz/regressions/TARGET (read only). New corpus entries go to
// --out/TARGET/corpus (default results/fuzz), crashes and hangs to --out/TARGET/.
// Exit 0 when every run ended without a finding.

const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { weakenVersions } = require('./compat/elfWeakVersions');

const ROOT = path.join(__dirname, '..');

/** Per target: the input size libFuzzer may grow to, a dictionary, and bug detectors to leave off (why). */
const TARGETS = {
  query: { maxLen: 1024 },
  // $INCLUDE reads the path a zone file names (RFC 1035 §5.1): not a traversal.
  zone: { maxLen: 4096, dict: 'zone.dict', disable: ['path-traversal'] },
  // ?ca= and friends name files to read: the operator's choice, not a traversal.
  storeUrl: { maxLen: 512, dict: 'storeUrl.dict', disable: ['path-traversal'] },
  tcpFramer: { maxLen: 4096 },
};

function parseArgs(argv) {
  const opts = { targets: [], runs: undefined, seconds: undefined, seed: undefined, out: path.join(ROOT, 'results', 'fuzz'), extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      opts.extra = argv.slice(i + 1);
      break;
    }
    if (a === '--runs') opts.runs = Number(argv[++i]);
    else if (a === '--seconds') opts.seconds = Number(argv[++i]);
    else if (a === '--seed') opts.seed = Number(argv[++i]);
    else if (a === '--out') opts.out = path.resolve(argv[++i]);
    else if (a === 'all') opts.targets.push(...Object.keys(TARGETS));
    else if (Object.hasOwn(TARGETS, a)) opts.targets.push(a);
    else throw new Error(`unknown argument ${a}; targets: ${Object.keys(TARGETS).join(', ')}, all`);
  }
  if (opts.targets.length === 0) throw new Error('name a target or all');
  return opts;
}

/**
 * The environment the Jazzer CLI needs here. The Linux x64 prebuild of @jazzer.js/fuzzer 4.0.0
 * wants glibc 2.38 and libstdc++ 13; on older systems (Debian 12) a copy of it with those
 * version needs made weak is loaded instead, with the few definitions it lacks preloaded
 * (fuzz/compat/). Built once into build/fuzz-compat/, nothing under node_modules changes.
 */
function jazzerEnv() {
  try {
    require('@jazzer.js/fuzzer/dist/addon');
    return { env: {}, preload: [] };
  } catch (err) {
    if (!/GLIBC_2\.3\d|GLIBCXX_3\.4\.3\d/.test(String(err && err.message))) throw err;
  }
  const dir = path.join(ROOT, 'build', 'fuzz-compat');
  fs.mkdirSync(dir, { recursive: true });
  const shim = path.join(dir, 'glibc-compat.so');
  const source = path.join(__dirname, 'compat', 'glibc-compat.cc');
  if (!fs.existsSync(shim) || fs.statSync(shim).mtimeMs < fs.statSync(source).mtimeMs) {
    execFileSync(process.env.CXX || 'g++', ['-shared', '-fPIC', '-O2', '-o', shim, source], { stdio: 'inherit' });
  }
  const shipped = path.join(path.dirname(require.resolve('@jazzer.js/fuzzer/package.json')), 'prebuilds', 'fuzzer-linux-x64.node');
  const addon = path.join(dir, 'fuzzer-linux-x64.node');
  if (!fs.existsSync(addon) || fs.statSync(addon).mtimeMs < fs.statSync(shipped).mtimeMs) {
    const elf = fs.readFileSync(shipped);
    weakenVersions(elf, ['GLIBC_2.38', 'GLIBCXX_3.4.32']);
    fs.writeFileSync(`${addon}.tmp`, elf);
    fs.renameSync(`${addon}.tmp`, addon);
  }
  const ldPreload = [shim, process.env.LD_PRELOAD].filter(Boolean).join(':');
  return { env: { LD_PRELOAD: ldPreload, TIERDNS_FUZZ_ADDON: addon }, preload: ['-r', path.join(__dirname, 'compat', 'redirectAddon.js')] };
}

function jazzerCli() {
  const pkg = require.resolve('@jazzer.js/core/package.json');
  const { bin } = JSON.parse(fs.readFileSync(pkg, 'utf8'));
  return path.join(path.dirname(pkg), typeof bin === 'string' ? bin : bin.jazzer);
}

function runTarget(name, opts, setup) {
  const t = TARGETS[name];
  const outDir = path.join(opts.out, name);
  const corpusOut = path.join(outDir, 'corpus');
  fs.mkdirSync(corpusOut, { recursive: true });
  const seeds = ['corpus', 'regressions'].map((d) => path.join(__dirname, d, name)).filter((d) => fs.existsSync(d));
  const libFuzzer = [
    `-max_len=${t.maxLen}`,
    `-artifact_prefix=${outDir}${path.sep}`,
    ...(opts.runs !== undefined ? [`-runs=${opts.runs}`] : []),
    ...(opts.seconds !== undefined ? [`-max_total_time=${opts.seconds}`] : []),
    ...(opts.seed !== undefined ? [`-seed=${opts.seed}`] : []),
    ...(t.dict ? [`-dict=${path.join(__dirname, 'dict', t.dict)}`] : []),
    ...opts.extra,
  ];
  const args = [
    ...setup.preload, jazzerCli(), path.join(__dirname, 'targets', `${name}.fuzz.js`), corpusOut, ...seeds,
    '--sync', '--includes', `${path.join(ROOT, 'dist')}${path.sep}`, '--timeout', '10000',
    ...(t.disable ?? []).flatMap((d) => ['--disable_bug_detectors', d]), '--', ...libFuzzer,
  ];
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...setup.env }, stdio: ['ignore', 'inherit', 'inherit'] });
  process.stderr.write(`fuzz: ${name}: exit ${r.status ?? r.signal} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return r.status === 0;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const setup = jazzerEnv();
  let ok = true;
  for (const name of opts.targets) ok = runTarget(name, opts, setup) && ok;
  process.exitCode = ok ? 0 : 1;
}

main();
