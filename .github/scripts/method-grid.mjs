// Writes the part of a grid that concerns one method: every experiment block that runs it, with
// `methods: [id]` and only that method's overrides. Grid and experiment names do not enter run
// ids, so the runs are exactly the full grid's runs of that method (same ids, same records).
//   node method-grid.mjs <grid.yaml> <method-id> <out.yaml>
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [gridFile, method, outFile] = process.argv.slice(2);
if (!gridFile || !method || !outFile) {
  console.error('usage: node method-grid.mjs <grid.yaml> <method-id> <out.yaml>');
  process.exit(2);
}
// The yaml package is a dependency of the bench package, which reads grids with it too.
const requireFromBench = createRequire(path.resolve('packages/bench/package.json'));
const { parse, stringify } = requireFromBench('yaml');

const grid = parse(fs.readFileSync(gridFile, 'utf8'));
const blocks = [];
for (const block of grid.experiments ?? []) {
  const listed = block.methods === 'all' ? !(block.exclude_methods ?? []).includes(method) : block.methods.includes(method);
  if (!listed) continue;
  const { exclude_methods: _excluded, overrides, ...rest } = block;
  const own = overrides?.[method];
  blocks.push({ ...rest, methods: [method], ...(own ? { overrides: { [method]: own } } : {}) });
}
if (blocks.length === 0) {
  console.error(`grid ${gridFile} runs no experiment with method "${method}": nothing to benchmark.`);
  process.exit(2);
}
const out = { ...grid, name: `${grid.name}-${method}`, experiments: blocks };
fs.writeFileSync(outFile, stringify(out));
console.log(`${out.name}: ${blocks.length} experiment block(s) of grid ${grid.name} with method ${method}`);
