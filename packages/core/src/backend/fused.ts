// Fused ops for the hot elementwise work of a training step: one kernel forward, one backward,
// registered on the wasm backend (native addon or pure JS), with gradients registered once.
// They implement HotOps from ../ops.ts and must match referenceOps (tested on the cpu backend).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { referenceOps, type AdamWHyper, type HotOps } from '../ops.ts';
import type { KernelMath } from './native.ts';
import { heapOf, offsetOf, sizeOf, type WasmBackend } from './wasm_internals.ts';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: WasmBackend; attrs: NamedAttrMap };

export const FUSED_KERNELS = {
  layerNorm: 'PeftLayerNorm',
  layerNormGrad: 'PeftLayerNormGrad',
  rmsNorm: 'PeftRmsNorm',
  rmsNormGrad: 'PeftRmsNormGrad',
  gelu: 'PeftGelu',
  geluGrad: 'PeftGeluGrad',
  swiglu: 'PeftSwiglu',
  swigluGrad: 'PeftSwigluGrad',
  causalSoftmax: 'PeftCausalSoftmax',
  causalSoftmaxGrad: 'PeftCausalSoftmaxGrad',
  crossEntropy: 'PeftCrossEntropy',
  crossEntropyGrad: 'PeftCrossEntropyGrad',
  adamw: 'PeftAdamW',
} as const;

const K = FUSED_KERNELS;

function lastDim(t: TensorInfo): number {
  return t.shape[t.shape.length - 1] ?? 1;
}

function kernelTable(m: KernelMath): Record<string, (args: KernelArgs) => TensorInfo | TensorInfo[]> {
  return {
    [K.layerNorm]: ({ inputs: { x, gain, bias }, backend, attrs }) => {
      const d = lastDim(x!);
      const y = backend.makeOutput(x!.shape, 'float32');
      m.layerNorm(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, gain!), offsetOf(backend, bias!), offsetOf(backend, y),
        sizeOf(x!.shape) / d, d, Number(attrs.eps));
      return y;
    },
    [K.layerNormGrad]: ({ inputs: { x, gain, dy }, backend, attrs }) => {
      const d = lastDim(x!);
      const dx = backend.makeOutput(x!.shape, 'float32');
      const dg = backend.makeOutput([d], 'float32');
      const db = backend.makeOutput([d], 'float32');
      m.layerNormGrad(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, gain!), offsetOf(backend, dy!),
        offsetOf(backend, dx), offsetOf(backend, dg), offsetOf(backend, db), sizeOf(x!.shape) / d, d, Number(attrs.eps));
      return [dx, dg, db];
    },
    [K.rmsNorm]: ({ inputs: { x, gain }, backend, attrs }) => {
      const d = lastDim(x!);
      const y = backend.makeOutput(x!.shape, 'float32');
      m.rmsNorm(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, gain!), offsetOf(backend, y), sizeOf(x!.shape) / d, d, Number(attrs.eps));
      return y;
    },
    [K.rmsNormGrad]: ({ inputs: { x, gain, dy }, backend, attrs }) => {
      const d = lastDim(x!);
      const dx = backend.makeOutput(x!.shape, 'float32');
      const dg = backend.makeOutput([d], 'float32');
      m.rmsNormGrad(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, gain!), offsetOf(backend, dy!),
        offsetOf(backend, dx), offsetOf(backend, dg), sizeOf(x!.shape) / d, d, Number(attrs.eps));
      return [dx, dg];
    },
    [K.gelu]: ({ inputs: { x }, backend }) => {
      const y = backend.makeOutput(x!.shape, 'float32');
      m.gelu(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, y), sizeOf(x!.shape));
      return y;
    },
    [K.geluGrad]: ({ inputs: { x, dy }, backend }) => {
      const dx = backend.makeOutput(x!.shape, 'float32');
      m.geluGrad(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, dy!), offsetOf(backend, dx), sizeOf(x!.shape));
      return dx;
    },
    [K.swiglu]: ({ inputs: { a, b }, backend }) => {
      const y = backend.makeOutput(a!.shape, 'float32');
      m.swiglu(heapOf(backend), offsetOf(backend, a!), offsetOf(backend, b!), offsetOf(backend, y), sizeOf(a!.shape));
      return y;
    },
    [K.swigluGrad]: ({ inputs: { a, b, dy }, backend }) => {
      const da = backend.makeOutput(a!.shape, 'float32');
      const db = backend.makeOutput(a!.shape, 'float32');
      m.swigluGrad(heapOf(backend), offsetOf(backend, a!), offsetOf(backend, b!), offsetOf(backend, dy!),
        offsetOf(backend, da), offsetOf(backend, db), sizeOf(a!.shape));
      return [da, db];
    },
    [K.causalSoftmax]: ({ inputs: { x }, backend, attrs }) => {
      const r = x!.shape.length, T = x!.shape[r - 2]!, S = x!.shape[r - 1]!;
      const y = backend.makeOutput(x!.shape, 'float32');
      m.causalSoftmax(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, y), sizeOf(x!.shape) / (T * S) || 0, T, S, Number(attrs.scale));
      return y;
    },
    [K.causalSoftmaxGrad]: ({ inputs: { y, dy }, backend, attrs }) => {
      const r = y!.shape.length, T = y!.shape[r - 2]!, S = y!.shape[r - 1]!;
      const dx = backend.makeOutput(y!.shape, 'float32');
      m.causalSoftmaxGrad(heapOf(backend), offsetOf(backend, y!), offsetOf(backend, dy!), offsetOf(backend, dx),
        sizeOf(y!.shape) / (T * S) || 0, T, S, Number(attrs.scale));
      return dx;
    },
    [K.crossEntropy]: ({ inputs: { logits, targets, weights }, backend }) => {
      const [N, V] = logits!.shape as [number, number];
      const loss = backend.makeOutput([], 'float32');
      m.crossEntropy(heapOf(backend), offsetOf(backend, logits!), offsetOf(backend, targets!), offsetOf(backend, weights!),
        offsetOf(backend, loss), N, V);
      return loss;
    },
    [K.crossEntropyGrad]: ({ inputs: { logits, targets, weights, dy }, backend }) => {
      const [N, V] = logits!.shape as [number, number];
      const dl = backend.makeOutput(logits!.shape, 'float32');
      m.crossEntropyGrad(heapOf(backend), offsetOf(backend, logits!), offsetOf(backend, targets!), offsetOf(backend, weights!),
        offsetOf(backend, dy!), offsetOf(backend, dl), N, V);
      return dl;
    },
    [K.adamw]: ({ inputs: { p, g, m: m0, v }, backend, attrs }) => {
      const n = sizeOf(p!.shape);
      const pOut = backend.makeOutput(p!.shape, 'float32');
      const mOut = backend.makeOutput(p!.shape, 'float32');
      const vOut = backend.makeOutput(p!.shape, 'float32');
      const a = attrs as unknown as AdamWHyper & { bc1: number; bc2: number };
      m.adamw(heapOf(backend), offsetOf(backend, p!), offsetOf(backend, g!), offsetOf(backend, m0!), offsetOf(backend, v!),
        offsetOf(backend, pOut), offsetOf(backend, mOut), offsetOf(backend, vOut), n,
        a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.bc1, a.bc2);
      return [pOut, mOut, vOut];
    },
  };
}

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as NamedAttrMap);

