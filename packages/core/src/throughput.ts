// Training throughput on the same setup as the PyTorch peer (/work/shared/peers/torch_gpt.py):
// a GPT-2-style model (learned positions, pre-LayerNorm, tanh-GELU, tied head), random tokens idx,
// targets (idx*7+3) % V, Adam at lr 1e-3, in full fine-tuning or LoRA mode; warm-up steps excluded.
// LoRA here is a minimal inline version through Linear.hook (A [in, r] ~ N(0, 1/in), B [r, out] = 0,
// scale 16/r), enough to measure speed; the real methods live in packages/methods.
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_CHOICES, initBackend, type BackendChoice } from './backend/index.ts';
import { createModel } from './model/model.ts';
import type { Linear } from './model/modules.ts';
import { normalArray, streamSeed, uniformStream } from './model/rng.ts';
import { checkStepFits, WASM_HEAP_BYTES } from './train/memory.ts';
import { train } from './train/trainer.ts';
import { resolveModelConfig } from './model/config.ts';

export const THROUGHPUT_BACKENDS = BACKEND_CHOICES;
export type ThroughputBackend = BackendChoice;
export const LORA_TARGETS = ['q', 'k', 'v', 'o', 'up', 'down'] as const;

export interface ThroughputOptions {
  d: number;
  L: number;
  H: number;
  T: number;
  B: number;
  V: number;
  mode: 'full' | 'lora';
  /** LoRA rank (mode 'lora'). */
  r: number;
  /** LoRA target linears: q, k, v, o, up, down. */
  targets: string[];
  threads: number;
  backend: ThroughputBackend;
  /** Measure for at least this long (after warm-up), at least 5 and at most 500 steps. */
  minSeconds: number;
}

export interface ThroughputResult {
  tokens_per_s: number;
  backend: string;
  /** What the backend layer reports (kernels, fused ops). */
  backend_note: string;
  threads: number;
  step_s: number;
  steps: number;
  trainable: number;
  loss: number;
  cfg: { d: number; L: number; H: number; T: number; B: number; V: number; mode: string };
}

export const THROUGHPUT_DEFAULTS: ThroughputOptions = {
  d: 256, L: 4, H: 4, T: 128, B: 16, V: 512, mode: 'full', r: 8, targets: ['q', 'v'], threads: 1, backend: 'auto', minSeconds: 8,
};

/** Checks every option; throws a message naming the field and the valid values. */
export function validateThroughputOptions(o: ThroughputOptions): void {
  for (const k of ['d', 'L', 'H', 'T', 'B', 'V', 'threads'] as const) {
    if (!Number.isInteger(o[k]) || o[k] <= 0) throw new Error(`--${k}=${o[k]} is invalid: must be a positive integer`);
  }
  if (o.d % o.H !== 0) throw new Error(`--d=${o.d} is not divisible by --H=${o.H}: choose d a multiple of H`);
  if (o.mode !== 'full' && o.mode !== 'lora') throw new Error(`--mode=${String(o.mode)} is unknown: valid modes are full, lora`);
  if (!THROUGHPUT_BACKENDS.includes(o.backend)) throw new Error(`--backend=${String(o.backend)} is unknown: valid backends are ${THROUGHPUT_BACKENDS.join(', ')}`);
  if (o.mode === 'lora') {
    if (!Number.isInteger(o.r) || o.r <= 0) throw new Error(`--r=${o.r} is invalid: the LoRA rank must be a positive integer`);
    const bad = o.targets.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
    if (bad.length || o.targets.length === 0) throw new Error(`--targets=${o.targets.join(',')} is invalid: choose from ${LORA_TARGETS.join(', ')}`);
  }
  if (!(o.minSeconds >= 0)) throw new Error(`--minSeconds=${o.minSeconds} is invalid: must be a non-negative number`);
  // Before any work: a step that would overflow the wasm heap aborts the process.
  const config = resolveModelConfig({ family: 'gpt2', vocabSize: o.V, d: o.d, nLayer: o.L, nHead: o.H, maxSeq: o.T });
  if (o.backend !== 'cpu' && o.backend !== 'tensorflow') checkStepFits(config, o.B, o.T, WASM_HEAP_BYTES * 0.9);
}

