import { describe, it, expect } from 'vitest';
import {
  Matrix, matrixFrom, matrixData, svd, frozenSvd, reconstruct, frobenius, singularValues,
  subspaceSimilarity, amplification, deltaReport, compareUpdates, numericalRank, subspaceTicks, similarityGrid,
} from '../src/analysis/index.ts';
import { histogram, bimodalityCoefficient, outlierIndices, normReport } from '../src/analysis/norms.ts';

function random(rows: number, cols: number, seed: number): Matrix {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  return Matrix.from1DArray(rows, cols, Array.from({ length: rows * cols }, next));
}

describe('svd', () => {
  it('remembers the SVD of a frozen matrix by its content, never confusing two matrices', () => {
    const a = random(12, 7, 3);
    const first = frozenSvd(a);
    expect(first.S).toEqual(svd(a).S);
    expect(frozenSvd(a.clone())).toBe(first); // same values: the remembered decomposition
    const b = a.clone();
    b.set(5, 2, b.get(5, 2) + 1e-9);
    const other = frozenSvd(b);
    expect(other).not.toBe(first);
    expect(other.S).toEqual(svd(b).S);
  });
  it('recovers a known decomposition', () => {
    // [[3,0],[0,-4]] has singular values 4, 3.
    const d = svd(new Matrix([[3, 0], [0, -4]]));
    expect(d.S[0]).toBeCloseTo(4, 10);
    expect(d.S[1]).toBeCloseTo(3, 10);
    expect(Math.abs(d.U.get(1, 0))).toBeCloseTo(1, 10);
  });

  it('singular values of a rank-1 outer product', () => {
    const u = [1, 2, 2]; // norm 3
    const v = [3, 4]; // norm 5
    const m = new Matrix(u.map((a) => v.map((b) => a * b)));
    const s = singularValues(m);
    expect(s[0]).toBeCloseTo(15, 9);
    expect(s[1]).toBeCloseTo(0, 9);
    expect(numericalRank(s)).toBe(1);
  });

  it('reconstructs wide and tall matrices, with orthonormal factors', () => {
    for (const [r, c] of [[7, 4], [4, 9]] as const) {
      const m = random(r, c, r * 31 + c);
      const d = svd(m);
      expect(d.S.length).toBe(Math.min(r, c));
      expect(frobenius(reconstruct(d).sub(m))).toBeLessThan(1e-10);
      const utu = d.U.transpose().mmul(d.U);
      expect(frobenius(utu.sub(Matrix.eye(d.S.length)))).toBeLessThan(1e-10);
      for (let i = 1; i < d.S.length; i++) expect(d.S[i]!).toBeLessThanOrEqual(d.S[i - 1]!);
    }
  });

  it('a slice of components reconstructs exactly that part', () => {
    const m = random(6, 6, 5);
    const d = svd(m);
    const sum = reconstruct(d, 0, 2).add(reconstruct(d, 2, 6));
    expect(frobenius(sum.sub(m))).toBeLessThan(1e-10);
    expect(singularValues(reconstruct(d, 2, 4))[0]).toBeCloseTo(d.S[2]!, 9);
  });

  it('row-major conversion round-trips and rejects a wrong length or NaN', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const m = matrixFrom(data, 2, 3);
    expect(m.get(1, 0)).toBe(4);
    expect(Array.from(matrixData(m))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => matrixFrom(data, 4, 2)).toThrow(/6 values for a 4x2/);
    expect(() => svd(new Matrix([[NaN, 1]]))).toThrow(/non-finite/);
  });
});