let gradientsRegistered = false;

// Multi-output backward kernels run once, eagerly, in the gradient function; each input's thunk
// only returns its tensor (a thunk runs in its own tidy, so computing there would dispose the rest).
function registerGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: K.layerNorm,
    inputsToSave: ['x', 'gain'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gain] = saved as tf.Tensor[];
      const [dx, dg, db] = run(K.layerNormGrad, { x: x!, gain: gain!, dy: dy as tf.Tensor }, { eps: attrs.eps }) as tf.Tensor[];
      return { x: () => dx!, gain: () => dg!, bias: () => db! };
    },
  });
  tf.registerGradient({
    kernelName: K.rmsNorm,
    inputsToSave: ['x', 'gain'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gain] = saved as tf.Tensor[];
      const [dx, dg] = run(K.rmsNormGrad, { x: x!, gain: gain!, dy: dy as tf.Tensor }, { eps: attrs.eps }) as tf.Tensor[];
      return { x: () => dx!, gain: () => dg! };
    },
  });
  tf.registerGradient({
    kernelName: K.gelu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => run(K.geluGrad, { x: (saved as tf.Tensor[])[0]!, dy: dy as tf.Tensor }) as tf.Tensor }),
  });
  tf.registerGradient({
    kernelName: K.swiglu,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as tf.Tensor[];
      const [da, db] = run(K.swigluGrad, { a: a!, b: b!, dy: dy as tf.Tensor }) as tf.Tensor[];
      return { a: () => da!, b: () => db! };
    },
  });
  tf.registerGradient({
    kernelName: K.causalSoftmax,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => ({
      x: () => run(K.causalSoftmaxGrad, { y: (saved as tf.Tensor[])[0]!, dy: dy as tf.Tensor }, { scale: attrs.scale }) as tf.Tensor,
    }),
  });
  tf.registerGradient({
    kernelName: K.crossEntropy,
    inputsToSave: ['logits', 'targets', 'weights'],
    gradFunc: (dy, saved) => {
      const [logits, targets, weights] = saved as tf.Tensor[];
      return {
        logits: () => run(K.crossEntropyGrad, { logits: logits!, targets: targets!, weights: weights!, dy: dy as tf.Tensor }) as tf.Tensor,
        // Targets and weights are data, not parameters: zero gradient.
        targets: () => tf.zeros(targets!.shape),
        weights: () => tf.zerosLike(weights!),
      };
    },
  });
}

