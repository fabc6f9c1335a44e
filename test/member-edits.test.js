'use strict';
// Concurrent member edits with the real CLI (issue: lost update in `member add`): every member
// change is one atomic store operation, so `member add --weight`, `member add --port`,
// `member drain` and `member rm` run in parallel processes, on one member and on several,
// lose nothing, on Redis and on the file store alike.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { redisBackend, fileBackend, tmpDir } = require('./helpers/store');
const { runCli } = require('./helpers/cli');

const P = 'ws.lb.example.com';
const ROUNDS = 2;

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`parallel member edits: ${backend.name} store`, () => {
    before(() => backend.before());
    after(() => backend.after());

    function setup(t) {
      const loc = backend.location(t);
      const cwd = tmpDir(t, 'tierdns-edits-');
      fs.mkdirSync(path.join(cwd, 'zones'));
      fs.writeFileSync(path.join(cwd, 'zones', 'lb.example.com.zone'), '');
      const run = async (...args) => {
        const r = await runCli([...args, '--store', loc.url], { cwd, timeoutMs: 60_000 });
        return { ...r, args: args.join(' ') };
      };
      const members = async () => {
        const r = await run('status', P, '--json');
        assert.equal(r.code, 0, r.stderr);
        return new Map(JSON.parse(r.stdout).pools[0].members.map((m) => [m.ip, m]));
      };
      return { run, members };
    }

    test('weight, port and drain of one member, adds and removals of others, all at once: nothing lost', async (t) => {
      const { run, members } = setup(t);
      assert.equal((await run('pool', 'set', P)).code, 0);
      for (let round = 1; round <= ROUNDS; round++) {
        const ip = (n) => `10.${round}.0.${n}`;
        // Before the round: the shared member, one to remove, one to drain and remove at once.
        for (const r of await Promise.all([1, 8, 9].map((n) => run('member', 'add', P, ip(n))))) assert.equal(r.code, 0, r.stderr);
        const weight = 10 + round;
        const port = 8000 + round;
        const results = await Promise.all([
          run('member', 'add', P, ip(1), '--weight', String(weight)),
          run('member', 'add', P, ip(1), '--port', String(port)),
          run('member', 'drain', P, ip(1)),
          run('member', 'add', P, ip(2), '--weight', '2'),
          run('member', 'add', P, ip(3), '--weight', '3', '--port', '9003'),
          run('member', 'add', P, ip(4)),
          run('member', 'rm', P, ip(8)),
          run('member', 'rm', P, ip(9)),
          run('member', 'drain', P, ip(9)),
        ]);
        const byArgs = new Map(results.map((r) => [r.args, r]));
        for (const r of results) {
          // Draining a member removed at the same moment may find it gone; nothing else may fail.
          if (r.args.startsWith(`member drain ${P} ${ip(9)}`) && r.code !== 0) {
            assert.match(r.stderr, /TIERDNS_E_NO_MEMBER/, r.stderr);
            continue;
          }
          assert.equal(r.code, 0, `${r.args}: ${r.stderr}`);
        }
        assert.ok(byArgs.get(`member rm ${P} ${ip(8)}`).stdout.startsWith(`member ${ip(8)} removed from ${P}\n`));
        const now = await members();
        const shared = now.get(ip(1));
        assert.deepEqual({ weight: shared.weight, port: shared.port, admin: shared.admin }, { weight, port, admin: 'drained' }, `round ${round}`);
        assert.deepEqual([2, 3, 4].map((n) => [now.get(ip(n))?.weight, now.get(ip(n))?.port ?? null]), [[2, null], [3, 9003], [1, null]]);
        assert.equal(now.has(ip(8)), false);
        assert.equal(now.has(ip(9)), false, 'a drain racing a removal never brings the member back');
        // Undrain and a weight change of the same member at once: both land.
        const again = await Promise.all([run('member', 'undrain', P, ip(1)), run('member', 'add', P, ip(1), '--weight', '1')]);
        for (const r of again) assert.equal(r.code, 0, `${r.args}: ${r.stderr}`);
        const after = (await members()).get(ip(1));
        assert.deepEqual({ weight: after.weight, port: after.port, admin: after.admin }, { weight: 1, port, admin: 'enabled' });
      }
      assert.equal((await members()).size, ROUNDS * 4);
    });
  });
}
