// Trained low-rank updates as dense ΔW per module, from a LoRA adapter folder or an attachment,
// and post-hoc SVD slices of them (keep singular components i..j of each ΔW).
import * as tf from '@tensorflow/tfjs-core';
import { matrixFrom, svd } from '@peft-bench/core/analysis/svd';
import { compareUpdates, numericalRank } from '@peft-bench/core/analysis/lowrank';
import { hfModuleMap } from '@peft-bench/core/checkpoint/hf';
import type { Attachment, Model } from './types.ts';
import { PREFIX, readAdapter } from './hf/adapter.ts';
import { transpose } from './tensors.ts';

/** ΔW in our layout [in, out], row-major. */
export interface DenseDelta {
  inFeatures: number;
  outFeatures: number;
  data: Float32Array;
}

function patternValue(pattern: unknown, path: string): number | undefined {
  if (!pattern || typeof pattern !== 'object') return undefined;
  for (const [key, value] of Object.entries(pattern as Record<string, number>)) {
    if (path === key || path.endsWith(`.${key}`) || new RegExp(`(.*\\.)?${key}$`).test(path)) return value;
  }
  return undefined;
}

/**
 * Reads a LoRA adapter folder (HF PEFT layout) into ΔW = s·B·A per our module name. GPT-2's fused
 * c_attn is split into q, k, v rows; parts that are all zero (untargeted) are left out. DoRA
 * adapters are refused (their update depends on the base weights' norms).
 */
export async function readLoraDeltas(model: Model, dir: string): Promise<Map<string, DenseDelta>> {
  const { config, tensors } = await readAdapter(dir, 'LORA');
  if (config.use_dora) throw new Error(`${dir}: a DoRA adapter is not a plain low-rank update; use a LoRA adapter (use_dora false)`);
  const byPath = new Map<string, string[]>();
  for (const [name, ref] of hfModuleMap(model.config)) {
    if (model.module(name).kind !== 'linear') continue;
    byPath.set(ref.path, [...(byPath.get(ref.path) ?? []), name]);
  }
  const out = new Map<string, DenseDelta>();
  for (const [key, A] of tensors) {
    if (!key.startsWith(PREFIX) || !key.endsWith('.lora_A.weight')) continue;
    const path = key.slice(PREFIX.length, -'.lora_A.weight'.length);
    const B = tensors.get(`${PREFIX}${path}.lora_B.weight`);
    const names = byPath.get(path);
    if (!B) throw new Error(`${dir}: '${key}' has no matching lora_B.weight`);
    if (!names) throw new Error(`${dir}: module '${path}' is not in this ${model.config.family} model`);
    const [R, nIn] = A.shape as [number, number];
    const totalOut = B.shape[0]!;
    const alpha = patternValue(config.alpha_pattern, path) ?? Number(config.lora_alpha);
    const s = config.use_rslora ? alpha / Math.sqrt(R) : alpha / R;
    // ΔW_hf = s·B·A [out_total, in]
    const dense = tf.tidy(() => tf.matMul(tf.tensor2d(B.data, [totalOut, R]), tf.tensor2d(A.data, [R, nIn])).mul(s).dataSync() as Float32Array);
    const part = totalOut / names.length;
    names.forEach((name, idx) => {
      const rows = dense.subarray(idx * part * nIn, (idx + 1) * part * nIn);
      if (names.length > 1 && rows.every((x) => x === 0)) return;
      out.set(name, { inFeatures: nIn, outFeatures: part, data: transpose(rows, part, nIn) });
    });
  }
  if (out.size === 0) throw new Error(`${dir}: the adapter holds no lora_A/lora_B tensors`);
  return out;
}

/** ΔW per module of an attachment that exposes deltas() (LoRA family, LoHa, LoKr, VeRA). */
export function attachmentDeltas(att: Attachment): Map<string, DenseDelta> {
  if (!att.deltas) throw new Error('this attachment has no weight update to slice (it exposes no deltas())');
  const out = new Map<string, DenseDelta>();
  for (const [name, t] of att.deltas()) {
    out.set(name, { inFeatures: t.shape[0], outFeatures: t.shape[1], data: Float32Array.from(t.dataSync() as Float32Array) });
    t.dispose();
  }
  return out;
}

/** Factors in our layout with scaling 1: A [in, r], B [r, out], A·B = the kept part of ΔW. */
export interface SliceFactors {
  A: Float32Array;
  B: Float32Array;
  r: number;
}

