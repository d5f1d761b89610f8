// How the worker is bundled: packages/core and packages/methods as they are, for the browser (their
// package.json "browser" fields swap in the browser twins of the few Node-only modules).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as esbuild from 'esbuild';
import { METHODS_ROOT } from '@peft-bench/methods/registry';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The methods the page offers: LoRA and its relatives, and non-LoRA ones of every family that trains few parameters. */
export const PLAYGROUND_METHODS = ['lora', 'dora', 'vera', 'ia3', 'ln', 'bitfit', 'prompt'];
export const PLAYGROUND_TASKS = ['sql', 'nli', 'summarize', 'math'];

// The offered method folders, imported as they are (their index.ts is the whole definition).
const methodsModule: esbuild.Plugin = {
  name: 'playground-methods',
  setup(build: esbuild.PluginBuild) {
    build.onResolve({ filter: /^playground:methods$/ }, () => ({ path: 'methods', namespace: 'playground' }));
    build.onLoad({ filter: /.*/, namespace: 'playground' }, () => ({
      resolveDir: METHODS_ROOT,
      loader: 'ts',
      contents:
        PLAYGROUND_METHODS.map((id, i) => `import m${i} from './${id}/index.ts';`).join('\n') +
        `\nexport const methods = [${PLAYGROUND_METHODS.map((_, i) => `m${i}`).join(', ')}];\n`,
    }));
  },
};

/** esbuild options for dist/worker.js (and its lazily loaded WebGL / WebGPU chunks). */
export function workerBuild(outdir: string): esbuild.BuildOptions & { metafile: true } {
  return {
    entryPoints: { worker: join(root, 'src/worker.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [methodsModule],
    // Optional Node-only requires inside sql.js / tfjs that never run in a browser.
    external: ['fs', 'path', 'crypto', 'worker_threads', 'perf_hooks', 'os'],
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}
