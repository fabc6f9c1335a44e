'use strict';
// Zone files (RFC 1035 §5): parser, zone-wide checks, directory loader, `tierdns zone check`.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseZone } = require('../dist/zone/parse');
const { loadZoneDir } = require('../dist/zone/load');
const { typeName } = require('../dist/wire/constants');
const RDATA = require('./fixtures/zones/rdata-table');
const ERRORS = require('./fixtures/zones/error-table');
const SYNTAX = require('./fixtures/zones/syntax-table');

const ROOT = path.join(__dirname, '..');
const FIXTURES = path.join('test', 'fixtures', 'zones');
const FILE = 'example.com.zone';
const HEAD_LINES = ERRORS.HEAD.length;

const fmt = (r) => `${r.name} ${r.ttl} ${typeName(r.type)} ${r.rdata.toString('hex')}${r.target === undefined ? '' : ` -> ${r.target}`}`;
const problemLines = (problems) => problems.map((p) => `${p.file}:${p.line}: ${p.message}`);

function parseOk(text, origin = 'example.com') {
  const { zone, problems } = parseZone(text, { file: FILE, origin });
  assert.deepEqual(problemLines(problems), []);
  return zone;
}

/** Records in their plainest presentation form, parsed in a root-origin scratch zone. */
function canon(lines) {
  const { zone, problems } = parseZone(lines.join('\n'), { file: 'want', origin: '.' });
  // The scratch zone has no SOA/NS of its own: only the apex complaints (line 0) are expected.
  assert.deepEqual(problemLines(problems.filter((p) => p.line > 0)), []);
  return zone.records.map(fmt).sort();
}

const withHead = (body) => `${ERRORS.HEAD.join('\n')}\n${body}`;
const bodyRecords = (zone) => zone.records.filter((r) => r.line > HEAD_LINES || r.file !== undefined);

test('each record type encodes to the wire RDATA Knot DNS produces', () => {
  const lines = [...RDATA.head];
  const starts = [];
  for (const [text] of RDATA.rows) {
    starts.push(lines.length + 1);
    lines.push(...text.split('\n'));
  }
  const zone = parseOk(lines.join('\n'), RDATA.origin);
  RDATA.rows.forEach(([text, hex, target], i) => {
    const recs = zone.records.filter((r) => r.line === starts[i]);
    assert.equal(recs.length, 1, text);
    assert.equal(recs[0].rdata.toString('hex'), hex, text);
    assert.equal(recs[0].target, target, text);
    assert.equal(recs[0].ttl, 300, text);
  });
  assert.equal(zone.records.length, RDATA.rows.length);
  assert.equal(zone.origin, 't.test');
  const esc = zone.records.find((r) => r.rdata.toString('hex') === '0178');
  // One label "e.scapeda": the escaped dot stays escaped, \065 becomes a folded "a".
  assert.equal(esc.name, 'e\\.scapeda.t.test');
});

for (const row of SYNTAX.rows) {
  test(`syntax: ${row.name}`, () => {
    const zone = parseOk(withHead(row.body));
    assert.deepEqual(bodyRecords(zone).map(fmt).sort(), canon(row.want));
  });
}

for (const row of ERRORS.rows) {
  test(`problem: ${row.name}`, () => {
    const text = row.text ?? withHead(row.body);
    let result;
    assert.doesNotThrow(() => { result = parseZone(text, { file: FILE, origin: 'example.com' }); });
    const got = problemLines(result.problems);
    assert.equal(got.length, row.want.length, got.join('\n'));
    row.want.forEach((want, i) => {
      if (want instanceof RegExp) assert.match(got[i], new RegExp(`^${FILE}:${want.source.slice(1)}`));
      else assert.equal(got[i], `${FILE}:${want}`);
    });
  });
}

