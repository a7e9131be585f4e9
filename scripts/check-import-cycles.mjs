// Fails when modules under the given folders (default: src) import each other in a cycle, type-only
// imports included: a cycle means two modules that cannot be read, tested or moved apart (STYLE.md,
// tooling floor). Reads the TypeScript sources; relative imports only (packages cannot close a loop).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src'];
const IMPORT = /^\s*(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]/gm;

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [resolve(path)] : [];
  });
}

const graph = new Map();
for (const file of roots.flatMap(sources)) {
  const text = readFileSync(file, 'utf8');
  graph.set(file, [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), m[1].replace(/\.js$/, '.ts'))));
}

// Depth-first search; a module met again while still on the path closes a cycle.
const ON_PATH = 1;
const DONE = 2;
const state = new Map();
const path = [];
const cycles = [];
function visit(file) {
  state.set(file, ON_PATH);
  path.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (!graph.has(dep)) continue;
    if (state.get(dep) === ON_PATH) cycles.push([...path.slice(path.indexOf(dep)), dep]);
    else if (state.get(dep) === undefined) visit(dep);
  }
  path.pop();
  state.set(file, DONE);
}
for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);

if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`import cycle: ${cycle.map((f) => relative(process.cwd(), f)).join(' -> ')}`);
  process.exit(1);
}
console.log(`check-import-cycles: ${graph.size} modules under ${roots.join(', ')}, no cycle`);
