// Analysis outputs shared by methods: singular values of each ΔW against its pretrained W, the
// subspace similarity of two updates of the same modules (LoRA paper Fig. 3), and norm-weight
// distributions; compact and JSON-friendly for run records.
import * as tf from '@tensorflow/tfjs-core';
import {
  deltaReport, frobenius, matrixFrom, normReport, numericalRank, similarityGrid, subspaceSimilarity, subspaceTicks, svd, type Matrix, type SimilarityGrid,
} from '@peft-bench/core/analysis/index';
import type { Linear } from '@peft-bench/core/model/modules';
import type { Model } from './types.ts';
import type { DenseDelta } from './lowrank-io.ts';
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

/** Modules compared between two updates at most (model order), so a record stays compact: all q and v of 8 layers. */
export const MAX_COMPARED_MODULES = 16;

/** Singular values below this share of the largest count as zero when taking an update's rank. */
const RANK_TOL = 1e-5;

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** Which of the small update's subspaces a complement removes: input (row), output (column), or both. */
export type ComplementSide = 'both' | 'row' | 'column';

export interface ModuleComparison extends SimilarityGrid {
  /** Share of ||ΔW_large||_F^2 left after projecting off the small update's subspaces (what the complement keeps). */
  energyKept: number;
}

export interface SubspaceComparison {
  subspaceSimilarity: {
    /** Where the two updates come from (e.g. 'small_adapter', 'large_adapter', 'trained update'). */
    small: string;
    large: string;
    /** Which singular vectors φ compares: left = the output (column) space of ΔW in [out, in]. */
    vectors: 'left';
    /** φ averaged over the compared modules, on the widths every module has. */
    mean: SimilarityGrid;
    modules: Record<string, ModuleComparison>;
    skipped?: { reason: string; modules: string[] }[];
  };
  /** Means over the compared modules (absent when no module could be compared); the site lists these. */
  complement?: {
    side: ComplementSide;
    /** Mean share of ||ΔW_large||_F^2 outside the small update's subspaces. */
    energyKept: number;
    /** Mean φ(1, 1): do the two top directions agree? */
    phiTop1: number;
    /** Mean φ(r_small, r_small): the two updates' subspaces of the small rank. */
    phiSmallRank: number;
    /** Mean φ(r_small, r_large): how much of the small subspace the large update contains. */
    phiFull: number;
  };
}

/** Share of ||X||_F^2 left in P_in·X·P_out, P = I − Q·Qᵀ from orthonormal bases U [in, k] and V [out, k] (our layout X [in, out]). */
function energyOutside(x: Matrix, u: Matrix, v: Matrix, side: ComplementSide): number {
  // ml-matrix's sub() works in place: project a copy.
  const y = x.clone();
  if (side !== 'column') y.sub(u.mmul(u.transpose().mmul(y)));
  if (side !== 'row') y.sub(y.mmul(v).mmul(v.transpose()));
  const total = frobenius(x) ** 2;
  return total > 0 ? Math.min(1, frobenius(y) ** 2 / total) : 0;
}

/**
 * The LoRA paper's Fig. 3 between two updates of the same modules (say trained at r=8 and r=64):
 * per module, φ(i, j) for the top-i left singular vectors of the small update, i in 1, 2, 4, ...,
 * r_small (its numerical rank), against the top-j of the large one, j in 1, 2, 4, ..., r_large;
 * the share of the large update's energy outside the small update's subspaces (`side` as in
 * lora-complement); and means over modules. At most MAX_COMPARED_MODULES modules, in model order.
 */
export function subspaceComparison(
  model: Model,
  small: Map<string, DenseDelta>,
  large: Map<string, DenseDelta>,
  opts: { side: ComplementSide; smallLabel: string; largeLabel: string },
): SubspaceComparison {
  const skipped = new Map<string, string[]>();
  const skip = (reason: string, name: string) => skipped.set(reason, [...(skipped.get(reason) ?? []), name]);
  const shared = model.linears().map((l) => l.name).filter((name) => small.has(name) && large.has(name));
  const modules: Record<string, ModuleComparison> = {};
  const summary = { phiTop1: [] as number[], phiSmallRank: [] as number[], phiFull: [] as number[], energyKept: [] as number[] };
  for (const name of shared) {
    const a = small.get(name)!;
    const b = large.get(name)!;
    if (Object.keys(modules).length >= MAX_COMPARED_MODULES) {
      skip(`more than ${MAX_COMPARED_MODULES} modules`, name);
      continue;
    }
    if (Math.max(a.inFeatures, a.outFeatures) > MAX_ANALYSED_DIM) {
      skip(`dimension above ${MAX_ANALYSED_DIM}`, name);
      continue;
    }
    // Our layout [in, out]: U spans the input (row) space, V the output (column) space, i.e. V holds
    // the left singular vectors of ΔW in the [out, in] orientation of the paper.
    const xa = matrixFrom(a.data, a.inFeatures, a.outFeatures);
    const xb = matrixFrom(b.data, b.inFeatures, b.outFeatures);
    const sa = svd(xa);
    const sb = svd(xb);
    const ra = numericalRank(sa.S, RANK_TOL);
    const rb = numericalRank(sb.S, RANK_TOL);
    if (ra === 0 || rb === 0) {
      skip('a zero update has no subspace', name);
      continue;
    }
    const grid = similarityGrid(sa.V, sb.V, subspaceTicks(ra), subspaceTicks(rb));
    const energyKept = round4(energyOutside(xb, sa.U.subMatrix(0, a.inFeatures - 1, 0, ra - 1), sa.V.subMatrix(0, a.outFeatures - 1, 0, ra - 1), opts.side));
    modules[name] = { ...grid, energyKept };
    summary.phiTop1.push(subspaceSimilarity(sa.V, sb.V, 1, 1));
    summary.phiSmallRank.push(subspaceSimilarity(sa.V, sb.V, ra, Math.min(ra, rb)));
    summary.phiFull.push(subspaceSimilarity(sa.V, sb.V, ra, rb));
    summary.energyKept.push(energyKept);
  }
  for (const name of small.keys()) if (!large.has(name)) skip(`only in ${opts.smallLabel}`, name);
  for (const name of large.keys()) if (!small.has(name)) skip(`only in ${opts.largeLabel}`, name);

  const grids = Object.values(modules);
  const common = (pick: (g: SimilarityGrid) => number[]) => grids.length === 0 ? [] : pick(grids[0]!).filter((t) => grids.every((g) => pick(g).includes(t)));
  const is = common((g) => g.is);
  const js = common((g) => g.js);
  const mean: SimilarityGrid = {
    is, js,
    phi: is.map((i) => js.map((j) => round4(grids.reduce((acc, g) => acc + g.phi[g.is.indexOf(i)]![g.js.indexOf(j)]!, 0) / grids.length))),
  };
  const avg = (xs: number[]) => round4(xs.reduce((acc, x) => acc + x, 0) / xs.length);
  const out: SubspaceComparison = {
    subspaceSimilarity: {
      small: opts.smallLabel, large: opts.largeLabel, vectors: 'left', mean, modules,
      ...(skipped.size ? { skipped: [...skipped].map(([reason, names]) => ({ reason, modules: names })) } : {}),
    },
  };
  if (grids.length > 0) {
    out.complement = {
      side: opts.side,
      energyKept: avg(summary.energyKept),
      phiTop1: avg(summary.phiTop1),
      phiSmallRank: avg(summary.phiSmallRank),
      phiFull: avg(summary.phiFull),
    };
  }
  return out;
}