test('mangled input never throws: every problem has a line and a message', () => {
  // Deterministic mutations of a real zone: deletions, duplications and special characters.
  const base = require('./fixtures/example.zone');
  const specials = ['(', ')', '"', '\\', ';', '\n', ' ', '@', '.', '$INCLUDE x', '\\#', '999999999999', '\\999'];
  let seed = 42;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let round = 0; round < 300; round++) {
    let text = base;
    for (let k = 0; k < 1 + rand(6); k++) {
      const at = rand(text.length);
      const op = rand(3);
      if (op === 0) text = text.slice(0, at) + text.slice(at + rand(20));
      else if (op === 1) text = text.slice(0, at) + text.slice(at, at + rand(30)) + text.slice(at);
      else text = text.slice(0, at) + specials[rand(specials.length)] + text.slice(at);
    }
    const { problems } = parseZone(text, { file: FILE, origin: 'example.com' });
    for (const p of problems) {
      assert.ok(Number.isInteger(p.line) && p.line >= 0 && typeof p.message === 'string' && p.message.length > 0, JSON.stringify(p));
      assert.doesNotMatch(p.message, /internal error/);
    }
  }
});

test('names keep escapes in the form the lookup index reads', () => {
  const zone = parseOk(withHead('a\\.b A 127.0.0.1\nsp\\032ace A 127.0.0.2\n\\065BC A 127.0.0.3'));
  assert.deepEqual(bodyRecords(zone).map((r) => r.name), ['a\\.b.example.com', 'sp\\032ace.example.com', 'abc.example.com']);
});

test('records carry 1-based start lines, multi-line records their first line', () => {
  const zone = parseOk(withHead('\n; comment\na TXT ( "x"\n "y" )\nb A 127.0.0.1'));
  assert.deepEqual(bodyRecords(zone).map((r) => `${r.name}:${r.line}`), ['a.example.com:7', 'b.example.com:9']);
  assert.deepEqual(zone.records.slice(0, 2).map((r) => `${typeName(r.type)}:${r.line}`), ['SOA:3', 'NS:4']);
});

test('without $TTL, an omitted TTL is the last explicit one (RFC 1035 §5.1)', () => {
  const zone = parseOk('$ORIGIN example.com.\n@ 120 SOA ns1 h 1 2 3 4 5\n@ NS ns1\na 30 A 127.0.0.1\nb A 127.0.0.2');
  assert.deepEqual(zone.records.map((r) => r.ttl), [120, 120, 30, 30]);
});

test('without $TTL or any TTL before it, the SOA takes its MINIMUM and later records inherit it', () => {
  const zone = parseOk('@ SOA ns1 h 1 2 3 4 45\n@ NS ns1\n');
  assert.deepEqual(zone.records.map((r) => `${typeName(r.type)} ${r.ttl}`), ['SOA 45', 'NS 45']);
});

test('the origin option works with or without a trailing dot, and is lower-cased', () => {
  for (const origin of ['Example.COM', 'example.com.']) {
    const zone = parseOk('$TTL 1\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1', origin);
    assert.equal(zone.origin, 'example.com');
    assert.equal(zone.file, FILE);
    assert.equal(zone.records[1].target, 'ns1.example.com');
  }
});

test('$INCLUDE: relative to the including file, optional origin, parent origin and owner restored', () => {
  const file = path.join(FIXTURES, 'good', 'example.org.zone');
  const { zone, problems } = parseZone(fs.readFileSync(path.join(ROOT, file), 'utf8'), { file: path.join(ROOT, file), origin: 'example.org' });
  assert.deepEqual(problemLines(problems), []);
  const rel = (f) => f && path.relative(path.join(ROOT, FIXTURES, 'good'), f);
  assert.deepEqual(zone.records.map((r) => `${r.name} ${typeName(r.type)} ${rel(r.file) ?? 'main'}:${r.line}`), [
    'example.org SOA main:3', 'example.org NS main:4',
    'ns1.example.org A hosts.inc:2', 'www.example.org CNAME hosts.inc:3',
    'after.example.org A main:6',
    'sub.example.org TXT sub/sub.inc:2', 'x.sub.example.org A sub/sub.inc:3', 'y.sub.example.org A sub/deeper.inc:1',
    'after.example.org TXT main:8',
  ]);
});

