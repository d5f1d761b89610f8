// Words for the subspace-similarity figures, computed from the aggregated grids (never written by hand).
import type { SubspaceGroup } from '@peft-bench/results/aggregate/index';

/** "r=8" for an adapter of a known rank; the update a run trained itself is named as such. */
export function sideName(label: string, rank: number): string {
  return label === 'trained update' ? `trained r=${rank} update` : `r=${rank}`;
}

/** The corner of the grid: φ(widest i, widest j), i.e. how much of the first update's subspace the second holds. */
export function fullOverlap(g: SubspaceGroup): { i: number; j: number; phi: number } | null {
  const { is, js, phi } = g.mean;
  if (is.length === 0 || js.length === 0) return null;
  return { i: is[is.length - 1]!, j: js[js.length - 1]!, phi: phi[is.length - 1]![js.length - 1]! };
}

/**
 * φ for random subspaces of widths i and j in n dimensions: E‖U_iᵀU_j‖²_F = i·j/n, so φ ≈ max(i, j)/n.
 * Null when the output dimension is not known.
 */
export function chanceLevel(i: number, j: number, n: number | null): number | null {
  return n === null || n <= 0 ? null : Math.min(1, Math.max(i, j) / n);
}

/**
 * One sentence: φ at the grid's corner, what it means, and how it compares with random subspaces, e.g.
 * "φ(8, 64) = 0.93: 93% of the r=8 update's output subspace lies inside the r=64 update's top 64
 * directions, well above the 0.50 two random subspaces of these sizes share in 128 dimensions."
 */
export function subspaceReading(g: SubspaceGroup): string {
  const corner = fullOverlap(g);
  if (corner === null) return 'No widths are shared by every run, so there is no grid to read.';
  const { i, j, phi } = corner;
  const small = sideName(g.small, g.smallRank);
  const large = sideName(g.large, g.largeRank);
  const space = g.vectors === 'left' ? 'output subspace' : 'subspace';
  const head = `φ(${i}, ${j}) = ${phi.toFixed(2)}: ${Math.round(phi * 100)}% of the ${small} update's ${space} lies inside the ${large} update's top ${j} directions`;
  const chance = chanceLevel(i, j, g.outDim);
  if (chance === null) return `${head}.`;
  const gap = phi - chance;
  const compared = gap > 0.1 ? 'well above' : gap > 0.03 ? 'above' : gap >= -0.03 ? 'about' : 'below';
  return `${head}, ${compared} the ${chance.toFixed(2)} two random subspaces of these sizes share in ${g.outDim} dimensions.`;
}
