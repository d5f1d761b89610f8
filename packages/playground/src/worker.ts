// The Playground's training worker: the bench's own model, method plug-ins, task generators,
// trainer, decoding and metrics (packages/core, packages/methods), bundled for the browser. It
// trains off the page's thread, streams every step, and answers a stop between steps.
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { usePureWasmKernels } from '@peft-bench/core/backend/pure_wasm';
import { loadModel } from '@peft-bench/core/checkpoint/checkpoint';
import { encodeExamples, fitExamples, rowSampler, sliceBatch } from '@peft-bench/core/data/batch';
import { predict } from '@peft-bench/core/decode/predict';
import { filesIn, putFile, removeDir } from '@peft-bench/core/io/host.browser';
import { setSqlWasmLocation } from '@peft-bench/core/metrics/sql';
import type { Model } from '@peft-bench/core/model/model';
import { setOps } from '@peft-bench/core/ops';
import { getTask } from '@peft-bench/core/tasks/index';
import { tokenizerFromJSON } from '@peft-bench/core/tokenizer/hf';
import type { Tokenizer } from '@peft-bench/core/tokenizer/types';
import { train } from '@peft-bench/core/train/trainer';
import { Registry, withRank } from '@peft-bench/methods/catalog';
import { methods } from 'playground:methods';
import type { BrowserBackend, Manifest, PageMessage, Sample, TrainRequest, WorkerMessage } from './protocol.ts';

