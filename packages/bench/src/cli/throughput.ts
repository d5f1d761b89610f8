// `pnpm bench throughput`: training tokens/s through the real path — a method plug-in from the registry
// attached to a named model (`--model default`) or to a GPT-2-style model of an explicit shape (the PyTorch
// peer's by default), trained by core's trainer on random tokens. Prints one JSON line (--json) or a sentence,
// with the step's matmul GFLOP/s beside an sgemm probe run in the same process, and the peak RSS.
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_CHOICES, initBackend } from '@peft-bench/core/backend/index';
import { checkpointHash } from '@peft-bench/core/checkpoint/checkpoint';
import { resolveModelConfig } from '@peft-bench/core/model/config';
import { createModel, type Model } from '@peft-bench/core/model/model';
import { sgemmGflops, stepFlopsPerToken, timeTraining } from '@peft-bench/core/throughput';
import { checkStepFits, WASM_HEAP_BYTES } from '@peft-bench/core/train/memory';
import { getMethod, withRank } from '@peft-bench/methods/registry';
import { REPO_ROOT } from '../run/code-version.ts';
import { findModelDef } from '../run/models.ts';
import { InputError } from '../run/resolve.ts';
import { loadRunModel } from '../run/runner.ts';
import { reportError } from './errors.ts';
import { parsePositiveInt, parsePositiveNumber, parseSets } from './values.ts';

export interface ThroughputFlags {
  method: string;
  rank?: string;
  set?: string[];
  model?: string;
  d?: string;
  L?: string;
  H?: string;
  T?: string;
  B?: string;
  V?: string;
  threads?: string;
  backend?: string;
  minSeconds?: string;
  sgemm?: boolean;
  json?: boolean;
}

/** The PyTorch peer's configuration (/work/shared/peers/torch_gpt.py defaults). */
export const PEER_SHAPE = { d: 256, L: 4, H: 4, T: 128, B: 16, V: 512 };

export interface ThroughputReport {
  tokens_per_s: number;
  step_s: number;
  steps: number;
  loss: number;
  method: string;
  /** Where the code that ran lives: the method's folder, attached through the registry, trained by core's trainer. */
  method_path: string;
  config: Record<string, unknown>;
  trainable: number;
  model: string;
  cfg: { family: string; d: number; L: number; H: number; T: number; B: number; V: number };
  backend: string;
  backend_note: string;
  threads: number;
  /** Matmul GFLOP/s of the training step (stepFlopsPerToken x tokens/s). */
  gflops: number;
  /** sgemm GFLOP/s of a 1024x1024 product on the same backend, same process, just before. */
  sgemm_gflops: number | null;
  share_of_sgemm_peak: number | null;
  peak_rss_bytes: number;
  load_avg_1m: number;
}

function shapeFlag(flags: ThroughputFlags, key: keyof typeof PEER_SHAPE): number {
  const raw = flags[key];
  return raw === undefined ? PEER_SHAPE[key] : parsePositiveInt(`--${key}`, raw);
}

