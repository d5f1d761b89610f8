// Analyses of low-rank updates ΔW against each other and against the pretrained W (LoRA paper
// §7: subspace similarity, Fig. 3; amplification, Table 7). All matrices are [out, in].
import type { Matrix } from 'ml-matrix';
import { frobenius, frozenSvd, leadingColumns, svd, type Svd } from './svd.ts';

/** Most singular values kept per module in a report, so run records stay compact. */
export const MAX_REPORTED_VALUES = 64;

const round = (x: number): number => Number(x.toPrecision(6));

/**
 * Normalised subspace similarity φ(A, B, i, j) = ||U_A[:, :i]^T U_B[:, :j]||_F^2 / min(i, j), in [0, 1]:
 * 1 when the smaller subspace lies inside the larger, 0 when orthogonal. `ua`, `ub` hold
 * orthonormal columns (singular vectors) of the same height.
 */
export function subspaceSimilarity(ua: Matrix, ub: Matrix, i: number, j: number): number {
  if (ua.rows !== ub.rows) throw new Error(`subspaceSimilarity: bases have ${ua.rows} and ${ub.rows} rows; they must match`);
  if (!(i >= 1 && j >= 1 && i <= ua.columns && j <= ub.columns)) {
    throw new Error(`subspaceSimilarity: i=${i}, j=${j} out of range: 1 <= i <= ${ua.columns}, 1 <= j <= ${ub.columns}`);
  }
  const prod = leadingColumns(ua, i).transpose().mmul(leadingColumns(ub, j));
  return frobenius(prod) ** 2 / Math.min(i, j);
}

/** φ on a grid of i (rows) and j (columns), e.g. for Fig. 3 heatmaps. */
export function subspaceSimilarityGrid(ua: Matrix, ub: Matrix, is: number[], js: number[]): number[][] {
  return is.map((i) => js.map((j) => round(subspaceSimilarity(ua, ub, i, j))));
}

/** Axis ticks of the LoRA paper's Fig. 3: powers of two below n, then n (n=8: 1, 2, 4, 8; n=6: 1, 2, 4, 6). */
export function subspaceTicks(n: number): number[] {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`subspaceTicks: n=${n} must be a positive integer`);
  const ticks: number[] = [];
  for (let t = 1; t < n; t *= 2) ticks.push(t);
  ticks.push(n);
  return ticks;
}

export interface SimilarityGrid {
  /** Widths i of the first basis (rows of phi). */
  is: number[];
  /** Widths j of the second basis (columns of phi). */
  js: number[];
  /** phi[a][b] = φ(is[a], js[b]), in [0, 1]. */
  phi: number[][];
}

/**
 * φ(i, j) for i in `is`, j in `js` between two orthonormal bases of the same height, from one
 * product M = U_A[:, :max i]ᵀ U_B[:, :max j] and prefix sums of its squares (a cell costs O(1), not
 * a matrix product). Values are clamped to [0, 1] (rounding can overshoot 1) and rounded to `decimals`.
 */
export function similarityGrid(ua: Matrix, ub: Matrix, is: number[], js: number[], decimals = 4): SimilarityGrid {
  if (ua.rows !== ub.rows) throw new Error(`similarityGrid: bases have ${ua.rows} and ${ub.rows} rows; they must match`);
  const bad = (xs: number[], max: number) => xs.length === 0 || xs.some((x) => !(Number.isInteger(x) && x >= 1 && x <= max));
  if (bad(is, ua.columns) || bad(js, ub.columns)) {
    throw new Error(`similarityGrid: widths must be non-empty lists of integers with 1 <= i <= ${ua.columns} and 1 <= j <= ${ub.columns}; got i=[${is}], j=[${js}]`);
  }
  const ni = Math.max(...is);
  const nj = Math.max(...js);
  const m = leadingColumns(ua, ni).transpose().mmul(leadingColumns(ub, nj)); // [ni, nj]
  // prefix[a][b] = sum of m[x][y]^2 over x < a, y < b
  const prefix = Array.from({ length: ni + 1 }, () => new Float64Array(nj + 1));
  for (let a = 1; a <= ni; a++) {
    let row = 0;
    for (let b = 1; b <= nj; b++) {
      row += m.get(a - 1, b - 1) ** 2;
      prefix[a]![b] = prefix[a - 1]![b]! + row;
    }
  }
  const scale = 10 ** decimals;
  const cell = (i: number, j: number) => Math.round(Math.min(1, Math.max(0, prefix[i]![j]! / Math.min(i, j))) * scale) / scale;
  return { is: [...is], js: [...js], phi: is.map((i) => js.map((j) => cell(i, j))) };
}

/** Numerical rank: singular values above max(S) * tol. */
export function numericalRank(s: number[], tol = 1e-6): number {
  const top = s[0] ?? 0;
  return s.filter((x) => x > top * tol && x > 0).length;
}