const scope = self as unknown as { postMessage(message: WorkerMessage, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<PageMessage>) => void) | null; location: Location };
const here = (file: string) => new URL(file, scope.location.href).href;
const post = (message: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

const registry = new Registry(methods);
/** Rows of the test slice shown as samples. */
const SHOWN_SAMPLES = 5;
let backendReady: Promise<BrowserBackend> | null = null;
let loaded: Promise<{ model: Model; tokenizer: Tokenizer; manifest: Manifest }> | null = null;
let stopRequested = false;
let busy = false;

async function startBackend(wanted: BrowserBackend): Promise<BrowserBackend> {
  let fallback = '';
  if (wanted === 'webgl' || wanted === 'webgpu') {
    try {
      if (wanted === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
      else await import('@tensorflow/tfjs-backend-webgpu');
      if (await tf.setBackend(wanted)) {
        // The fused kernels are wasm kernels; other backends run the reference ops (as TensorFlow does in Node).
        setOps('reference', {});
        post({ type: 'backend', backend: wanted, note: `${wanted} (${tf.getBackend()}), reference ops` });
        return wanted;
      }
      fallback = `${wanted} did not start here`;
    } catch (err) {
      fallback = `${wanted} did not start: ${(err as Error).message}`;
    }
  }
  // Threads need a cross-origin-isolated page, which static hosting cannot promise: SIMD, one thread.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths(here('./'));
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  usePureWasmKernels();
  post({ type: 'backend', backend: 'wasm', note: `wasm (SIMD, 1 thread) with the bench's fused kernels${fallback ? ` (${fallback})` : ''}` });
  return 'wasm';
}

async function fetchBytes(file: string): Promise<Uint8Array> {
  const res = await fetch(here(file));
  if (!res.ok) throw new Error(`${file}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The default model, and the manifest that names it and the bench's training settings for it. */
async function loadDefaultModel(): Promise<{ model: Model; tokenizer: Tokenizer; manifest: Manifest }> {
  const [config, weights, tokenizer, manifest] = await Promise.all(['model/config.json', 'model/model.safetensors', 'model/tokenizer.json', 'manifest.json'].map(fetchBytes));
  putFile('model/config.json', config!);
  putFile('model/model.safetensors', weights!);
  const model = await loadModel('model');
  removeDir('model');
  const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  return { model, tokenizer: tokenizerFromJSON(json(tokenizer!), {}, 'model/tokenizer.json'), manifest: json(manifest!) as Manifest };
}

/** Lets a stop message in: training runs on this thread, so it yields to the event loop between steps. */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function run(req: TrainRequest): Promise<void> {
  const t0 = performance.now();
  backendReady ??= startBackend(req.backend);
  await backendReady;
  post({ type: 'status', text: 'loading the model' });
  loaded ??= loadDefaultModel();
  const { model, tokenizer, manifest } = await loaded;
  const settings = manifest.training;

  const task = getTask(req.task);
  const method = registry.get(req.method);
  const config = withRank(method, req.rank);
  post({ type: 'status', text: `generating ${task.id} examples` });
  // Valid is not used here; test is the bench's own test split (fixed evaluation seed), its first rows.
  const splits = await task.load({ seed: req.seed, knobs: { valid: 1, test: req.testExamples } });

  let attachment: Awaited<ReturnType<typeof method.attach>> | null = null;
  try {
    post({ type: 'status', text: 'base model on the test slice' });
    const baseMaxSeq = Math.min(settings.maxSeqLen, model.config.maxSeq);
    const limits = (maxSeq: number) => ({ maxSeq, maxContext: task.maxLengths?.context, maxTarget: task.maxLengths?.target });
    const baseTest = fitExamples(tokenizer, splits.test, limits(baseMaxSeq)).kept;
    const basePredictions = predict(model, tokenizer, task, baseTest, baseMaxSeq);
    const baseScores = await task.score(basePredictions, baseTest);

    attachment = await method.attach(model, config, { seed: req.seed, baseModel: manifest.model.id });
    const maxSeq = Math.min(settings.maxSeqLen, model.config.maxSeq - (model.embeddings.prefix?.length ?? 0));
    const trainSet = encodeExamples(tokenizer, fitExamples(tokenizer, splits.train, limits(maxSeq)).kept, { maxSeq, maxContext: task.maxLengths?.context });
    const test = fitExamples(tokenizer, splits.test, limits(maxSeq)).kept;
    const sample = rowSampler(trainSet.n, req.seed);

    post({ type: 'status', text: 'training' });
    stopRequested = false;
    const trainStart = performance.now();
    attachment.setTraining?.(true);
    const active = attachment;
    const result = await train({
      model,
      trainable: attachment.trainable,
      data: () => sliceBatch(trainSet, sample(req.batchSize)),
      steps: req.steps,
      lr: req.lr,
      schedule: settings.schedule as 'cosine',
      // The bench's warm-up, but at most a tenth of a short run.
      warmupSteps: Math.min(settings.warmupSteps, Math.floor(req.steps / 10)),
      weightDecay: settings.weightDecay,
      gradClip: settings.gradClip || null,
      microBatch: Math.min(settings.microBatch, req.batchSize),
      beforeStep: active.onStep ? (step: number) => active.onStep!(step) ?? undefined : undefined,
      evalEvery: 1,
      onEval: yieldToMessages,
      onStep: (info) =>
        post({ type: 'step', step: info.step, totalSteps: req.steps, loss: info.loss, tokensPerS: info.tokensPerS, elapsedS: (performance.now() - trainStart) / 1000 }),
      stopWhen: () => stopRequested,
    });
    attachment.setTraining?.(false);
    const trainSeconds = (performance.now() - trainStart) / 1000;

    post({ type: 'status', text: 'tuned model on the test slice' });
    const tunedPredictions = predict(model, tokenizer, task, test, maxSeq);
    const scores = await task.score(tunedPredictions, test);
    const shown: Sample[] = test.slice(0, SHOWN_SAMPLES).map((example, i) => ({
      prompt: example.prompt,
      reference: example.target,
      base: basePredictions[baseTest.indexOf(example)] ?? basePredictions[i] ?? '',
      tuned: tunedPredictions[i]!,
    }));
    post({ type: 'samples', samples: shown });

    removeDir('adapter');
    await attachment.save('adapter');
    const adapter = Object.fromEntries(filesIn('adapter'));
    removeDir('adapter');
    post(
      {
        type: 'done',
        // A run may also end early on its own (the trainer's stopping rules): only a stop request is reported as one.
        stoppedAt: stopRequested && result.steps < req.steps ? result.steps : null,
        steps: result.steps,
        trainSeconds,
        totalSeconds: (performance.now() - t0) / 1000,
        tokensPerS: result.tokensPerS,
        trainable: attachment.trainableCount(),
        metric: task.primaryMetric,
        score: scores[task.primaryMetric]!,
        baseScore: baseScores[task.primaryMetric]!,
        testCount: test.length,
        config: config as Record<string, unknown>,
        adapter,
      },
      Object.values(adapter).map((bytes) => bytes.buffer as ArrayBuffer),
    );
  } finally {
    // Restores the base weights exactly, so the next run starts from the same model.
    attachment?.detach();
  }
}

setSqlWasmLocation((file) => here(file));

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (busy) {
    post({ type: 'error', message: 'a run is in progress: stop it first' });
    return;
  }
  busy = true;
  run(message.request)
    .catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }))
    .finally(() => {
      busy = false;
    });
};