/** Registers the fused kernels on the wasm backend (replacing an earlier set) and their gradients. */
export function installFusedKernels(math: KernelMath): void {
  for (const [kernelName, fn] of Object.entries(kernelTable(math))) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as KernelFunc });
  }
  registerGradients();
}

const isF32 = (...ts: tf.Tensor[]) => ts.every((t) => t.dtype === 'float32');
const isVec = (t: tf.Tensor | null, d: number) => t != null && t.rank === 1 && t.shape[0] === d;

/** HotOps on the fused kernels; shapes the kernels do not cover fall back to the reference. */
export const fusedOps: HotOps = {
  layerNorm(x, gain, bias, eps) {
    const d = x.shape[x.rank - 1]!;
    if (x.rank < 1 || !isF32(x, gain, bias) || !isVec(gain, d) || !isVec(bias, d)) return referenceOps.layerNorm(x, gain, bias, eps);
    return run(K.layerNorm, { x, gain, bias }, { eps }) as tf.Tensor;
  },
  rmsNorm(x, gain, eps) {
    const d = x.shape[x.rank - 1]!;
    if (x.rank < 1 || !isF32(x, gain) || !isVec(gain, d)) return referenceOps.rmsNorm(x, gain, eps);
    return run(K.rmsNorm, { x, gain }, { eps }) as tf.Tensor;
  },
  gelu(x) {
    if (!isF32(x)) return referenceOps.gelu(x);
    return run(K.gelu, { x }) as tf.Tensor;
  },
  swiglu(a, b) {
    if (!isF32(a, b) || !tf.util.arraysEqual(a.shape, b.shape)) return referenceOps.swiglu(a, b);
    return run(K.swiglu, { a, b }) as tf.Tensor;
  },
  causalSoftmax(scores, scale) {
    if (scores.rank < 2 || !isF32(scores)) return referenceOps.causalSoftmax(scores, scale);
    return run(K.causalSoftmax, { x: scores }, { scale }) as tf.Tensor;
  },
  crossEntropy(logits, targets, weights) {
    const N = logits.shape[0];
    const ok = logits.rank === 2 && logits.dtype === 'float32' && targets.dtype === 'int32' && weights.dtype === 'float32' &&
      targets.rank === 1 && weights.rank === 1 && targets.shape[0] === N && weights.shape[0] === N;
    if (!ok) return referenceOps.crossEntropy(logits, targets, weights);
    return run(K.crossEntropy, { logits, targets, weights }) as tf.Scalar;
  },
  adamw(params, grads, m, v, hp) {
    const bc1 = 1 - Math.pow(hp.beta1, hp.step);
    const bc2 = 1 - Math.pow(hp.beta2, hp.step);
    const attrs = { lr: hp.lr, beta1: hp.beta1, beta2: hp.beta2, eps: hp.eps, weightDecay: hp.weightDecay, bc1, bc2 };
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!, g = grads[i]!;
      if (!isF32(p, g) || !tf.util.arraysEqual(p.shape, g.shape)) {
        referenceOps.adamw([p], [g], [m[i]!], [v[i]!], hp);
        continue;
      }
      // Fresh outputs, then assign: the old buffers may still be shared with kept tensors.
      const [p1, m1, v1] = run(K.adamw, { p, g, m: m[i]!, v: v[i]! }, attrs) as tf.Tensor[];
      p.assign(p1!);
      m[i]!.assign(m1!);
      v[i]!.assign(v1!);
      p1!.dispose();
      m1!.dispose();
      v1!.dispose();
    }
  },
};
