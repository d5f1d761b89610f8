// Can the benchmark tell methods apart on a task? The spread of the methods' mean scores against
// the seed-to-seed noise, and how many pairs of methods differ by more than that noise allows. A
// task where every PEFT method scores the same (the spread within the noise) ranks them by chance.
import { mean, sampleStd, tQuantile975 } from './summary.ts';

export interface MethodSeedScores {
  method: string;
  /** One score per seed (the method's configuration at r=8, or its default where rank does not apply). */
  values: readonly number[];
}

export interface Discriminability {
  /** Methods with at least one score. */
  methods: number;
  best: string | null;
  worst: string | null;
  /** Best minus worst method mean. */
  spread: number | null;
  /**
   * The seed-to-seed standard deviation pooled over the methods (each weighted by its n - 1 degrees of
   * freedom); null when no method has two seeds.
   */
  pooled_sd: number | null;
  /** spread / pooled_sd: how many noise units separate the best from the worst (null when the noise is 0 or unknown). */
  ratio: number | null;
  /** Pairs of methods. */
  pairs: number;
  /**
   * Pairs whose means differ significantly: |mean_i - mean_j| > t(0.975, df) x pooled_sd x sqrt(1/n_i + 1/n_j),
   * with df the pooled degrees of freedom (a two-sided t test at 5% on the pooled variance, as in
   * Fisher's least significant difference). With zero pooled noise any difference counts. Null when the
   * noise cannot be estimated (no method has two seeds).
   */
  separable_pairs: number | null;
}

export function discriminability(scores: readonly MethodSeedScores[]): Discriminability {
  const methods = scores
    .filter((s) => s.values.length > 0 && s.values.every(Number.isFinite))
    .map((s) => ({ method: s.method, n: s.values.length, mean: mean(s.values) as number, sd: sampleStd(s.values) as number }));
  const pairs = (methods.length * (methods.length - 1)) / 2;
  if (methods.length === 0) return { methods: 0, best: null, worst: null, spread: null, pooled_sd: null, ratio: null, pairs: 0, separable_pairs: null };
  const sorted = [...methods].sort((a, b) => b.mean - a.mean || (a.method < b.method ? -1 : 1));
  const best = sorted[0]!;
  const worst = sorted.at(-1)!;
  const spread = best.mean - worst.mean;
  const df = methods.reduce((sum, m) => sum + m.n - 1, 0);
  const pooledSd = df > 0 ? Math.sqrt(methods.reduce((sum, m) => sum + (m.n - 1) * m.sd * m.sd, 0) / df) : null;
  let separable: number | null = null;
  if (pooledSd !== null) {
    const t = tQuantile975(df);
    separable = 0;
    for (let i = 0; i < methods.length; i++) {
      for (let j = i + 1; j < methods.length; j++) {
        const a = methods[i]!;
        const b = methods[j]!;
        const threshold = t * pooledSd * Math.sqrt(1 / a.n + 1 / b.n);
        if (Math.abs(a.mean - b.mean) > threshold) separable += 1;
      }
    }
  }
  return {
    methods: methods.length,
    best: best.method,
    worst: worst.method,
    spread,
    pooled_sd: pooledSd,
    ratio: pooledSd !== null && pooledSd > 0 ? spread / pooledSd : null,
    pairs,
    separable_pairs: separable,
  };
}