/** Factors A = U_k·sqrt(S_k), B = sqrt(S_k)·V_kᵀ of the singular components `from..to` (1-based, inclusive). */
export function factorComponents(delta: DenseDelta, from: number, to: number): SliceFactors {
  const { inFeatures: nIn, outFeatures: nOut } = delta;
  const k = Math.min(nIn, nOut);
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 1 && to >= from)) {
    throw new Error(`svd slice: components ${from}..${to} are invalid: need integers 1 <= from <= to`);
  }
  if (from > k) throw new Error(`svd slice: component ${from} does not exist: a ${nIn}x${nOut} update has ${k}`);
  const last = Math.min(to, k);
  const r = last - from + 1;
  const d = svd(matrixFrom(delta.data, nIn, nOut)); // ΔW = U S Vᵀ, U [in, k], V [out, k]
  const A = new Float32Array(nIn * r);
  const B = new Float32Array(r * nOut);
  for (let c = 0; c < r; c++) {
    const comp = from - 1 + c;
    const g = Math.sqrt(d.S[comp]!);
    for (let i = 0; i < nIn; i++) A[i * r + c] = d.U.get(i, comp) * g;
    for (let j = 0; j < nOut; j++) B[c * nOut + j] = d.V.get(j, comp) * g;
  }
  return { A, B, r };
}

/**
 * Post-hoc SVD slice of a trained update: for each module, the singular components from..to
 * (1-based, inclusive) of ΔW, as factors. The source is an attachment or a LoRA adapter folder.
 */
export async function svdSlice(model: Model, source: Attachment | string, from: number, to: number): Promise<Map<string, SliceFactors>> {
  const deltas = typeof source === 'string' ? await readLoraDeltas(model, source) : attachmentDeltas(source);
  return new Map([...deltas].map(([name, d]) => [name, factorComponents(d, from, to)]));
}

/** Orthonormal bases of ΔW's input (row) and output (column) spaces, in our layout: U [in, k], V [out, k]. */
export function updateSubspaces(delta: DenseDelta): { U: Float32Array; V: Float32Array; k: number } {
  const d = svd(matrixFrom(delta.data, delta.inFeatures, delta.outFeatures));
  const k = Math.max(1, numericalRank(d.S, 1e-5));
  const U = new Float32Array(delta.inFeatures * k);
  const V = new Float32Array(delta.outFeatures * k);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < delta.inFeatures; i++) U[i * k + c] = d.U.get(i, c);
    for (let j = 0; j < delta.outFeatures; j++) V[j * k + c] = d.V.get(j, c);
  }
  return { U, V, k };
}

/** I - Q·Qᵀ for Q [n, k] with orthonormal columns, row-major [n, n]. */
export function complementProjector(Q: Float32Array, n: number, k: number): Float32Array {
  const P = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let c = 0; c < k; c++) acc += Q[i * k + c]! * Q[j * k + c]!;
      P[i * n + j] = (i === j ? 1 : 0) - acc;
    }
  }
  return P;
}

/** Identity [n, n], row-major. */
export function identity(n: number): Float32Array {
  const I = new Float32Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/**
 * Subspace similarity between two trained updates of the same modules (e.g. r=8 and r=64 runs):
 * per module, φ(i, j) over a grid of i, j for the output (left) singular vectors, as in the LoRA
 * paper's Fig. 3. Sources are attachments or LoRA adapter folders. JSON-friendly.
 */
export async function compareLowRank(
  model: Model,
  a: Attachment | string,
  b: Attachment | string,
): Promise<Record<string, { is: number[]; js: number[]; phi: number[][] }>> {
  const da = typeof a === 'string' ? await readLoraDeltas(model, a) : attachmentDeltas(a);
  const db = typeof b === 'string' ? await readLoraDeltas(model, b) : attachmentDeltas(b);
  const out: Record<string, { is: number[]; js: number[]; phi: number[][] }> = {};
  for (const [name, x] of da) {
    const y = db.get(name);
    if (!y) continue;
    // HF orientation [out, in], so left singular vectors span the output space.
    const mx = matrixFrom(transpose(x.data, x.inFeatures, x.outFeatures), x.outFeatures, x.inFeatures);
    const my = matrixFrom(transpose(y.data, y.inFeatures, y.outFeatures), y.outFeatures, y.inFeatures);
    const rx = numericalRank(svd(mx).S, 1e-5);
    const ry = numericalRank(svd(my).S, 1e-5);
    out[name] = compareUpdates(mx, my, Math.max(1, rx), Math.max(1, ry));
  }
  if (Object.keys(out).length === 0) throw new Error('compareLowRank: the two updates share no module');
  return out;
}
