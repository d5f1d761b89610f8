// Kernels registered over the wasm backend's own: matMul on OpenBLAS (native) or routed to the
// one fast stock path (XNNPACK, plain 2-D, no transposes) in the pure-wasm fallback, plus the
// kernels a training step needs that the stock backend lacks or runs slowly.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { jsMath } from './js_math.ts';
import type { KernelMath, NativeAddon } from './native.ts';
import { heapOf, offsetOf, releaseView, sizeOf, viewOf, type WasmBackend } from './wasm_internals.ts';

export type KernelMode = 'native' | 'js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: WasmBackend; attrs: NamedAttrMap };

/** Stock wasm kernels we replace, kept to delegate the cases we do not handle. */
const stock = new Map<string, KernelConfig>();
const REPLACED = ['BatchMatMul', '_FusedMatMul', 'GatherV2', 'Sum', 'Identity', 'Transpose'];

function captureStock(): void {
  for (const name of REPLACED) {
    if (stock.has(name)) continue;
    const k = tf.getKernel(name, 'wasm');
    if (k) stock.set(name, k);
  }
}

function callStock(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const k = stock.get(name);
  if (!k) throw new Error(`wasm backend has no stock ${name} kernel to fall back to`);
  return k.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
}

// ---------------------------------------------------------------------------------------------
// matMul shapes

interface MatMulPlan {
  M: number;
  N: number;
  K: number;
  batchShape: number[];
  batch: number;
  batchA: number;
  batchB: number;
}

function planMatMul(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): MatMulPlan {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new Error(`matMul needs float32 inputs, got ${a.dtype} and ${b.dtype}`);
  }
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new Error(`matMul needs inputs of rank >= 2, got shapes [${a.shape}] and [${b.shape}]`);
  }
  const ra = a.shape.length, rb = b.shape.length;
  const M = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== Kb) {
    throw new Error(
      `Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} ` +
        `and transposeA=${transA} and transposeB=${transB} must match.`,
    );
  }
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return {
    M, N, K, batchShape,
    batch: sizeOf(batchShape),
    batchA: sizeOf(a.shape.slice(0, -2)),
    batchB: sizeOf(b.shape.slice(0, -2)),
  };
}

/** For general batch broadcasting: the a- and b-batch index of each output batch. */
function broadcastBatchIndex(outShape: number[], aShape: number[], bShape: number[]): Array<[number, number]> {
  const r = outShape.length;
  const pad = (s: number[]) => [...new Array(r - s.length).fill(1), ...s];
  const pa = pad(aShape), pb = pad(bShape);
  const pairs: Array<[number, number]> = [];
  const idx = new Array(r).fill(0);
  for (let i = 0; i < sizeOf(outShape); i++) {
    let ai = 0, bi = 0;
    for (let d = 0; d < r; d++) {
      ai = ai * pa[d]! + (pa[d] === 1 ? 0 : idx[d]!);
      bi = bi * pb[d]! + (pb[d] === 1 ? 0 : idx[d]!);
    }
    pairs.push([ai, bi]);
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return pairs;
}

// Fused activations, same codes as the addon.
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5, prelu: 6 };

interface Epilogue {
  bias: TensorInfo | null;
  act: number;
  alpha: number;
  prelu: TensorInfo | null;
}

function epilogueOf(inputs: NamedTensorInfoMap, attrs: NamedAttrMap, N: number): Epilogue {
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const act = ACTIVATIONS[activation];
  if (act == null) {
    throw new Error(`_FusedMatMul: activation '${activation}' is not supported; valid: ${Object.keys(ACTIVATIONS).join(', ')}`);
  }
  const bias = inputs.bias ?? null;
  const prelu = inputs.preluActivationWeights ?? null;
  for (const [name, t] of [['bias', bias], ['prelu weights', prelu]] as const) {
    if (t && sizeOf(t.shape) !== N && sizeOf(t.shape) !== 1) {
      throw new Error(`_FusedMatMul: ${name} of shape [${t.shape}] is not supported; it must have ${N} elements (one per output column) or 1`);
    }
  }
  return { bias, act, alpha: Number(attrs.leakyreluAlpha ?? 0), prelu };
}

// ---------------------------------------------------------------------------------------------
// Native matMul: batched OpenBLAS sgemm reading the heap in place, bias + activation fused.

