// Selecting on test rewards a method for having many configurations; selecting on valid does not.
// Simulated: method A has 20 configurations whose scores are pure noise around the same true accuracy as
// method B's single configuration. Each configuration's valid and test scores are independent draws.
import { describe, expect, it } from 'vitest';
import { selectOnValid, seededRandom, type Candidate } from '../src/index.ts';

const TRUE_ACCURACY = 0.5;
const EXAMPLES = 200;
const TRIALS = 400;

function binomialAccuracy(random: () => number): number {
  let correct = 0;
  for (let i = 0; i < EXAMPLES; i++) if (random() < TRUE_ACCURACY) correct++;
  return correct / EXAMPLES;
}

interface Scored {
  test: number;
}

function configs(count: number, random: () => number): Candidate<Scored>[] {
  return Array.from({ length: count }, (_, i) => ({ key: `c${i}`, valid: binomialAccuracy(random), seeds: 1, item: { test: binomialAccuracy(random) } }));
}

function simulate(select: (cands: Candidate<Scored>[]) => Candidate<Scored>): number {
  const random = seededRandom(1234);
  let manyWins = 0;
  for (let t = 0; t < TRIALS; t++) {
    const many = select(configs(20, random));
    const one = select(configs(1, random));
    if (many.item.test > one.item.test) manyWins++;
  }
  return manyWins / TRIALS;
}

// With no real difference, "A beats B" happens at most half the time (ties count as not beating);
// three binomial standard errors above 0.5 is what chance allows.
const CHANCE_LIMIT = 0.5 + 3 * Math.sqrt(0.25 / TRIALS);

describe('selection of a reported configuration', () => {
  it('on valid: 20 noise configurations do not beat one configuration more often than chance allows', () => {
    const rate = simulate((cands) => selectOnValid(cands, 'higher')!.chosen);
    expect(rate).toBeLessThan(CHANCE_LIMIT);
    expect(rate).toBeGreaterThan(0.5 - 3 * Math.sqrt(0.25 / TRIALS) - 0.05);
  });

  it('on test (the biased protocol): 20 noise configurations win almost always', () => {
    const rate = simulate((cands) => [...cands].sort((a, b) => b.item.test - a.item.test)[0]!);
    expect(rate).toBeGreaterThan(0.9);
  });

  it('reports how many configurations were searched and never looks at test', () => {
    const cands: Candidate<Scored>[] = [
      { key: 'b', valid: 0.6, seeds: 3, item: { test: 0.1 } },
      { key: 'a', valid: 0.6, seeds: 3, item: { test: 0.9 } },
      { key: 'c', valid: null, seeds: 0, item: { test: 1 } },
      { key: 'd', valid: 0.6, seeds: 2, item: { test: 0.95 } },
    ];
    const selection = selectOnValid(cands, 'higher')!;
    expect(selection.configs).toBe(3);
    expect(selection.selectedOn).toBe('valid');
    // Equal valid: more seeds first, then the smaller key; test plays no part.
    expect(selection.chosen.key).toBe('a');
    expect(selectOnValid(cands, 'lower')!.chosen.key).toBe('a');
    expect(selectOnValid([], 'higher')).toBeNull();
  });

  it('chooses among the configurations with the most seeds: a better one-seed validation score does not displace them', () => {
    const cands: Candidate<Scored>[] = [
      { key: 'protocol', valid: 0.55, seeds: 3, item: { test: 0.5 } },
      { key: 'protocol-r64', valid: 0.5, seeds: 3, item: { test: 0.6 } },
      { key: 'lr-x4', valid: 0.62, seeds: 1, item: { test: 0.7 } },
    ];
    const selection = selectOnValid(cands, 'higher')!;
    expect(selection.chosen.key).toBe('protocol');
    expect(selection.configs).toBe(3);
    expect(selectOnValid(cands, 'lower')!.chosen.key).toBe('protocol-r64');
    // With no configuration on more seeds, the one-seed ones compete as before.
    expect(selectOnValid(cands.filter((c) => c.seeds === 1), 'higher')!.chosen.key).toBe('lr-x4');
  });
  it('treats validation means equal but for the last bits as a tie, broken by the smaller key', () => {
    // The same three seed scores summed in two orders differ in the last bits.
    const a = (0.1 + 0.2 + 0.3) / 3;
    const b = (0.3 + 0.2 + 0.1) / 3;
    expect(a).not.toBe(b);
    const cands = (va: number, vb: number): Candidate<null>[] => [
      { key: 'bottleneck-8', valid: va, seeds: 3, item: null },
      { key: 'bottleneck-16', valid: vb, seeds: 3, item: null },
    ];
    expect(selectOnValid(cands(a, b), 'higher')!.chosen.key).toBe('bottleneck-16');
    expect(selectOnValid(cands(b, a), 'higher')!.chosen.key).toBe('bottleneck-16');
    // A real difference still decides.
    expect(selectOnValid(cands(0.21, 0.2), 'higher')!.chosen.key).toBe('bottleneck-8');
  });
});
