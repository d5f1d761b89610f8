import { describe, expect, it } from 'vitest';
import { discriminability } from '../src/index.ts';

describe('discriminability', () => {
  it('measures the spread of method means against the pooled seed noise', () => {
    const d = discriminability([
      { method: 'a', values: [0.5, 0.6, 0.7] }, // mean 0.6, sd 0.1
      { method: 'b', values: [0.1, 0.2, 0.3] }, // mean 0.2, sd 0.1
      { method: 'c', values: [0.55, 0.6, 0.65] }, // mean 0.6, sd 0.05
    ]);
    expect(d.methods).toBe(3);
    expect(d.best).toBe('a');
    expect(d.worst).toBe('b');
    expect(d.spread).toBeCloseTo(0.4, 12);
    // Pooled over 2 + 2 + 2 degrees of freedom: sqrt((2 x 0.01 + 2 x 0.01 + 2 x 0.0025) / 6).
    expect(d.pooled_sd).toBeCloseTo(Math.sqrt(0.045 / 6), 12);
    expect(d.ratio).toBeCloseTo(0.4 / Math.sqrt(0.045 / 6), 9);
    // LSD = t(0.975, 6) x pooled_sd x sqrt(2/3) = 2.447 x 0.0866 x 0.8165 = 0.173: a-b and c-b differ, a-c do not.
    expect(d.pairs).toBe(3);
    expect(d.separable_pairs).toBe(2);
  });

  it('finds no separable pair when every method scores the same up to noise (the fixed-300 symptom)', () => {
    const d = discriminability([
      { method: 'lora', values: [0.05, 0.1, 0.15] },
      { method: 'dora', values: [0.08, 0.1, 0.12] },
      { method: 'ln', values: [0.06, 0.09, 0.12] },
    ]);
    expect(d.spread).toBeCloseTo(0.01, 12);
    expect(d.separable_pairs).toBe(0);
    expect(d.ratio!).toBeLessThan(0.5);
  });

  it('counts a small difference as separable when the seeds agree closely', () => {
    const d = discriminability([
      { method: 'lora', values: [0.099, 0.1, 0.101] },
      { method: 'ln', values: [0.074, 0.075, 0.076] },
    ]);
    expect(d.separable_pairs).toBe(1);
  });

  it('cannot judge significance from one seed per method, and handles zero noise and empty input', () => {
    const one = discriminability([{ method: 'a', values: [0.4] }, { method: 'b', values: [0.3] }]);
    expect([one.spread, one.pooled_sd, one.ratio, one.pairs, one.separable_pairs]).toEqual([0.10000000000000003, null, null, 1, null]);
    const exact = discriminability([{ method: 'a', values: [0.4, 0.4] }, { method: 'b', values: [0.3, 0.3] }, { method: 'c', values: [0.3, 0.3] }]);
    expect([exact.pooled_sd, exact.ratio, exact.separable_pairs]).toEqual([0, null, 2]);
    expect(discriminability([])).toMatchObject({ methods: 0, spread: null, pairs: 0, separable_pairs: null });
    expect(discriminability([{ method: 'a', values: [] }, { method: 'b', values: [Number.NaN] }]).methods).toBe(0);
  });
});