/** A temporary zones directory holding `files` ({name: text}), removed after the test. */
function tempDir(t, files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-zone-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    if (text === null) fs.mkdirSync(path.join(dir, name));
    else fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const GOOD = '$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 127.0.0.1\n';

test('$INCLUDE loops and deep nesting are refused at the include line, and mark the zone file', (t) => {
  const dir = tempDir(t, {
    'loop.test.zone': `${GOOD}$INCLUDE a.inc\n`,
    'a.inc': 'x A 127.0.0.2\n$INCLUDE a.inc\n',
    'deep.test.zone': `${GOOD}$INCLUDE d0.inc\n`,
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`d${i}.inc`, `$INCLUDE d${i + 1}.inc\n`])),
  });
  const { zones, problems } = loadZoneDir(dir);
  assert.deepEqual(zones, []);
  const at = (f) => path.join(dir, f);
  assert.deepEqual(problemLines(problems), [
    `${at('deep.test.zone')}:5: problems in included file ${at('d7.inc')}`,
    `${at('d7.inc')}:1: $INCLUDE nested more than 8 deep`,
    `${at('loop.test.zone')}:5: problems in included file ${at('a.inc')}`,
    `${at('a.inc')}:2: $INCLUDE loop: a.inc is already being read`,
  ]);
});

test('a device or a FIFO is not read: $INCLUDE /dev/zero or a FIFO zone file is a problem, not a stall', (t) => {
  const dir = tempDir(t, {
    'dev.test.zone': `${GOOD}$INCLUDE /dev/zero\n`,
    'pipe.test.zone': `${GOOD}$INCLUDE fifo.inc\n`,
  });
  spawnSync('mkfifo', [path.join(dir, 'fifo.inc'), path.join(dir, 'fifo.test.zone')]);
  assert.ok(fs.statSync(path.join(dir, 'fifo.inc')).isFIFO());
  const { zones, problems } = loadZoneDir(dir);
  assert.deepEqual(zones, []);
  const rel = problemLines(problems).map((l) => l.slice(dir.length + 1));
  assert.deepEqual(rel, [
    'dev.test.zone:5: cannot read $INCLUDE file /dev/zero: it is not a regular file',
    'fifo.test.zone:0: cannot read the zone file: it is not a regular file',
    'pipe.test.zone:5: cannot read $INCLUDE file fifo.inc: it is not a regular file',
  ]);
});

test('loadZoneDir: origin from the file name, broken zones withheld, problems kept, other files ignored', (t) => {
  const dir = tempDir(t, {
    'Upper.Test.zone': GOOD,
    'broken.test.zone': `${GOOD}x A 1.2.3.999\n`,
    'moved.test.zone': `$ORIGIN elsewhere.test.\n${GOOD}`,
    'soa.test.zone': '$TTL 60\nother.test. SOA ns1 h 1 2 3 4 5\n@ NS ns1\n',
    'notes.txt': 'not a zone',
    'a..zone': GOOD,
    '.zone': GOOD,
    'dir.test.zone': null,
  });
  const { zones, problems } = loadZoneDir(dir);
  assert.deepEqual(zones.map((z) => `${z.origin} ${path.basename(z.file)} ${z.records.length}`), ['upper.test Upper.Test.zone 3']);
  // Node's wording after the error code is not ours to pin.
  const rel = problemLines(problems).map((l) => l.slice(dir.length + 1).replace(/(EISDIR):.*/, '$1'));
  assert.deepEqual(rel, [
    '.zone:0: the file name does not name a zone (empty label): name it <zone>.zone',
    'a..zone:0: the file name does not name a zone (empty label): name it <zone>.zone',
    'broken.test.zone:5: bad IPv4 address "1.2.3.999"',
    'dir.test.zone:0: cannot read the zone file: EISDIR',
    'moved.test.zone:0: no SOA record at the zone apex moved.test',
    'moved.test.zone:0: no NS records at the zone apex moved.test',
    'moved.test.zone:1: $ORIGIN elsewhere.test is outside the zone moved.test',
    'moved.test.zone:3: "elsewhere.test" is outside the zone moved.test',
    'moved.test.zone:4: "elsewhere.test" is outside the zone moved.test',
    'moved.test.zone:5: "ns1.elsewhere.test" is outside the zone moved.test',
    'soa.test.zone:0: no SOA record at the zone apex soa.test',
    'soa.test.zone:2: "other.test" is outside the zone soa.test',
  ]);
});

