'use strict';
// Coverage-guided fuzzing (docs/fuzzing.md). Every checked-in seed and every regression input
// (a crash or a leak a campaign found) is replayed through its target's properties; then each
// target runs a short Jazzer.js campaign of a fixed number of runs from a fixed seed. A finding
// fails the test; the failure shows libFuzzer's report with the input (base64).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const FUZZ = path.join(__dirname, '..', 'fuzz');
// Runs per target: a few seconds of CPU each (docs/fuzzing.md has the timings).
const CAMPAIGN = { query: 8000, zone: 600, storeUrl: 8000, tcpFramer: 8000 };

function inputs(target) {
  return ['corpus', 'regressions'].flatMap((kind) => {
    const dir = path.join(FUZZ, kind, target);
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort().map((f) => path.join(dir, f)) : [];
  });
}

for (const target of Object.keys(CAMPAIGN)) {
  test(`fuzz ${target}: every seed and regression input holds the target's properties`, () => {
    const { fuzz } = require(path.join(FUZZ, 'targets', `${target}.fuzz.js`));
    const files = inputs(target);
    assert.ok(files.length > 0, `no seeds for ${target}`);
    for (const file of files) {
      assert.doesNotThrow(() => fuzz(fs.readFileSync(file)), `${path.relative(FUZZ, file)}`);
    }
  });
}

function runCampaign(target, runs, out) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(FUZZ, 'run.js'), target, '--runs', String(runs), '--seed', '1', '--out', out],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    // A campaign that does not end is a hang of its own: bounded, then killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, log });
    });
  });
}

test('fuzz: a short Jazzer.js campaign per target finds nothing', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-fuzz-'));
  t.after(() => fs.rmSync(out, { recursive: true, force: true }));
  for (const [target, runs] of Object.entries(CAMPAIGN)) {
    const r = await runCampaign(target, runs, out);
    const findings = fs.readdirSync(path.join(out, target)).filter((f) => /^(crash|timeout|oom|leak)-/.test(f));
    assert.equal(r.code, 0, `${target}: exit ${r.code}, findings ${findings.join(', ')}\n${r.log.slice(-3000)}`);
    assert.deepEqual(findings, [], `${target}: ${r.log.slice(-3000)}`);
    assert.match(r.log, new RegExp(`#${runs}\\s+DONE`), `${target} did not run its ${runs} runs`);
  }
});
