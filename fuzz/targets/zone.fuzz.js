'use strict';
// Fuzz target: any text as a zone file (RFC 1035 §5 master format). Properties: parseZone never
// throws; it returns either problems, each with its file and a line within that file, or records
// that lie in the zone, with RDATA, TTL and line in range, which the server can index
// (ZoneIndex) and reduce to pool-name rules without a throw. $INCLUDE resolves against a
// directory holding one small included file; nothing else is read but what a path names.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseZone } = require('../../dist/zone/parse');
const { ZoneIndex } = require('../../dist/zone/lookup');
const { zonePoolRules } = require('../../dist/zone/poolRules');
const { isInZone } = require('../../dist/model/names');

const ORIGIN = 'example.com';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-fuzz-zone-'));
const FILE = path.join(dir, 'example.com.zone');
fs.writeFileSync(path.join(dir, 'inc.zone'), 'inc 300 IN A 192.0.2.7\ninc 300 IN TXT "included"\n');
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

/** Lines of each file problems name (the zone text itself, or an included file), read once per input. */
function lineCounter(text) {
  const counts = new Map([[FILE, text.split('\n').length]]);
  return (file) => {
    if (!counts.has(file)) {
      let n;
      try {
        n = fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8').split('\n').length : undefined;
      } catch {
        n = undefined; // an $INCLUDE path that does not exist
      }
      counts.set(file, n);
    }
    return counts.get(file);
  };
}

function fuzz(data) {
  const text = data.toString('utf8');
  const { zone, problems } = parseZone(text, { file: FILE, origin: ORIGIN });
  if (problems.length > 0) {
    const lines = lineCounter(text);
    for (const p of problems) {
      if (typeof p.file !== 'string' || p.file === '') throw new Error(`problem without a file: ${JSON.stringify(p)}`);
      if (typeof p.message !== 'string' || p.message === '') throw new Error(`problem without a message: ${JSON.stringify(p)}`);
      if (!Number.isInteger(p.line) || p.line < 0) throw new Error(`problem with line ${p.line}: ${JSON.stringify(p)}`);
      // A line past the end of a readable file is a wrong line (0 means the whole file).
      const n = lines(p.file);
      if (n !== undefined && p.line > n) throw new Error(`problem at line ${p.line} of a ${n}-line file: ${JSON.stringify(p)}`);
    }
    return;
  }
  const lines = text.split('\n').length;
  for (const r of zone.records) {
    if (!isInZone(r.name, ORIGIN) && !r.name.endsWith(`.${ORIGIN}`)) throw new Error(`record outside the zone: ${r.name}`);
    if (!Number.isInteger(r.type) || r.type < 1 || r.type > 65535) throw new Error(`type ${r.type}`);
    if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > 0x7fffffff) throw new Error(`TTL ${r.ttl} of ${r.name}`);
    if (!Buffer.isBuffer(r.rdata) || r.rdata.length > 65535) throw new Error(`RDATA of ${r.name}`);
    if (r.file === undefined && (r.line < 1 || r.line > lines)) throw new Error(`record ${r.name} at line ${r.line} of ${lines}`);
  }
  new ZoneIndex(zone);
  zonePoolRules(zone);
}

module.exports = { fuzz };
