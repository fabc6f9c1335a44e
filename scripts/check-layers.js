#!/usr/bin/env node
// Checks that imports in src/ run one way (docs/architecture.md): each folder may import only
// folders of a lower layer (and itself), and no files import each other in a circle, type
// imports included. A short script rather than dependency-cruiser: the rule is ten lines, and
// it needs no dependency that a clean `npm ci` has to fetch.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Layer of each folder under src/; a folder imports only folders of a lower number. */
const LAYERS = {
  util: 0,
  wire: 1, model: 1,
  zone: 2, pool: 2, store: 2,
  health: 3, dns: 3,
  server: 4,
  cli: 5,
  '.': 6, // src/cli.ts, the executable's entry
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|require\('(\.[^']+)'\)|import\('(\.[^']+)'\)/g;

function sourceFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function resolveImport(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  return undefined;
}

/** Problems found in the tree at `srcDir`, as lines of text (empty when the layering holds). */
function checkLayers(srcDir) {
  const problems = [];
  const folderOf = (f) => {
    const rel = path.relative(srcDir, f);
    return rel.includes(path.sep) ? rel.split(path.sep)[0] : '.';
  };
  const graph = new Map();
  for (const file of sourceFiles(srcDir)) {
    const text = fs.readFileSync(file, 'utf8');
    const deps = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const target = resolveImport(file, spec);
      const where = path.relative(srcDir, file);
      if (!target) { problems.push(`${where}: import '${spec}' does not resolve`); continue; }
      deps.push(target);
      const from = folderOf(file);
      const to = folderOf(target);
      if (from === to) continue;
      if (!(from in LAYERS)) { problems.push(`${where}: folder '${from}' has no layer`); continue; }
      if (!(to in LAYERS) || LAYERS[to] >= LAYERS[from]) {
        problems.push(`${where}: ${from}/ (layer ${LAYERS[from]}) must not import ${to}/ (layer ${LAYERS[to]}): '${spec}'`);
      }
    }
    graph.set(file, deps);
  }
  // File cycles, by depth-first search (a folder cycle is also a file cycle).
  const state = new Map();
  const stack = [];
  const visit = (f) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') {
        const cycle = stack.slice(stack.indexOf(d)).concat(d).map((x) => path.relative(srcDir, x));
        problems.push(`import cycle: ${cycle.join(' -> ')}`);
      } else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return problems;
}

module.exports = { checkLayers, LAYERS };

if (require.main === module) {
  const problems = checkLayers(path.join(__dirname, '..', 'src'));
  for (const p of problems) console.error(p);
  process.exitCode = problems.length ? 1 : 0;
}