test('loadZoneDir: two files for one zone are both problems; a missing directory is a problem, not a throw', (t) => {
  const dir = tempDir(t, { 'Dup.test.zone': GOOD, 'dup.test.zone': GOOD });
  const { zones, problems } = loadZoneDir(dir);
  assert.deepEqual(zones, []);
  const both = `${path.join(dir, 'Dup.test.zone')}, ${path.join(dir, 'dup.test.zone')}`;
  assert.deepEqual(problemLines(problems), [
    `${path.join(dir, 'Dup.test.zone')}:0: zone dup.test is defined by more than one file: ${both}`,
    `${path.join(dir, 'dup.test.zone')}:0: zone dup.test is defined by more than one file: ${both}`,
  ]);
  const missing = path.join(dir, 'nope');
  const gone = loadZoneDir(missing);
  assert.deepEqual(gone.zones, []);
  assert.equal(gone.problems.length, 1);
  assert.match(problemLines(gone.problems)[0], new RegExp(`^${missing}:0: cannot read the zones directory: ENOENT`));
});

function cli(...args) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('zone check: file:line problems on stderr and exit 1', () => {
  const dir = path.join(FIXTURES, 'bad');
  const r = cli('zone', 'check', dir);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(r.err, [
    `${dir}/broken.test.zone:5: bad IPv4 address "10.0.0.300"`,
    `${dir}/broken.test.zone:6: problems in included file ${dir}/broken.inc`,
    `${dir}/broken.test.zone:8: www.broken.test has a CNAME and other data (TXT): a CNAME must be alone at its name (see line 7)`,
    `${dir}/broken.inc:2: bad IPv6 address "127.0.0.1"`,
    '',
  ].join('\n'));
});

test('zone check: one summary line per good zone and exit 0; an empty or missing directory fails', (t) => {
  const good = cli('zone', 'check', path.join(FIXTURES, 'good'));
  assert.deepEqual([good.code, good.out, good.err], [0, 'example.org: 9 records OK\n', '']);
  const empty = cli('zone', 'check', tempDir(t, {}));
  assert.equal(empty.code, 1);
  assert.match(empty.err, /: no \*\.zone files\n$/);
  const missing = cli('zone', 'check', path.join(FIXTURES, 'no-such-dir'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no-such-dir:0: cannot read the zones directory: ENOENT/);
});

test('the shipped zones/ directory passes, with the records npm start serves', () => {
  const r = cli('zone', 'check');
  assert.deepEqual([r.code, r.out, r.err], [0, 'lb.example.com: 8 records OK\n', '']);
  const { zones, problems } = loadZoneDir(path.join(ROOT, 'zones'));
  assert.deepEqual(problems, []);
  const recs = zones[0].records.map((r) => `${r.name} ${r.ttl} ${typeName(r.type)} ${r.target ?? r.rdata.toString('hex')}`);
  assert.deepEqual(recs.filter((s) => !/ (SOA|TXT) /.test(s)), [
    'lb.example.com 300 NS ns1.lb.example.com', 'lb.example.com 300 NS ns2.lb.example.com',
    'ns1.lb.example.com 300 A 7f000001', 'ns2.lb.example.com 300 A 7f000002',
    'www.lb.example.com 300 CNAME ws.lb.example.com',
  ]);
  const soa = zones[0].records.find((r) => r.type === 6).rdata;
  assert.equal(soa.readUInt32BE(soa.length - 4), 60);
  // ws is a pool name: its A/AAAA answers come from the store, never from the zone file.
  assert.equal(zones[0].records.some((r) => r.name === 'ws.lb.example.com'), false);
});