export interface AmplificationReport {
  /** Number of ΔW's top singular directions used. */
  r: number;
  /** ||ΔW||_F */
  deltaNorm: number;
  /** ||U^T W V||_F: W projected onto ΔW's top-r singular directions. */
  projectedWNorm: number;
  /** ||ΔW||_F / ||U^T W V||_F (LoRA paper Table 7). */
  amplification: number;
  /** ||W||_F, for scale. */
  wNorm: number;
}

/** How strongly ΔW amplifies directions that W already has but does not emphasise (LoRA §7). */
export function amplification(delta: Matrix, w: Matrix, r: number, deltaSvd: Svd = svd(delta)): AmplificationReport {
  if (delta.rows !== w.rows || delta.columns !== w.columns) {
    throw new Error(`amplification: ΔW is ${delta.rows}x${delta.columns} but W is ${w.rows}x${w.columns}`);
  }
  const k = Math.min(r, deltaSvd.S.length);
  const u = leadingColumns(deltaSvd.U, k);
  const v = leadingColumns(deltaSvd.V, k);
  const projected = frobenius(u.transpose().mmul(w).mmul(v));
  const deltaNorm = frobenius(delta);
  return { r: k, deltaNorm, projectedWNorm: projected, amplification: projected > 0 ? deltaNorm / projected : Infinity, wNorm: frobenius(w) };
}

export interface DeltaReport {
  shape: [number, number];
  /** Numerical rank of ΔW. */
  rank: number;
  frobenius: number;
  /** Leading singular values of ΔW (at most MAX_REPORTED_VALUES). */
  singularValues: number[];
  /** Share of ||ΔW||_F^2 in the top 1, 4, r components. */
  energy: Record<string, number>;
  /** Present when W was given. */
  amplification?: { r: number; factor: number | null; projectedWNorm: number; deltaNorm: number };
  /**
   * φ(r, k) between ΔW's top-r singular vectors and W's top-k, for k = 1, 2, 4, ... (and r) below
   * the side's dimension: left = output space, right = input space. Keys `top<k>`. For random
   * subspaces of dimension n, φ(r, k) ≈ max(r, k) / n.
   */
  overlapWithW?: { left: Record<string, number>; right: Record<string, number> };
}

/** A compact, JSON-friendly summary of one update ΔW (optionally against its pretrained W). */
export function deltaReport(delta: Matrix, w?: Matrix, r?: number): DeltaReport {
  const d = svd(delta);
  const rank = numericalRank(d.S);
  const k = Math.max(1, Math.min(r ?? rank, d.S.length));
  const total = d.S.reduce((a, s) => a + s * s, 0) || 1;
  const share = (n: number) => round(d.S.slice(0, n).reduce((a, s) => a + s * s, 0) / total);
  const report: DeltaReport = {
    shape: [delta.rows, delta.columns],
    rank,
    frobenius: round(frobenius(delta)),
    singularValues: d.S.slice(0, MAX_REPORTED_VALUES).map(round),
    energy: { top1: share(1), top4: share(4), [`top${k}`]: share(k) },
  };
  if (w) {
    const a = amplification(delta, w, k, d);
    // A zero update (e.g. before training) has no amplification: null keeps the report JSON-safe.
    const factor = Number.isFinite(a.amplification) && a.deltaNorm > 0 ? round(a.amplification) : null;
    report.amplification = { r: a.r, factor, projectedWNorm: round(a.projectedWNorm), deltaNorm: round(a.deltaNorm) };
    const ws = frozenSvd(w);
    // W's top-kw directions for kw = 1, 2, 4, ... (and k): a sweep over j of the φ(k, j) grid. A width
    // spanning the whole side (kw = its dimension) always gives φ = 1, so it is left out.
    const sweep = (dim: number) => [...new Set([...subspaceTicks(ws.S.length), k])].filter((kw) => kw <= ws.S.length && kw < dim).sort((a, b) => a - b);
    report.overlapWithW = {
      left: Object.fromEntries(sweep(w.rows).map((kw) => [`top${kw}`, round(subspaceSimilarity(d.U, ws.U, k, kw))])),
      right: Object.fromEntries(sweep(w.columns).map((kw) => [`top${kw}`, round(subspaceSimilarity(d.V, ws.V, k, kw))])),
    };
  }
  return report;
}

/**
 * Similarity of two updates of the same module (e.g. trained at r=8 and r=64): φ over a grid of
 * i in 1..ra and j in 1..rb (a few values each), for left (output) singular vectors.
 */
export function compareUpdates(a: Matrix, b: Matrix, ra: number, rb: number): { is: number[]; js: number[]; phi: number[][] } {
  const sa = svd(a);
  const sb = svd(b);
  const is = subspaceTicks(Math.max(1, Math.min(ra, sa.S.length)));
  const js = subspaceTicks(Math.max(1, Math.min(rb, sb.S.length)));
  return { is, js, phi: subspaceSimilarityGrid(sa.U, sb.U, is, js) };
}
