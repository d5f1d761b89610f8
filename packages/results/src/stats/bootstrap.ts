// Paired bootstrap over test examples and seeds. Every method is scored on the same test examples in the
// same order, so one resampling plan (which examples, which seeds) is shared by all cells of a task: the
// intervals of two methods, and the interval of their difference, then come from the same draws. That is
// what makes "tied with the best" a paired comparison rather than two overlapping intervals.
import { randomIndex, seededRandom } from './rng.ts';
import { quantileSorted, type Direction, type Interval } from './summary.ts';

/** One seed's per-example test scores, in test-split order. */
export interface SeedScores {
  seed: number;
  scores: readonly number[];
}

export const DEFAULT_RESAMPLES = 2000;
export const DEFAULT_PLAN_SEED = 20_240_611;

/** Which examples and which seed positions each bootstrap resample draws. */
export interface ResamplePlan {
  examples: number;
  seeds: number;
  /** resamples x examples indices. */
  exampleDraws: Int32Array[];
  /** resamples x seeds positions into a cell's seed list (sorted by seed). */
  seedDraws: Int32Array[];
}

export function resamplePlan(examples: number, seeds: number, resamples = DEFAULT_RESAMPLES, planSeed = DEFAULT_PLAN_SEED): ResamplePlan {
  if (examples < 1 || seeds < 1) throw new Error(`a resampling plan needs at least one example and one seed (got ${examples}, ${seeds})`);
  // The plan depends only on its shape and seed, so every cell with the same shape shares it.
  const random = seededRandom(planSeed ^ (examples * 7919) ^ (seeds * 104_729));
  const exampleDraws: Int32Array[] = [];
  const seedDraws: Int32Array[] = [];
  for (let b = 0; b < resamples; b++) {
    const seedDraw = new Int32Array(seeds);
    for (let s = 0; s < seeds; s++) seedDraw[s] = seeds === 1 ? 0 : randomIndex(random, seeds);
    const exampleDraw = new Int32Array(examples);
    for (let i = 0; i < examples; i++) exampleDraw[i] = randomIndex(random, examples);
    seedDraws.push(seedDraw);
    exampleDraws.push(exampleDraw);
  }
  return { examples, seeds, exampleDraws, seedDraws };
}

function checkShape(runs: readonly SeedScores[], plan: ResamplePlan): SeedScores[] {
  if (runs.length !== plan.seeds) throw new Error(`the plan draws ${plan.seeds} seeds, the cell has ${runs.length}`);
  for (const run of runs) {
    if (run.scores.length !== plan.examples) {
      throw new Error(`seed ${run.seed} has ${run.scores.length} per-example scores, the plan expects ${plan.examples}: cells can only be paired over the same test examples`);
    }
  }
  return [...runs].sort((a, b) => a.seed - b.seed);
}

/** The bootstrap distribution of a cell's mean score (mean over drawn seeds of the mean over drawn examples). */
export function bootstrapMeans(runs: readonly SeedScores[], plan: ResamplePlan): Float64Array {
  const sorted = checkShape(runs, plan);
  const out = new Float64Array(plan.exampleDraws.length);
  for (let b = 0; b < out.length; b++) {
    const exampleDraw = plan.exampleDraws[b]!;
    const seedDraw = plan.seedDraws[b]!;
    let total = 0;
    for (let s = 0; s < seedDraw.length; s++) {
      const scores = sorted[seedDraw[s]!]!.scores;
      let sum = 0;
      for (let i = 0; i < exampleDraw.length; i++) sum += scores[exampleDraw[i]!]!;
      total += sum / exampleDraw.length;
    }
    out[b] = total / seedDraw.length;
  }
  return out;
}

export function percentileInterval(distribution: ArrayLike<number>, level = 0.95): { lo: number; hi: number } {
  const sorted = Array.from(distribution).sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { lo: quantileSorted(sorted, tail), hi: quantileSorted(sorted, 1 - tail) };
}

/** 95% percentile interval of a cell's mean from the paired bootstrap. */
export function bootstrapInterval(runs: readonly SeedScores[], plan: ResamplePlan, level = 0.95): Interval {
  return { ...percentileInterval(bootstrapMeans(runs, plan), level), kind: 'paired-bootstrap' };
}

/**
 * Is `other` statistically tied with `best`? The paired difference best - other (sign-adjusted for the
 * metric's direction) is bootstrapped with the shared plan; they are tied when the difference's 95% interval
 * reaches 0, i.e. the data cannot say that `best` is better.
 */
export function tiedWithBest(best: readonly SeedScores[], other: readonly SeedScores[], plan: ResamplePlan, direction: Direction, level = 0.95): boolean {
  const a = bootstrapMeans(best, plan);
  const b = bootstrapMeans(other, plan);
  const sign = direction === 'higher' ? 1 : -1;
  const diff = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) diff[i] = sign * (a[i]! - b[i]!);
  return percentileInterval(diff, level).lo <= 0;
}
