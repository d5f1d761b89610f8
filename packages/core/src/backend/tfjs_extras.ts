// tfjs-core's Node entry (dist/tf-core.node.js) ships neither the gradient registry entries nor
// the chained tensor methods (x.add(y), ...): the @tensorflow/tfjs umbrella bundles them, and its
// ESM sources cannot be loaded by Node directly (extensionless imports). We bundle those two
// side-effect modules once with esbuild into a CommonJS file and load it. Engine, kernel and
// gradient registries and the Tensor class are process globals in tfjs, so the bundled copy
// registers into the same ones the main entry uses.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ENTRY =
  "import '@tensorflow/tfjs-core/dist/register_all_gradients';\n" +
  "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';\n";

let loaded = false;

function coreVersion(): string {
  const pkg = JSON.parse(readFileSync(require.resolve('@tensorflow/tfjs-core/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Where the bundle is cached: beside the native addon, or the temp dir if that is read-only. */
function cachePaths(): string[] {
  const file = `tfjs-extras-${coreVersion()}.cjs`;
  const nativeBuild = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build');
  return [join(nativeBuild, file), join(tmpdir(), `peft-bench-${file}`)];
}

/** Generates the CommonJS bundle of tfjs-core's gradients and chained ops (about 0.5 s, once). */
export function buildTfjsExtras(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    stdin: { contents: ENTRY, resolveDir: dirname(fileURLToPath(import.meta.url)) },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}

/** Registers every tfjs-core gradient and chained op. Idempotent; cheap after the first call. */
export function ensureTfjsExtras(): void {
  if (loaded) return;
  // Already present (e.g. the umbrella package was loaded): nothing to do.
  const proto = (tf.Tensor as unknown as { prototype: Record<string, unknown> }).prototype;
  if (typeof proto.matMul === 'function' && tf.getGradient('BatchMatMul') != null) {
    loaded = true;
    return;
  }
  const candidates = cachePaths();
  let path = candidates.find((p) => existsSync(p));
  if (path == null) {
    const code = buildTfjsExtras();
    for (const p of candidates) {
      try {
        mkdirSync(dirname(p), { recursive: true });
        const tmp = `${p}.${process.pid}.tmp`;
        writeFileSync(tmp, code);
        renameSync(tmp, p);
        path = p;
        break;
      } catch {
        // not writable: try the next location
      }
    }
    if (path == null) throw new Error(`could not write the tfjs gradient bundle to any of: ${candidates.join(', ')}`);
  }
  require(path);
  loaded = true;
}