describe('subspace similarity and amplification', () => {
  it('φ is 1 for the same subspace and 0 for orthogonal ones', () => {
    const e = Matrix.eye(4);
    const a = e.subMatrix(0, 3, 0, 1); // span(e1, e2)
    const b = e.subMatrix(0, 3, 2, 3); // span(e3, e4)
    expect(subspaceSimilarity(a, a, 2, 2)).toBeCloseTo(1, 12);
    expect(subspaceSimilarity(a, b, 2, 2)).toBeCloseTo(0, 12);
    expect(subspaceSimilarity(a, e, 1, 4)).toBeCloseTo(1, 12); // e1 lies in R^4
    expect(() => subspaceSimilarity(a, b, 3, 1)).toThrow(/out of range/);
  });

  it('amplification: ΔW along W’s weak direction is amplified, along its top direction is not', () => {
    const w = new Matrix([[10, 0, 0], [0, 1, 0], [0, 0, 0.1]]);
    const weak = new Matrix([[0, 0, 0], [0, 0, 0], [0, 0, 2]]);
    const strong = new Matrix([[2, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(amplification(weak, w, 1).amplification).toBeCloseTo(20, 6);
    expect(amplification(strong, w, 1).amplification).toBeCloseTo(0.2, 6);
  });

  it('deltaReport caps singular values and reports overlap with W', () => {
    const w = random(80, 70, 9);
    const delta = random(80, 2, 1).mmul(random(2, 70, 2));
    const rep = deltaReport(delta, w, 2);
    expect(rep.rank).toBe(2);
    expect(rep.singularValues.length).toBe(64);
    expect(rep.energy.top2).toBeCloseTo(1, 5);
    expect(rep.amplification!.r).toBe(2);
    expect(rep.overlapWithW!.left.top2).toBeGreaterThanOrEqual(0);
    expect(rep.overlapWithW!.left.top2).toBeLessThanOrEqual(1);
    expect(JSON.parse(JSON.stringify(rep))).toEqual(rep);
  });

  it('deltaReport sweeps W’s widths 1, 2, 4, ... (and r), leaving out the whole side, where φ is always 1', () => {
    const w = random(40, 24, 11);
    const delta = random(40, 3, 12).mmul(random(3, 24, 13));
    const rep = deltaReport(delta, w, 3);
    // left = output space (40 rows, W has 24 left singular vectors); right = input space (24 columns).
    expect(Object.keys(rep.overlapWithW!.left)).toEqual(['top1', 'top2', 'top3', 'top4', 'top8', 'top16', 'top24']);
    expect(Object.keys(rep.overlapWithW!.right)).toEqual(['top1', 'top2', 'top3', 'top4', 'top8', 'top16']);
    const ws = svd(w);
    const d = svd(delta);
    expect(rep.overlapWithW!.left.top8).toBeCloseTo(subspaceSimilarity(d.U, ws.U, 3, 8), 5);
    expect(rep.overlapWithW!.right.top16).toBeCloseTo(subspaceSimilarity(d.V, ws.V, 3, 16), 5);
    for (const v of [...Object.values(rep.overlapWithW!.left), ...Object.values(rep.overlapWithW!.right)]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it('subspaceTicks: powers of two below n, then n', () => {
    expect(subspaceTicks(1)).toEqual([1]);
    expect(subspaceTicks(8)).toEqual([1, 2, 4, 8]);
    expect(subspaceTicks(6)).toEqual([1, 2, 4, 6]);
    expect(subspaceTicks(64)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(() => subspaceTicks(0)).toThrow(/positive integer/);
  });

  it('similarityGrid equals φ cell by cell, rounded to 4 decimals, and rejects bad widths', () => {
    const ua = svd(random(20, 20, 21)).U;
    const ub = svd(random(20, 20, 22)).U;
    const g = similarityGrid(ua, ub, [1, 2, 4, 8], [1, 2, 4, 8, 16]);
    expect(g.is).toEqual([1, 2, 4, 8]);
    expect(g.js).toEqual([1, 2, 4, 8, 16]);
    g.is.forEach((i, a) => g.js.forEach((j, b) => {
      expect(Math.abs(g.phi[a]![b]! - subspaceSimilarity(ua, ub, i, j))).toBeLessThanOrEqual(5e-5);
      expect(Math.round(g.phi[a]![b]! * 1e4) / 1e4).toBe(g.phi[a]![b]!);
    }));
    // a basis against itself: φ(i, j) = 1 everywhere (the smaller prefix lies in the larger)
    expect(similarityGrid(ua, ua, [1, 4], [2, 20]).phi).toEqual([[1, 1], [1, 1]]);
    expect(() => similarityGrid(ua, ub, [0], [1])).toThrow(/1 <= i <= 20/);
    expect(() => similarityGrid(ua, ub, [1], [])).toThrow(/non-empty/);
    expect(() => similarityGrid(ua, svd(random(5, 5, 1)).U, [1], [1])).toThrow(/20 and 5 rows/);
  });

  it('compareUpdates: an update contained in another scores 1 at full width', () => {
    const b = random(10, 4, 3).mmul(random(4, 10, 4));
    const a = b.clone();
    const cmp = compareUpdates(a, b, 4, 4);
    expect(cmp.is).toEqual([1, 2, 4]);
    expect(cmp.phi[2]![2]).toBeCloseTo(1, 5);
  });
});

describe('norm-weight distributions', () => {
  it('histogram counts every value', () => {
    const h = histogram([0, 0.1, 0.5, 0.9, 1], 2);
    expect(h.counts).toEqual([2, 3]);
    expect(() => histogram([1], 0)).toThrow(/bins=0/);
  });

  it('bimodality: two clusters above 5/9, a bell shape below', () => {
    const twoPoint = Array.from({ length: 200 }, (_, i) => (i % 2 ? 1 : -1) + (i % 7) * 1e-3);
    expect(bimodalityCoefficient(twoPoint)).toBeGreaterThan(0.9);
    const bell: number[] = [];
    for (let i = 1; i < 400; i++) bell.push(Math.sqrt(-2 * Math.log(i / 400)) * Math.cos(2 * Math.PI * ((i * 0.618) % 1)));
    expect(bimodalityCoefficient(bell)).toBeLessThan(5 / 9);
    expect(() => bimodalityCoefficient([1, 2])).toThrow(/at least 4/);
  });

  it('outliers are the values farthest from the mean', () => {
    expect(outlierIndices([1, 1, 9, 1, -5, 1], 2)).toEqual([2, 4]);
    expect(() => outlierIndices([1, 2], 3)).toThrow(/1\.\.2/);
  });

  it('normReport records tuned indices and their change', () => {
    const rep = normReport([1, 1, 1, 5], { tunedIndices: [3], trained: [1, 1, 1, 6] });
    expect(rep.tunedIndices).toEqual([3]);
    expect(rep.meanAbsChange).toBe(1);
    expect(rep.maxZ).toBeGreaterThan(1.5);
  });
});

describe('truncated SVD', () => {
  it('matches the exact leading components of a matrix with a decaying spectrum', async () => {
    const { truncatedSvd } = await import('../src/analysis/svd.ts');
    // M = U diag(s) Vᵀ with s_i = 2^-i, from orthonormal factors of random matrices.
    const n = 60;
    const u = svd(random(n, n, 21)).U;
    const v = svd(random(n, n, 22)).U;
    const s = Array.from({ length: n }, (_, i) => 2 ** -i);
    const m = u.mmul(Matrix.diag(s)).mmul(v.transpose());
    const t = truncatedSvd(m, 5, { seed: 3 });
    for (let i = 0; i < 5; i++) expect(t.S[i]).toBeCloseTo(s[i]!, 8);
    expect(subspaceSimilarity(t.U, u, 5, 5)).toBeCloseTo(1, 8);
    expect(() => truncatedSvd(m, 0)).toThrow(/k=0/);
  });
});
