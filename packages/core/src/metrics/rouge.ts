// ROUGE-1/2/L F1 with the standard definitions, tokenised like Google's rouge-score without
// stemming: lowercase, every run of non-[a-z0-9] characters is a separator.
// ROUGE-N: clipped n-gram overlap; P = overlap / candidate n-grams, R = overlap / reference n-grams.
// ROUGE-L: sentence-level LCS; P = LCS / candidate length, R = LCS / reference length.
// F1 = 2PR / (P + R), and 0 when either side is empty.

export interface RougeScores {
  rouge1: number;
  rouge2: number;
  rougeL: number;
}

export function rougeTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(' ')
    .filter((token) => token.length > 0);
}

function f1(overlap: number, candidateCount: number, referenceCount: number): number {
  if (overlap === 0 || candidateCount === 0 || referenceCount === 0) return 0;
  const precision = overlap / candidateCount;
  const recall = overlap / referenceCount;
  return (2 * precision * recall) / (precision + recall);
}

function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const gram = tokens.slice(i, i + n).join(' ');
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

export function rougeN(candidate: string[], reference: string[], n: number): number {
  const cand = ngramCounts(candidate, n);
  const ref = ngramCounts(reference, n);
  let overlap = 0;
  for (const [gram, count] of cand) overlap += Math.min(count, ref.get(gram) ?? 0);
  return f1(overlap, Math.max(candidate.length - n + 1, 0), Math.max(reference.length - n + 1, 0));
}

export function lcsLength(a: string[], b: string[]): number {
  // One row of the classic DP table: O(|a||b|) time, O(|b|) memory.
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = a[i - 1] === b[j - 1] ? diagonal + 1 : Math.max(row[j], row[j - 1]);
      diagonal = above;
    }
  }
  return row[b.length];
}

export function rougeL(candidate: string[], reference: string[]): number {
  return f1(lcsLength(candidate, reference), candidate.length, reference.length);
}

/** ROUGE of one candidate against one reference (F1 for each). */
export function rouge(candidate: string, reference: string): RougeScores {
  const cand = rougeTokenize(candidate);
  const ref = rougeTokenize(reference);
  return { rouge1: rougeN(cand, ref, 1), rouge2: rougeN(cand, ref, 2), rougeL: rougeL(cand, ref) };
}

/** Several references: each metric takes its maximum over the references (rouge-score's score_multi). */
export function rougeMultiRef(candidate: string, references: readonly string[]): RougeScores {
  if (references.length === 0) throw new Error('rougeMultiRef: no reference given');
  const best: RougeScores = { rouge1: 0, rouge2: 0, rougeL: 0 };
  for (const reference of references) {
    const scores = rouge(candidate, reference);
    best.rouge1 = Math.max(best.rouge1, scores.rouge1);
    best.rouge2 = Math.max(best.rouge2, scores.rouge2);
    best.rougeL = Math.max(best.rougeL, scores.rougeL);
  }
  return best;
}

/** Corpus ROUGE: the mean over examples of each example's (multi-reference) F1. */
export function meanRouge(candidates: readonly string[], references: readonly (readonly string[])[]): RougeScores {
  if (candidates.length !== references.length) {
    throw new Error(`meanRouge: ${candidates.length} candidates but ${references.length} reference lists`);
  }
  const total: RougeScores = { rouge1: 0, rouge2: 0, rougeL: 0 };
  if (candidates.length === 0) return total;
  for (let i = 0; i < candidates.length; i++) {
    const scores = rougeMultiRef(candidates[i], references[i]);
    total.rouge1 += scores.rouge1;
    total.rouge2 += scores.rouge2;
    total.rougeL += scores.rougeL;
  }
  return {
    rouge1: total.rouge1 / candidates.length,
    rouge2: total.rouge2 / candidates.length,
    rougeL: total.rougeL / candidates.length,
  };
}
