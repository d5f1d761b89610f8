// Best-effort build of the native BLAS addon (packages/core/native/build/peft_native.node).
// Never fails the install: without the addon the pure-wasm path runs with the same numerics.
// Needs only `cc`, Debian's libopenblas-dev and the node-api-headers npm package (no node-gyp).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'peft_native.c');
const outDir = join(here, 'build');
const output = join(outDir, 'peft_native.node');

/** Vector flags the build machine supports; the addon is built where it runs (postinstall). */
function cpuFlags() {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = new Set((/^flags\s*:(.*)$/m.exec(info)?.[1] ?? '').trim().split(/\s+/));
    if (flags.has('avx2') && flags.has('fma')) return ['-mavx2', '-mfma'];
  } catch {
    // not Linux: plain -O3
  }
  return [];
}

function napiInclude() {
  const require = createRequire(join(here, '..', 'package.json'));
  return require('node-api-headers').include_dir;
}

function build() {
  if (process.env.PEFT_BENCH_SKIP_NATIVE === '1') return 'skipped (PEFT_BENCH_SKIP_NATIVE=1)';
  const include = napiInclude();
  mkdirSync(outDir, { recursive: true });
  const tmp = `${output}.tmp-${process.pid}`;
  const blasInclude = ['/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/include/aarch64-linux-gnu/openblas-pthread', '/usr/include/openblas']
    .filter((d) => existsSync(d))
    .map((d) => `-I${d}`);
  const args = [
    '-O3', ...cpuFlags(), '-fopenmp-simd', '-fno-math-errno', '-fno-trapping-math', '-fPIC', '-shared', '-std=c11', '-D_GNU_SOURCE',
    `-I${include}`, ...blasInclude, source, '-o', tmp, '-lopenblas', '-lpthread', '-lm',
  ];
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  try {
    execFileSync(process.env.CC || 'cc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, output); // atomic: a running process never sees a half-written addon
  } catch (err) {
    rmSync(tmp, { force: true });
    // A stale addon from an older source could disagree with the TS side: remove it, so the
    // runtime falls back to the pure-wasm kernels.
    rmSync(output, { force: true });
    throw err;
  }
  return `built ${output} (${args.filter((a) => a.startsWith('-m') || a === '-O3').join(' ')})`;
}

try {
  console.log(`[peft-bench] native addon: ${build()}`);
} catch (err) {
  const detail = String(err?.stderr || err?.message || err).split('\n').find((l) => l.trim()) ?? 'unknown error';
  console.log(`[peft-bench] native addon not built (needs cc and libopenblas-dev): ${detail.trim()}; the pure-wasm kernels will be used`);
}
