// Means, sample spreads and seed-only intervals: the statistics that need no per-example scores.

export type Direction = 'higher' | 'lower';

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n-1 denominator); 0 for a single value, null for none. */
export function sampleStd(values: readonly number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  if (n === 1) return 0;
  const m = mean(values) as number;
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (n - 1));
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12,
  2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile975(degreesOfFreedom: number): number {
  if (degreesOfFreedom < 1) throw new Error(`t quantile needs at least 1 degree of freedom, got ${degreesOfFreedom}`);
  return degreesOfFreedom <= T_975.length ? T_975[degreesOfFreedom - 1]! : 1.96;
}

export interface Interval {
  lo: number;
  hi: number;
  /**
   * How it was computed: a paired bootstrap over test examples and seeds, or (for records without
   * per-example scores) a t interval over seed means only, which ignores the test sample's own noise.
   */
  kind: 'paired-bootstrap' | 'seeds-only';
}

/** 95% t interval over seed means; null with fewer than two seeds (one seed gives no spread). */
export function seedOnlyInterval(seedMeans: readonly number[]): Interval | null {
  if (seedMeans.length < 2) return null;
  const m = mean(seedMeans) as number;
  const half = (tQuantile975(seedMeans.length - 1) * (sampleStd(seedMeans) as number)) / Math.sqrt(seedMeans.length);
  return { lo: m - half, hi: m + half, kind: 'seeds-only' };
}

/** The q-quantile (0..1) of sorted values, linear between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of an empty sample');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