async function buildModel(flags: ThroughputFlags): Promise<{ model: Model; id: string; T: number; B: number }> {
  const B = shapeFlag(flags, 'B');
  if (flags.model !== undefined) {
    for (const k of ['d', 'L', 'H', 'V'] as const) {
      if (flags[k] !== undefined) throw new InputError(`--${k} describes an explicit shape; --model ${flags.model} brings its own. Drop one of them.`);
    }
    let def;
    try {
      def = findModelDef(flags.model);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    const hash = def.kind === 'checkpoint' ? await checkpointHash(def.dir) : '';
    const { model } = await loadRunModel(flags.model, hash);
    const T = Math.min(shapeFlag(flags, 'T'), model.config.maxSeq);
    return { model, id: def.id, T, B };
  }
  const shape = { d: shapeFlag(flags, 'd'), L: shapeFlag(flags, 'L'), H: shapeFlag(flags, 'H'), T: shapeFlag(flags, 'T'), V: shapeFlag(flags, 'V') };
  if (shape.d % shape.H !== 0) throw new InputError(`--d=${shape.d} is not divisible by --H=${shape.H}: choose d a multiple of H.`);
  const input = { family: 'gpt2' as const, vocabSize: shape.V, d: shape.d, nLayer: shape.L, nHead: shape.H, maxSeq: shape.T };
  resolveModelConfig(input);
  return { model: createModel(input, 0), id: 'shape', T: shape.T, B };
}

export async function measureThroughputReport(flags: ThroughputFlags): Promise<ThroughputReport> {
  const backend = flags.backend ?? 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(backend)) {
    throw new InputError(`Unknown backend "${backend}". Valid backends: ${BACKEND_CHOICES.join(', ')}.`);
  }
  const threads = flags.threads !== undefined ? parsePositiveInt('--threads', flags.threads) : Number(process.env.PEFT_BENCH_THREADS ?? 1);
  const minSeconds = flags.minSeconds !== undefined ? parsePositiveNumber('--min-seconds', flags.minSeconds) : 8;
  let method;
  let config;
  try {
    method = await getMethod(flags.method);
    config = withRank(method, flags.rank !== undefined ? parsePositiveInt('--rank', flags.rank) : null, parseSets(flags.set ?? []));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError((error as Error).message);
  }
  const info = await initBackend({ backend, threads });
  const { model, id, T, B } = await buildModel(flags);
  let attachment = null;
  try {
    if (info.name !== 'cpu' && info.name !== 'tensorflow') {
      try {
        checkStepFits(model.config, B, T, WASM_HEAP_BYTES * 0.9);
      } catch (error) {
        throw new InputError((error as Error).message);
      }
    }
    attachment = await method.attach(model, config, { seed: 0 });
    attachment.setTraining?.(true);
    const sgemm = flags.sgemm === false ? null : await sgemmGflops(1024, 1);
    const timing = await timeTraining({
      model, trainable: attachment.trainable, batch: B, seqLen: T, minSeconds,
      beforeStep: attachment.onStep ? (step: number) => attachment!.onStep!(step) ?? undefined : undefined,
    });
    const trainable = attachment.trainableCount();
    const total = [...model.params().values()].reduce((s, v) => s + v.size, 0);
    // A method that trains less than half of the base leaves the big linears frozen (no weight gradients).
    const baseFrozen = trainable < total / 2;
    const gflops = (stepFlopsPerToken(model.config, T, baseFrozen, baseFrozen ? trainable : 0) * timing.tokens_per_s) / 1e9;
    return {
      ...timing,
      method: method.id,
      method_path: `${path.relative(REPO_ROOT, path.join(REPO_ROOT, 'packages/methods', method.id))}/index.ts via the method registry, trained by packages/core/src/train/trainer.ts`,
      config,
      trainable,
      model: id,
      cfg: { family: model.config.family, d: model.config.d, L: model.config.nLayer, H: model.config.nHead, T, B, V: model.config.vocabSize },
      backend: info.name,
      backend_note: info.note,
      threads: info.threads,
      gflops: Number(gflops.toFixed(2)),
      sgemm_gflops: sgemm === null ? null : Number(sgemm.toFixed(2)),
      share_of_sgemm_peak: sgemm === null ? null : Number((gflops / sgemm).toFixed(3)),
      peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
      load_avg_1m: Number(os.loadavg()[0]!.toFixed(2)),
    };
  } finally {
    attachment?.detach();
    model.dispose();
    tf.disposeVariables();
  }
}

export async function throughputCommand(flags: ThroughputFlags): Promise<number> {
  try {
    const r = await measureThroughputReport(flags);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
    } else {
      const peak = r.share_of_sgemm_peak === null ? '' : `, ${(100 * r.share_of_sgemm_peak).toFixed(0)}% of the ${r.sgemm_gflops} GFLOP/s sgemm peak`;
      process.stdout.write(
        `${r.tokens_per_s} tokens/s: ${r.method} (${r.trainable.toLocaleString('en-US')} trainable) on ${r.model === 'shape' ? 'a' : `model ${r.model},`} `
          + `${r.cfg.family} d=${r.cfg.d} L=${r.cfg.L} T=${r.cfg.T} B=${r.cfg.B} V=${r.cfg.V}; ${r.backend} with ${r.threads} thread(s), ${r.steps} timed steps; `
          + `${r.gflops} GFLOP/s${peak}; peak RSS ${(r.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB; load ${r.load_avg_1m}\n`,
      );
    }
    return 0;
  } catch (error) {
    return reportError(error);
  }
}
