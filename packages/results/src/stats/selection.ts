// Choosing the configuration a method is reported with. The choice is made on the validation split and the
// chosen configuration is then reported on test, so a method with many configurations gains nothing from
// the test split's noise (selecting on test would report the maximum of that noise).
import type { Direction } from './summary.ts';

export interface Candidate<T = unknown> {
  /** Stable identity of the configuration (canonical config JSON). */
  key: string;
  /** Mean primary metric on valid over the configuration's seeds; null when no run has one. */
  valid: number | null;
  seeds: number;
  item: T;
}

export interface Selection<T> {
  chosen: Candidate<T>;
  /** How many configurations were searched (those with a validation score). */
  configs: number;
  selectedOn: 'valid';
}

/**
 * The candidate with the best validation score among those with the most seeds (that ended ok): a configuration run on
 * fewer seeds (a one-seed learning-rate grid beside a three-seed protocol run) competes only when none
 * has more, as the best of many one-seed validation scores is the most inflated and its test score the
 * least certain. Ties go to the smaller key, so the choice is deterministic and never looks at test; means
 * within VALID_TIE of each other are ties (the same seed scores summed in another order differ in the
 * last bits, and the site and the report must choose alike).
 * `configs` counts every configuration searched, the fewer-seed ones included.
 */
const VALID_TIE = 1e-9;

/** The order selectOnValid chooses in, for lists that show every candidate (the site): most seeds, best on valid, smaller key. */
export function compareOnValid(direction: Direction) {
  const sign = direction === 'higher' ? 1 : -1;
  return (a: Pick<Candidate<unknown>, 'key' | 'valid' | 'seeds'>, b: Pick<Candidate<unknown>, 'key' | 'valid' | 'seeds'>): number => {
    if (a.seeds !== b.seeds) return b.seeds - a.seeds;
    const better = sign * ((b.valid as number) - (a.valid as number));
    return Math.abs(better) > VALID_TIE ? better : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  };
}

export function selectOnValid<T>(candidates: readonly Candidate<T>[], direction: Direction): Selection<T> | null {
  const scored = candidates.filter((c) => c.valid !== null && Number.isFinite(c.valid));
  if (scored.length === 0) return null;
  const mostSeeds = Math.max(...scored.map((c) => c.seeds));
  const sorted = scored.filter((c) => c.seeds === mostSeeds).sort(compareOnValid(direction));
  return { chosen: sorted[0]!, configs: scored.length, selectedOn: 'valid' };
}
