import { describe, expect, it } from 'vitest';
import { bootstrapInterval, resamplePlan, seedOnlyInterval, seededRandom, tiedWithBest, type SeedScores } from '../src/index.ts';

function bernoulliRuns(p: number, seeds: number, examples: number, random: () => number): SeedScores[] {
  return Array.from({ length: seeds }, (_, seed) => ({ seed, scores: Array.from({ length: examples }, () => (random() < p ? 1 : 0)) }));
}

describe('paired bootstrap', () => {
  it('covers the true accuracy about 95% of the time', () => {
    const random = seededRandom(99);
    const plan = resamplePlan(200, 3, 400);
    const trials = 150;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const ci = bootstrapInterval(bernoulliRuns(0.3, 3, 200, random), plan);
      if (ci.lo <= 0.3 && 0.3 <= ci.hi) covered++;
    }
    const coverage = covered / trials;
    expect(coverage).toBeGreaterThan(0.88);
    expect(coverage).toBeLessThanOrEqual(1);
  });

  it('is deterministic and brackets the mean', () => {
    const runs = bernoulliRuns(0.6, 3, 200, seededRandom(5));
    const a = bootstrapInterval(runs, resamplePlan(200, 3, 500));
    const b = bootstrapInterval(runs, resamplePlan(200, 3, 500));
    expect(a).toEqual(b);
    const m = runs.flatMap((r) => r.scores).reduce((x, y) => x + y, 0) / 600;
    expect(a.lo).toBeLessThan(m);
    expect(a.hi).toBeGreaterThan(m);
    expect(a.kind).toBe('paired-bootstrap');
  });

  it('ties equal methods and separates clearly different ones, pairing over the same examples', () => {
    const random = seededRandom(11);
    const plan = resamplePlan(200, 3, 500);
    const best = bernoulliRuns(0.8, 3, 200, random);
    // Same answers on most examples (paired), a few flipped: tied.
    const near = best.map((r) => ({ seed: r.seed, scores: r.scores.map((s, i) => (i % 50 === 0 ? 1 - s : s)) }));
    const far = bernoulliRuns(0.5, 3, 200, random);
    expect(tiedWithBest(best, near, plan, 'higher')).toBe(true);
    expect(tiedWithBest(best, far, plan, 'higher')).toBe(false);
    // For a lower-is-better metric the roles flip.
    expect(tiedWithBest(far, best, plan, 'lower')).toBe(false);
  });

  it('refuses cells scored on different test examples', () => {
    const plan = resamplePlan(10, 1, 10);
    expect(() => bootstrapInterval([{ seed: 0, scores: [1, 0, 1] }], plan)).toThrow(/same test examples/);
  });
});

describe('seed-only interval', () => {
  it('is a t interval over seed means, and absent with one seed', () => {
    const ci = seedOnlyInterval([0.5, 0.6, 0.7])!;
    expect(ci.kind).toBe('seeds-only');
    expect(ci.lo).toBeCloseTo(0.6 - (4.303 * 0.1) / Math.sqrt(3), 6);
    expect(ci.hi).toBeCloseTo(0.6 + (4.303 * 0.1) / Math.sqrt(3), 6);
    expect(seedOnlyInterval([0.5])).toBeNull();
  });
});
