// Distributions of norm-layer weights (LayerNorm/RMSNorm gains): are there outliers, is the
// distribution bimodal, and which indices a selective method tuned.

export interface Histogram {
  min: number;
  max: number;
  /** Counts per equal-width bin between min and max. */
  counts: number[];
}

export function histogram(values: ArrayLike<number>, bins = 20): Histogram {
  if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`histogram: bins=${bins} must be a positive integer`);
  const xs = Array.from(values);
  if (xs.length === 0) return { min: 0, max: 0, counts: new Array(bins).fill(0) };
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const counts = new Array(bins).fill(0) as number[];
  const width = (max - min) / bins;
  for (const x of xs) {
    const b = width > 0 ? Math.min(bins - 1, Math.floor((x - min) / width)) : 0;
    counts[b]!++;
  }
  return { min, max, counts };
}

function moments(xs: number[]): { mean: number; m2: number; m3: number; m4: number } {
  const n = xs.length;
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  let m2 = 0, m3 = 0, m4 = 0;
  for (const x of xs) {
    const d = x - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  return { mean, m2: m2 / n, m3: m3 / n, m4: m4 / n };
}

/**
 * Sample bimodality coefficient BC = (g^2 + 1) / (k + 3(n-1)^2 / ((n-2)(n-3))), with g the
 * bias-corrected skewness and k the bias-corrected excess kurtosis. BC > 5/9 (≈0.555, the uniform
 * distribution's value) suggests bimodality. Needs n >= 4; a constant sample gives NaN.
 */
export function bimodalityCoefficient(values: ArrayLike<number>): number {
  const xs = Array.from(values);
  const n = xs.length;
  if (n < 4) throw new Error(`bimodalityCoefficient: needs at least 4 values, got ${n}`);
  const { m2, m3, m4 } = moments(xs);
  if (m2 === 0) return NaN;
  const g1 = m3 / m2 ** 1.5;
  const g2 = m4 / (m2 * m2) - 3;
  const skew = (Math.sqrt(n * (n - 1)) / (n - 2)) * g1;
  const kurt = ((n - 1) / ((n - 2) * (n - 3))) * ((n + 1) * g2 + 6);
  return (skew * skew + 1) / (kurt + (3 * (n - 1) ** 2) / ((n - 2) * (n - 3)));
}

/** Indices of the n values farthest from the mean (|w - mean|), largest first; ties by index. */
export function outlierIndices(values: ArrayLike<number>, n: number): number[] {
  const xs = Array.from(values);
  if (!(Number.isInteger(n) && n >= 1 && n <= xs.length)) {
    throw new Error(`outlierIndices: n=${n} must be an integer in 1..${xs.length}`);
  }
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  return xs
    .map((x, i) => [Math.abs(x - mean), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, n)
    .map(([, i]) => i);
}

export interface NormReport {
  dim: number;
  mean: number;
  std: number;
  histogram: Histogram;
  bimodality: number | null;
  /** Largest |w - mean| relative to std (how extreme the outliers are). */
  maxZ: number;
  /** Indices a selective method tuned, when given. */
  tunedIndices?: number[];
  /** Mean |Δw| on the tuned indices after training, when the trained weights are given. */
  meanAbsChange?: number;
}

const round = (x: number): number => Number(x.toPrecision(6));

export function normReport(weight: ArrayLike<number>, opts: { tunedIndices?: number[]; trained?: ArrayLike<number>; bins?: number } = {}): NormReport {
  const xs = Array.from(weight);
  const { mean, m2 } = moments(xs);
  const std = Math.sqrt(m2);
  const bc = xs.length >= 4 ? bimodalityCoefficient(xs) : NaN;
  const h = histogram(xs, opts.bins ?? 20);
  const report: NormReport = {
    dim: xs.length,
    mean: round(mean),
    std: round(std),
    histogram: { min: round(h.min), max: round(h.max), counts: h.counts },
    bimodality: Number.isFinite(bc) ? round(bc) : null,
    maxZ: std > 0 ? round(Math.max(...xs.map((x) => Math.abs(x - mean))) / std) : 0,
  };
  if (opts.tunedIndices) report.tunedIndices = opts.tunedIndices;
  if (opts.trained) {
    const t = Array.from(opts.trained);
    const idx = opts.tunedIndices ?? t.map((_, i) => i);
    report.meanAbsChange = round(idx.reduce((a, i) => a + Math.abs(t[i]! - xs[i]!), 0) / Math.max(1, idx.length));
  }
  return report;
}
