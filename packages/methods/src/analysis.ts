// Analysis outputs shared by methods: singular values of each ΔW against its pretrained W, and
// norm-weight distributions; compact and JSON-friendly for run records.
import * as tf from '@tensorflow/tfjs-core';
import { deltaReport, matrixFrom, normReport } from '@peft-bench/core/analysis/index';
import type { Linear } from '@peft-bench/core/model/modules';
import type { Model } from './types.ts';
import { transpose } from './tensors.ts';

/** Larger matrices are skipped: the host SVD would take too long inside a run. */
export const MAX_ANALYSED_DIM = 2048;

/**
 * Per module: deltaReport of ΔW (HF orientation [out, in]) against the pretrained W. `baseWeight`
 * returns the pretrained kernel [in, out] when it differs from the module's current weight (PiSSA
 * replaces W by its residual). Disposes the deltas.
 */
export function lowRankAnalysis(
  model: Model,
  deltas: Map<string, tf.Tensor2D>,
  r: number | undefined,
  baseWeight: (lin: Linear) => Float32Array = (lin) => lin.weight.dataSync() as Float32Array,
): Record<string, unknown> {
  const modules: Record<string, unknown> = {};
  const skipped: string[] = [];
  for (const [name, delta] of deltas) {
    const lin = model.module(name) as Linear;
    const [inF, outF] = delta.shape;
    if (Math.max(inF, outF) > MAX_ANALYSED_DIM) {
      skipped.push(name);
      delta.dispose();
      continue;
    }
    const d = matrixFrom(transpose(delta.dataSync(), inF, outF), outF, inF);
    const w = matrixFrom(transpose(baseWeight(lin), inF, outF), outF, inF);
    delta.dispose();
    modules[name] = deltaReport(d, w, r);
  }
  return { kind: 'low-rank', modules, ...(skipped.length ? { skipped: { reason: `dimension above ${MAX_ANALYSED_DIM}`, modules: skipped } } : {}) };
}

/** Per norm layer: weight distribution, bimodality, and the indices tuned. */
export function normAnalysis(
  layers: { name: string; base: Float32Array; trained: Float32Array; tuned?: number[] }[],
): Record<string, unknown> {
  return {
    kind: 'norm',
    layers: Object.fromEntries(layers.map((l) => [l.name, normReport(l.base, { trained: l.trained, ...(l.tuned ? { tunedIndices: l.tuned } : {}) })])),
  };
}
