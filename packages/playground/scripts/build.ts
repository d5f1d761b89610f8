// Builds the Playground's static files into dist/: the training worker (packages/core and
// packages/methods bundled for the browser by esbuild: their package.json "browser" maps swap the
// few Node-only modules for browser twins), the wasm binaries it loads, the default model's
// checkpoint and tokenizer, and manifest.json (what the page offers). Which model is the default,
// its training settings and each method's learning rate come from the bench's registries.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { sha256Hex } from '@peft-bench/core/checkpoint/safetensors';
import { getTask } from '@peft-bench/core/tasks/index';
import { defaultLr, trainingDefaults } from '@peft-bench/bench/run/defaults';
import { defaultModelDef, safetensorsParamCount } from '@peft-bench/bench/run/models';
import { loadRegistry, methodInfo } from '@peft-bench/methods/registry';
import type { Manifest } from '../src/protocol.ts';
import { PLAYGROUND_METHODS, PLAYGROUND_TASKS, workerBuild } from './worker-build.ts';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const require = createRequire(import.meta.url);


async function main(): Promise<void> {
  const started = performance.now();
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'model'), { recursive: true });

  const model = defaultModelDef();
  if (model.kind !== 'checkpoint') throw new Error(`the default model '${model.id}' has no checkpoint to serve`);
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) await copyFile(join(model.dir, file), join(out, 'model', file));
  const weights = await readFile(join(model.dir, 'model.safetensors'));

  const registry = await loadRegistry();
  const training = trainingDefaults(model.id);
  const manifest: Manifest = {
    model: { id: model.id, params: safetensorsParamCount(join(model.dir, 'model.safetensors')), hash: sha256Hex(weights) },
    methods: PLAYGROUND_METHODS.map((id) => {
      const method = registry.get(id);
      const defaults = method.parse({}) as Record<string, unknown>;
      return {
        id,
        title: method.title,
        rankParam: method.rankParam,
        defaultRank: method.rankParam ? (defaults[method.rankParam] as number) : null,
        lr: defaultLr(model.id, methodInfo(method)),
      };
    }),
    tasks: PLAYGROUND_TASKS.map((id) => {
      const task = getTask(id);
      return { id, title: task.title, primaryMetric: task.primaryMetric };
    }),
    training: {
      batchSize: training.batch_size,
      microBatch: training.micro_batch_size,
      maxSeqLen: training.max_seq_len,
      schedule: training.schedule,
      warmupSteps: training.warmup_steps,
      gradClip: training.grad_clip ?? 0,
      weightDecay: training.weight_decay,
    },
  };

  const result = await esbuild.build(workerBuild(out));

  const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) await copyFile(join(wasmDist, file), join(out, file));
  const sqlDist = dirname(require.resolve('sql.js/dist/sql-wasm-browser.wasm'));
  await copyFile(join(sqlDist, 'sql-wasm-browser.wasm'), join(out, 'sql-wasm-browser.wasm'));
  await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

  const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
  console.log(
    `[playground] dist/: worker ${(bytes / 1024).toFixed(0)} KiB in ${Object.keys(result.metafile.outputs).length} files, model '${model.id}' ` +
      `(${(weights.length / 1024).toFixed(0)} KiB), methods ${PLAYGROUND_METHODS.join(', ')}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

main().catch((err: unknown) => {
  console.error(`[playground] build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