export async function measureThroughput(partial: Partial<ThroughputOptions>): Promise<ThroughputResult> {
  const o: ThroughputOptions = { ...THROUGHPUT_DEFAULTS, ...partial };
  validateThroughputOptions(o);
  const info = await initBackend({ backend: o.backend, threads: o.threads });
  const model = createModel({ family: 'gpt2', vocabSize: o.V, d: o.d, nLayer: o.L, nHead: o.H, maxSeq: o.T }, 0);
  const lora: tf.Variable[] = [];
  try {
    let trainable: Map<string, tf.Variable>;
    if (o.mode === 'full') trainable = model.params();
    else {
      trainable = new Map();
      const scale = 16 / o.r;
      const wanted = new Set(o.targets);
      for (const lin of model.linears()) {
        const short = lin.name.split('.').pop()!;
        if (!wanted.has(short)) continue;
        const a = tf.tidy(() => tf.variable(tf.tensor2d(normalArray(lin.inFeatures * o.r, 1 / Math.sqrt(lin.inFeatures), streamSeed(1, `${lin.name}.A`)), [lin.inFeatures, o.r])));
        const b = tf.tidy(() => tf.variable(tf.zeros([o.r, lin.outFeatures])));
        lora.push(a, b);
        trainable.set(`${lin.name}.lora_A`, a).set(`${lin.name}.lora_B`, b);
        (lin as Linear).hook = (x, base) => base(x).add(x.matMul(a).matMul(b).mul(scale));
      }
    }
    // Random tokens, fixed for the whole run as in the peer.
    const next = uniformStream(12345);
    const tokens = new Int32Array(o.B * o.T);
    for (let i = 0; i < tokens.length; i++) tokens[i] = Math.floor(next() * o.V);
    const targets = tokens.map((t) => (t * 7 + 3) % o.V);
    const weights = new Float32Array(tokens.length).fill(1);
    const batch = { tokens, targets, weights, B: o.B, T: o.T };
    const warmup = 2;
    const times: number[] = [];
    let measuredFrom = 0;
    let lastLoss = NaN;
    await train({
      model, trainable, data: () => batch, steps: 10_000, lr: 1e-3, schedule: 'constant', gradClip: null,
      memoryLimitBytes: Number.MAX_SAFE_INTEGER,
      onStep: (s) => {
        lastLoss = s.loss;
        if (s.step === warmup) measuredFrom = performance.now();
        if (s.step > warmup) times.push((o.B * o.T) / s.tokensPerS);
      },
      stopWhen: (s) => {
        const n = s.step - warmup;
        const elapsed = n > 0 ? (performance.now() - measuredFrom) / 1000 : 0;
        return n >= 500 || (n >= 5 && elapsed >= o.minSeconds);
      },
    });
    const wall = (performance.now() - measuredFrom) / 1000;
    const steps = times.length;
    const stepS = wall / steps;
    return {
      tokens_per_s: Math.round((o.B * o.T) / stepS),
      backend: info.name,
      backend_note: info.note,
      threads: info.threads,
      step_s: Number(stepS.toFixed(4)),
      steps,
      trainable: [...trainable.values()].reduce((a, v) => a + v.size, 0),
      loss: Number(lastLoss.toFixed(4)),
      cfg: { d: o.d, L: o.L, H: o.H, T: o.T, B: o.B, V: o.V, mode: o.mode === 'lora' ? `lora r=${o.r} ${o.targets.join(',')}` : 'full' },
    };
  } finally {
    for (const lin of model.linears()) lin.hook = null;
    tf.dispose(lora);
    model.dispose();
  }
}
