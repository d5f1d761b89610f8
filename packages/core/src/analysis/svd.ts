// Thin SVD of dense matrices (ml-matrix, float64 on the host). Matrices here are in the maths
// orientation used by the LoRA paper and HF ([out, in]); callers holding TF.js [in, out] kernels
// transpose before calling.
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';

export { Matrix };

export interface Svd {
  /** Left singular vectors as columns, [rows, k]. */
  U: Matrix;
  /** Singular values, descending, length k = min(rows, cols). */
  S: number[];
  /** Right singular vectors as columns, [cols, k]. */
  V: Matrix;
}

/** Builds a Matrix from row-major data (e.g. a tensor's dataSync()). */
export function matrixFrom(data: ArrayLike<number>, rows: number, cols: number): Matrix {
  if (data.length !== rows * cols) {
    throw new Error(`matrixFrom: got ${data.length} values for a ${rows}x${cols} matrix (need ${rows * cols})`);
  }
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]!);
  return m;
}

/** Row-major Float32Array of a Matrix (to build a tensor). */
export function matrixData(m: Matrix): Float32Array {
  const out = new Float32Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.columns; j++) out[i * m.columns + j] = m.get(i, j);
  return out;
}

/** Thin SVD M = U diag(S) V^T with S descending and k = min(rows, cols) components. */
export function svd(m: Matrix): Svd {
  if (m.rows === 0 || m.columns === 0) throw new Error(`svd: empty ${m.rows}x${m.columns} matrix`);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.columns; j++) if (!Number.isFinite(m.get(i, j))) throw new Error('svd: matrix has a non-finite entry (NaN or inf)');
  }
  const d = new SingularValueDecomposition(m, { autoTranspose: true, computeLeftSingularVectors: true, computeRightSingularVectors: true });
  const k = Math.min(m.rows, m.columns);
  const S = d.diagonal.slice(0, k);
  // ml-matrix already sorts descending; keep an explicit guard so callers can rely on it.
  const order = S.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
  const U = new Matrix(m.rows, k);
  const V = new Matrix(m.columns, k);
  order.forEach((src, dst) => {
    for (let i = 0; i < m.rows; i++) U.set(i, dst, d.leftSingularVectors.get(i, src));
    for (let i = 0; i < m.columns; i++) V.set(i, dst, d.rightSingularVectors.get(i, src));
  });
  return { U, S: order.map((i) => S[i]!), V };
}

const frozenSvds = new Map<string, { data: Float64Array; svd: Svd }>();
const FROZEN_SVD_CACHE = 32;

/**
 * svd() of a matrix that does not change between runs (a pretrained W), remembered by its content:
 * every run of a grid worker analyses the same frozen weights, and their SVDs were a large share
 * of a short run's analysis time. A hit is checked value by value, so it is exactly what svd()
 * would compute; callers must not modify the result.
 */
export function frozenSvd(m: Matrix): Svd {
  const data = new Float64Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) data.set(m.getRow(i), i * m.columns);
  let h = 0x811c9dc5; // FNV-1a over the bits
  const words = new Uint32Array(data.buffer);
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193) >>> 0;
  const key = `${m.rows}x${m.columns}:${h.toString(16)}`;
  const hit = frozenSvds.get(key);
  if (hit && hit.data.every((x, i) => x === data[i])) return hit.svd;
  const d = svd(m);
  if (frozenSvds.size >= FROZEN_SVD_CACHE) frozenSvds.delete(frozenSvds.keys().next().value!);
  frozenSvds.set(key, { data, svd: d });
  return d;
}

/** Singular values only, descending. */
export function singularValues(m: Matrix): number[] {
  return svd(m).S;
}

/** Sum of components i..j (0-based, j exclusive) of an SVD: U[:, i:j] diag(S[i:j]) V[:, i:j]^T. */
export function reconstruct(d: Svd, from = 0, to = d.S.length): Matrix {
  const cols = Math.max(0, Math.min(to, d.S.length) - from);
  const us = new Matrix(d.U.rows, cols);
  for (let c = 0; c < cols; c++) for (let i = 0; i < d.U.rows; i++) us.set(i, c, d.U.get(i, from + c) * d.S[from + c]!);
  const v = d.V.subMatrix(0, d.V.rows - 1, from, from + cols - 1);
  return cols === 0 ? new Matrix(d.U.rows, d.V.rows) : us.mmul(v.transpose());
}

export function frobenius(m: Matrix): number {
  let s = 0;
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.columns; j++) s += m.get(i, j) ** 2;
  return Math.sqrt(s);
}

/** First k columns of a matrix (k clamped to its width). */
export function leadingColumns(m: Matrix, k: number): Matrix {
  const n = Math.min(Math.max(k, 1), m.columns);
  return m.subMatrix(0, m.rows - 1, 0, n - 1);
}

/**
 * The top-k singular triplets by a randomized range finder (Halko, Martinsson & Tropp 2011):
 * Y = (M·Mᵀ)^q·M·Ω with Gaussian Ω [cols, k + oversample], Q = orth(Y), then the exact SVD of the
 * small Qᵀ·M. Much faster than a full SVD for large matrices and small k; with a few power
 * iterations the leading components match the exact ones closely. Seeded, so deterministic.
 */
export function truncatedSvd(m: Matrix, k: number, opts: { oversample?: number; powerIters?: number; seed?: number } = {}): Svd {
  const n = Math.min(m.rows, m.columns);
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new Error(`truncatedSvd: k=${k} must be an integer in 1..${n}`);
  const l = Math.min(n, k + (opts.oversample ?? 8));
  let state = (opts.seed ?? 1) >>> 0 || 1;
  const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const omega = new Matrix(m.columns, l);
  for (let i = 0; i < m.columns; i++) {
    for (let j = 0; j < l; j++) omega.set(i, j, Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
  }
  const orth = (y: Matrix) => new QrDecomposition(y).orthogonalMatrix.subMatrix(0, y.rows - 1, 0, l - 1);
  let q = orth(m.mmul(omega));
  const mt = m.transpose();
  for (let it = 0; it < (opts.powerIters ?? 4); it++) q = orth(m.mmul(orth(mt.mmul(q))));
  const small = svd(q.transpose().mmul(m)); // [l, cols] = Ub S Vᵀ
  const U = q.mmul(small.U);
  return { U: leadingColumns(U, k), S: small.S.slice(0, k), V: leadingColumns(small.V, k) };
}
