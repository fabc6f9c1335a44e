'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { checkLayers } = require('../scripts/check-layers');

test('src/ imports run one way, with no cycles', () => {
  assert.deepStrictEqual(checkLayers(path.join(__dirname, '..', 'src')), []);
});

test('the check catches an import against the order and a cycle', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-layers-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (rel, text) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  write('wire/a.ts', "import { b } from '../dns/b';\n");
  write('dns/b.ts', "import type { c } from './c';\nexport const b = 1;\n");
  write('dns/c.ts', "import { b } from './b';\nexport const c = b;\n");
  const problems = checkLayers(dir);
  assert.ok(problems.some((p) => p.startsWith('wire/a.ts: wire/ (layer 1) must not import dns/')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('import cycle: dns/b.ts -> dns/c.ts -> dns/b.ts')), problems.join('\n'));
});