function nativeMatMul(
  backend: WasmBackend, native: NativeAddon, a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean, ep: Epilogue | null,
): TensorInfo {
  const p = planMatMul(a, b, transA, transB);
  const out = backend.makeOutput([...p.batchShape, p.M, p.N], 'float32');
  if (p.batch === 0 || p.M === 0 || p.N === 0) return out;
  const heap = heapOf(backend);
  const ao = offsetOf(backend, a), bo = offsetOf(backend, b), co = offsetOf(backend, out);
  const biasOff = ep?.bias ? offsetOf(backend, ep.bias) : -1;
  const biasLen = ep?.bias ? sizeOf(ep.bias.shape) : 0;
  const preluOff = ep?.prelu ? offsetOf(backend, ep.prelu) : -1;
  const preluLen = ep?.prelu ? sizeOf(ep.prelu.shape) : 0;
  const sA = p.M * p.K, sB = p.K * p.N, sC = p.M * p.N;
  const gemm = (batch: number, m: number, aOff: number, aStride: number, bOff: number, bStride: number, cOff: number, cStride: number) =>
    native.gemm(heap, batch, m, p.N, p.K, transA ? 1 : 0, transB ? 1 : 0, aOff, aStride, bOff, bStride, cOff, cStride,
      biasOff, biasLen, ep?.act ?? 0, ep?.alpha ?? 0, preluOff, preluLen);
  if (p.batchA === p.batch && p.batchB === p.batch) {
    gemm(p.batch, p.M, ao, sA, bo, sB, co, sC);
  } else if (p.batchB === 1 && p.batchA === p.batch) {
    // One shared right-hand matrix: fold the batch into the rows (one large GEMM) when A is not transposed.
    if (!transA) gemm(1, p.batch * p.M, ao, 0, bo, 0, co, 0);
    else gemm(p.batch, p.M, ao, sA, bo, 0, co, sC);
  } else if (p.batchA === 1 && p.batchB === p.batch) {
    gemm(p.batch, p.M, ao, 0, bo, sB, co, sC);
  } else {
    const pairs = broadcastBatchIndex(p.batchShape, a.shape.slice(0, -2), b.shape.slice(0, -2));
    pairs.forEach(([ai, bi], i) => gemm(1, p.M, ao + ai * sA * 4, 0, bo + bi * sB * 4, 0, co + i * sC * 4, 0));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pure-wasm matMul: everything becomes plain 2-D no-transpose calls of the stock kernel, the only
// case it runs on XNNPACK (about 30 GFLOP/s; the others fall to a naive loop at 0.5-2 GFLOP/s).

let stockBatchMatMul: ((...args: unknown[]) => unknown) | null = null;
const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);

function xnn2d(backend: WasmBackend, aOff: number, bOff: number, cOff: number, M: number, K: number, N: number): void {
  stockBatchMatMul ??= backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const aId = viewOf(backend, aOff, M * K), bId = viewOf(backend, bOff, K * N), cId = viewOf(backend, cOff, M * N);
  try {
    stockBatchMatMul(aId, shapeBytes([1, M, K]), 3, bId, shapeBytes([1, K, N]), 3, false, false, cId);
  } finally {
    releaseView(backend, aId);
    releaseView(backend, bId);
    releaseView(backend, cId);
  }
}

/** [batch, rows, cols] -> [batch, cols, rows] with the stock Transpose kernel. */
function transposeLast2(backend: WasmBackend, t: TensorInfo, batch: number, rows: number, cols: number): TensorInfo {
  const x: TensorInfo = { dataId: t.dataId, shape: [batch, rows, cols], dtype: t.dtype };
  return callStock('Transpose', { inputs: { x }, backend, attrs: { perm: [0, 2, 1] } }) as TensorInfo;
}

function jsEpilogue(backend: WasmBackend, out: TensorInfo, N: number, ep: Epilogue): void {
  const f = new Float32Array(heapOf(backend));
  const o = offsetOf(backend, out) >> 2, n = sizeOf(out.shape);
  const bias = ep.bias ? offsetOf(backend, ep.bias) >> 2 : -1;
  const biasLen = ep.bias ? sizeOf(ep.bias.shape) : 0;
  const prelu = ep.prelu ? offsetOf(backend, ep.prelu) >> 2 : -1;
  const preluLen = ep.prelu ? sizeOf(ep.prelu.shape) : 0;
  for (let i = 0; i < n; i++) {
    const col = i % N;
    let v = f[o + i]!;
    if (bias >= 0) v += f[bias + (biasLen === 1 ? 0 : col)]!;
    switch (ep.act) {
      case 1: v = v > 0 ? v : 0; break;
      case 2: v = v < 0 ? 0 : v > 6 ? 6 : v; break;
      case 3: v = v > 0 ? v : Math.expm1(v); break;
      case 4: v = v > 0 ? v : ep.alpha * v; break;
      case 5: v = 1 / (1 + Math.exp(-v)); break;
      case 6: v = v > 0 ? v : f[prelu + (preluLen === 1 ? 0 : col)]! * v; break;
    }
    f[o + i] = v;
  }
}

function xnnMatMul(backend: WasmBackend, a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean, ep: Epilogue | null): TensorInfo {
  const p = planMatMul(a, b, transA, transB);
  const temps: TensorInfo[] = [];
  // Explicit transposes so that every product is A[M,K] x B[K,N].
  let a3: TensorInfo = a, b3: TensorInfo = b;
  if (transA && p.M * p.K > 0) temps.push((a3 = transposeLast2(backend, a, p.batchA, p.K, p.M)));
  if (transB && p.K * p.N > 0) temps.push((b3 = transposeLast2(backend, b, p.batchB, p.N, p.K)));
  const out = backend.makeOutput([...p.batchShape, p.M, p.N], 'float32');
  try {
    if (p.batch > 0 && p.M > 0 && p.N > 0) {
      const ao = offsetOf(backend, a3), bo = offsetOf(backend, b3), co = offsetOf(backend, out);
      const sA = p.M * p.K * 4, sB = p.K * p.N * 4, sC = p.M * p.N * 4;
      if (p.K === 0) {
        new Float32Array(heapOf(backend), co, p.batch * p.M * p.N).fill(0);
      } else if (p.batchB === 1 && p.batchA === p.batch) {
        xnn2d(backend, ao, bo, co, p.batch * p.M, p.K, p.N); // batch folded into rows
      } else {
        const pairs = p.batchA === p.batch && p.batchB === p.batch
          ? Array.from({ length: p.batch }, (_, i) => [i, i] as [number, number])
          : broadcastBatchIndex(p.batchShape, a.shape.slice(0, -2), b.shape.slice(0, -2));
        pairs.forEach(([ai, bi], i) => xnn2d(backend, ao + ai * sA, bo + bi * sB, co + i * sC, p.M, p.K, p.N));
      }
      if (ep && (ep.bias || ep.act !== 0)) jsEpilogue(backend, out, p.N, ep);
    }
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gather / segment sum / sum over leading axes / identity

function gatherV2(math: KernelMath) {
  return (args: KernelArgs): TensorInfo => {
    const { inputs: { x, indices }, backend, attrs } = args;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x!.shape)[0];
    if (axis !== 0 || Number(attrs.batchDims ?? 0) !== 0 || x!.dtype !== 'float32' || indices!.dtype !== 'int32') {
      return callStock('GatherV2', args) as TensorInfo;
    }
    const nRows = x!.shape[0]!, rowLen = sizeOf(x!.shape.slice(1)), nIdx = sizeOf(indices!.shape);
    const out = backend.makeOutput([...indices!.shape, ...x!.shape.slice(1)], 'float32');
    const heap = heapOf(backend);
    const bad = math.gatherRows(heap, offsetOf(backend, x!), offsetOf(backend, indices!), offsetOf(backend, out), nIdx, rowLen, nRows);
    if (bad >= 0) {
      const value = new Int32Array(heap, offsetOf(backend, indices!), nIdx)[bad];
      backend.disposeData(out.dataId);
      throw new Error(`GatherV2: the index value ${value} (at position ${bad}) is not in [0, ${nRows - 1}]`);
    }
    return out;
  };
}

function unsortedSegmentSum(math: KernelMath) {
  return ({ inputs: { x, segmentIds }, backend, attrs }: KernelArgs): TensorInfo => {
    const numSegments = Number(attrs.numSegments);
    if (!Number.isInteger(numSegments) || numSegments < 0) {
      throw new Error(`UnsortedSegmentSum: numSegments must be a non-negative integer, got ${attrs.numSegments}`);
    }
    if (segmentIds!.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: segmentIds must be int32, got ${segmentIds!.dtype}`);
    const nRows = sizeOf(segmentIds!.shape);
    const tail = x!.shape.slice(segmentIds!.shape.length);
    const rowLen = sizeOf(tail);
    const out = backend.makeOutput([numSegments, ...tail], x!.dtype);
    const heap = heapOf(backend);
    if (x!.dtype === 'float32') {
      math.segmentSum(heap, offsetOf(backend, x!), offsetOf(backend, segmentIds!), offsetOf(backend, out), nRows, rowLen, numSegments);
    } else if (x!.dtype === 'int32') {
      const xs = new Int32Array(heap, offsetOf(backend, x!), nRows * rowLen);
      const ids = new Int32Array(heap, offsetOf(backend, segmentIds!), nRows);
      const o = new Int32Array(heap, offsetOf(backend, out), numSegments * rowLen).fill(0);
      for (let r = 0; r < nRows; r++) {
        const s = ids[r]!;
        if (s < 0 || s >= numSegments) continue;
        for (let j = 0; j < rowLen; j++) o[s * rowLen + j] += xs[r * rowLen + j]!;
      }
    } else {
      backend.disposeData(out.dataId);
      throw new Error(`UnsortedSegmentSum: dtype ${x!.dtype} is not supported (float32 or int32)`);
    }
    return out;
  };
}

function sumKernel(math: KernelMath) {
  return (args: KernelArgs): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x!.shape).sort((p, q) => p - q);
    const k = axes.length;
    const leading = x!.dtype === 'float32' && k > 0 && k < x!.shape.length && axes.every((a, i) => a === i);
    if (!leading) return callStock('Sum', args) as TensorInfo;
    const outer = sizeOf(x!.shape.slice(0, k)), inner = sizeOf(x!.shape.slice(k));
    const shape = attrs.keepDims ? [...axes.map(() => 1), ...x!.shape.slice(k)] : x!.shape.slice(k);
    const out = backend.makeOutput(shape, 'float32');
    math.sumLeading(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, out), outer, inner);
    return out;
  };
}

/** Transpose with perm [.., 0, 2, 1, 3]-style middle swap (attention head split/merge) as row copies. */
function transposeKernel(math: KernelMath) {
  return (args: KernelArgs): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    const perm = attrs.perm as number[];
    const r = x!.shape.length;
    // Swap of axes r-3 and r-2 with everything else in place: [A, B, C, D] -> [A, C, B, D].
    const middleSwap = r >= 3 && x!.dtype === 'float32' &&
      perm.every((p, i) => p === (i === r - 3 ? r - 2 : i === r - 2 ? r - 3 : i));
    if (!middleSwap) return callStock('Transpose', args) as TensorInfo;
    const [B, C, D] = x!.shape.slice(r - 3) as [number, number, number];
    const A = sizeOf(x!.shape.slice(0, r - 3));
    const out = backend.makeOutput(perm.map((p) => x!.shape[p]!), 'float32');
    math.swapMiddle(heapOf(backend), offsetOf(backend, x!), offsetOf(backend, out), A, B, C, D);
    return out;
  };
}

/** The engine clones every tensor it keeps for backprop; stock wasm Identity copies, this shares. */
function identity(args: KernelArgs): TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x!.dtype === 'string') return callStock('Identity', args) as TensorInfo;
  backend.incRef(x!.dataId);
  return { dataId: x!.dataId, shape: x!.shape, dtype: x!.dtype };
}

// ---------------------------------------------------------------------------------------------

function register(kernelName: string, kernelFunc: (args: KernelArgs) => TensorInfo | TensorInfo[]): void {
  if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc });
}

/** Registers the accelerated kernels on the wasm backend (after setBackend('wasm')). */
export function installWasmKernels(mode: KernelMode, native: NativeAddon | null): void {
  if (mode === 'native' && !native) throw new Error('installWasmKernels: native mode needs the native addon');
  captureStock();
  const math: KernelMath = mode === 'native' ? native! : jsMath;
  const matMul = (backend: WasmBackend, a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean, ep: Epilogue | null) =>
    mode === 'native' ? nativeMatMul(backend, native!, a, b, tA, tB, ep) : xnnMatMul(backend, a, b, tA, tB, ep);
  register('BatchMatMul', ({ inputs, backend, attrs }) =>
    matMul(backend, inputs.a!, inputs.b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB), null));
  register('_FusedMatMul', ({ inputs, backend, attrs }) => {
    const tB = Boolean(attrs.transposeB);
    const b = inputs.b!;
    const N = tB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
    return matMul(backend, inputs.a!, b, Boolean(attrs.transposeA), tB, epilogueOf(inputs, attrs, N));
  });
  // y = x·W (+ bias) with x of any rank [..., K], W [K, N]: one 2-D GEMM with the bias fused.
  register('PeftLinear', ({ inputs, backend }) => {
    const { x, w, bias } = inputs;
    const K = x!.shape[x!.shape.length - 1]!, N = w!.shape[1]!;
    const x2: TensorInfo = { dataId: x!.dataId, shape: [sizeOf(x!.shape) / K || 0, K], dtype: x!.dtype };
    const ep: Epilogue | null = bias ? { bias, act: 0, alpha: 0, prelu: null } : null;
    const out = matMul(backend, x2, w!, false, false, ep);
    return { ...out, shape: [...x!.shape.slice(0, -1), N] };
  });
  register('GatherV2', gatherV2(math));
  register('UnsortedSegmentSum', unsortedSegmentSum(math));
  register('Sum', sumKernel(math));
  register('Transpose', transposeKernel(math));
  register('Identity', identity);
}

export const WASM_KERNEL_NAMES = ['BatchMatMul', '_FusedMatMul', 'GatherV2', 'UnsortedSegmentSum', 'Sum', 'Identity'] as const;
