// Small statistics helpers, pure and deterministic.
import { isBetter, type Direction } from './metrics.ts';

// Means and sample spreads are the results package's, so the leaderboard and its statistics agree.
export { mean, sampleStd } from '../stats/summary.ts';

export interface ParetoInput {
  cost: number;
  score: number;
}

/**
 * Marks the Pareto frontier: a point is on it when no other point has cost <= its cost and a score at least
 * as good, with one of the two strictly better. Returns one flag per input point, in input order.
 */
export function paretoFrontier(points: readonly ParetoInput[], direction: Direction): boolean[] {
  return points.map((p, i) =>
    !points.some((q, j) => {
      if (i === j) return false;
      const scoreAsGood = q.score === p.score || isBetter(direction, q.score, p.score);
      const strictly = q.cost < p.cost || isBetter(direction, q.score, p.score);
      return q.cost <= p.cost && scoreAsGood && strictly;
    }),
  );
}

/** JSON with object keys sorted at every level, so equal configs always give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}
