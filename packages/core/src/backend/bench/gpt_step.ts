// Training-throughput benchmark of the engine on a small GPT-2-style model, the same model and
// FLOP count as the PyTorch peer (/work/shared/peers/torch_gpt.py): learned positions,
// pre-LayerNorm, tanh-GELU MLP, tied output head, Adam, full fine-tuning or LoRA on q,v.
// Prints one JSON line. Usage:
//   tsx packages/core/src/backend/bench/gpt_step.ts --backend wasm-blas --threads 1 [--lora 8 --targets q,v]
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { ops } from '../../ops.ts';
import { initBackend, linear as fusedLinear } from '../index.ts';

const { values: a } = parseArgs({
  options: {
    d: { type: 'string', default: '256' }, L: { type: 'string', default: '4' }, H: { type: 'string', default: '4' },
    T: { type: 'string', default: '128' }, B: { type: 'string', default: '16' }, V: { type: 'string', default: '512' },
    lora: { type: 'string', default: '0' }, targets: { type: 'string', default: 'q,v' },
    backend: { type: 'string', default: 'auto' }, threads: { type: 'string', default: '1' },
    minsec: { type: 'string', default: '8' }, clock: { type: 'string', default: 'wall' }, steps: { type: 'string', default: '5' }, profile: { type: 'boolean', default: false },
  },
});
const [d, L, H, T, B, V, r] = ['d', 'L', 'H', 'T', 'B', 'V', 'lora'].map((k) => Number(a[k as keyof typeof a]));
const info = await initBackend({ backend: a.backend, threads: Number(a.threads) });
const hd = d! / H!, N = B! * T!;
const targets = new Set(a.targets!.split(','));

let seed = 1;
const normal = (shape: number[], std: number) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed++));
const zeros = (shape: number[]) => tf.variable(tf.zeros(shape));
const ones = (shape: number[]) => tf.variable(tf.ones(shape));

interface Lin { w: tf.Variable; b: tf.Variable; A?: tf.Variable; Bm?: tf.Variable }
const lin = (i: number, o: number, std = 0.02): Lin => ({ w: normal([i, o], std), b: zeros([o]) });
const wte = normal([V!, d!], 0.02), wpe = normal([T!, d!], 0.02);
const blocks = Array.from({ length: L! }, () => ({
  ln1g: ones([d!]), ln1b: zeros([d!]), ln2g: ones([d!]), ln2b: zeros([d!]),
  q: lin(d!, d!), k: lin(d!, d!), v: lin(d!, d!), o: lin(d!, d!, 0.02 / Math.sqrt(2 * L!)),
  up: lin(d!, 4 * d!), down: lin(4 * d!, d!, 0.02 / Math.sqrt(2 * L!)),
}));
const lnfg = ones([d!]), lnfb = zeros([d!]);
const scale = 16 / (r || 1);
let trainable: tf.Variable[] = [wte, wpe, lnfg, lnfb];
for (const bl of blocks) {
  trainable.push(bl.ln1g, bl.ln1b, bl.ln2g, bl.ln2b);
  for (const m of [bl.q, bl.k, bl.v, bl.o, bl.up, bl.down]) trainable.push(m.w, m.b);
}
if (r > 0) {
  trainable = [];
  for (const bl of blocks) {
    for (const name of targets) {
      const m = bl[name as 'q'];
      m.A = normal([d!, r!], 1 / Math.sqrt(d!));
      m.Bm = zeros([r!, m.w.shape[1]!]);
      trainable.push(m.A, m.Bm);
    }
  }
}

function linear(x: tf.Tensor2D, m: Lin): tf.Tensor2D {
  const y = fusedLinear(x, m.w, m.b) as tf.Tensor2D;
  if (!m.A) return y;
  return y.add(tf.matMul(tf.matMul(x, m.A), m.Bm!).mul(scale));
}

const idx = tf.tensor1d(Array.from({ length: N }, (_, i) => (i * 7919 + 13) % V!), 'int32');
const tgt = tf.tensor1d(Array.from(idx.dataSync(), (t) => (t * 7 + 3) % V!), 'int32');
const weights = tf.ones([N]) as tf.Tensor1D;
const O = ops();

function loss(): tf.Scalar {
  let x = tf.gather(wte, idx).reshape([B!, T!, d!]).add(wpe).reshape([N, d!]) as tf.Tensor2D;
  for (const bl of blocks) {
    const h = O.layerNorm(x, bl.ln1g, bl.ln1b, 1e-5) as tf.Tensor2D;
    const heads = (t: tf.Tensor2D) => t.reshape([B!, T!, H!, hd]).transpose([0, 2, 1, 3]); // (B, H, T, hd)
    const q = heads(linear(h, bl.q)), k = heads(linear(h, bl.k)), v = heads(linear(h, bl.v));
    const p = O.causalSoftmax(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd));
    const y = tf.matMul(p, v).transpose([0, 2, 1, 3]).reshape([N, d!]) as tf.Tensor2D;
    x = x.add(linear(y, bl.o));
    const u = O.gelu(linear(O.layerNorm(x, bl.ln2g, bl.ln2b, 1e-5) as tf.Tensor2D, bl.up)) as tf.Tensor2D;
    x = x.add(linear(u, bl.down));
  }
  const logits = tf.matMul(O.layerNorm(x, lnfg, lnfb, 1e-5), wte, false, true) as tf.Tensor2D;
  return O.crossEntropy(logits, tgt, weights);
}

const m = trainable.map((p) => tf.variable(tf.zerosLike(p), false));
const vv = trainable.map((p) => tf.variable(tf.zerosLike(p), false));
let step = 0;
function trainStep(): number {
  let lossValue = 0;
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(loss, trainable);
    step++;
    O.adamw(trainable, trainable.map((p) => grads[p.name]!), m, vv, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step });
    lossValue = value.dataSync()[0]!;
  });
  return lossValue;
}

if (a.profile) {
  trainStep();
  const prof = await tf.profile(() => { trainStep(); });
  const by = new Map<string, number>();
  for (const k of prof.kernels) by.set(k.name, (by.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  console.error([...by.entries()].sort((p, q) => q[1] - p[1]).slice(0, 25).map(([n, t]) => `${n}: ${t.toFixed(1)} ms`).join('\n'));
}
// --clock cpu measures this process's CPU time: on a shared, oversubscribed machine it is the fairer
// figure (compare with the peer run under the same clock).
const now = a.clock === 'cpu' ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();
const t00 = now();
trainStep();
const first = (now() - t00) / 1000;
trainStep();
let n = 0, last = 0;
const t0 = now();
while (n < Number(a.steps) || (now() - t0 < Number(a.minsec) * 1000 && n < 500)) {
  last = trainStep();
  n++;
}
const dt = (now() - t0) / 1000 / n;
const flops = 3 * (2 * N * (12 * d! * d! * L! + V! * d!) + 4 * B! * T! * T! * d! * L!);
console.log(JSON.stringify({
  engine: 'tfjs', clock: a.clock, backend: info.name, threads: info.threads, fusedOps: info.fusedOps,
  mode: r ? `lora r=${r} ${a.targets}` : 'full', cfg: { d, L, H, T, V, B },
  trainable: trainable.reduce((s, p) => s + p.size, 0), steps: n, first_step_s: +first.toFixed(3), step_s: +dt.toFixed(4),
  tokens_per_s: Math.round(N / dt), gflops_fullft_equiv: +(flops / dt / 1e9).toFixed(1), loss: +last.toFixed(4),
  numTensors: tf.memory().numTensors,
}));
