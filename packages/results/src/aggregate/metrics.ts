// Metric direction, declared once. "Best" configurations, Pareto frontiers and the site's table arrows all
// read it from here, so a lower-is-better metric can never be ranked the wrong way round in one place only.

export type Direction = 'higher' | 'lower';

export interface MetricInfo {
  direction: Direction;
  description: string;
}

/** Metrics the tasks report. A task's primary metric should appear here. */
export const METRICS: Readonly<Record<string, MetricInfo>> = Object.freeze({
  exec_acc: { direction: 'higher', description: 'execution accuracy: predicted SQL returns the same result set as the gold query' },
  exact_match: { direction: 'higher', description: 'exact match of the normalised answer' },
  acc: { direction: 'higher', description: 'accuracy' },
  accuracy: { direction: 'higher', description: 'accuracy' },
  f1: { direction: 'higher', description: 'F1 score' },
  rouge1: { direction: 'higher', description: 'ROUGE-1 F-measure (unigram overlap)' },
  rouge2: { direction: 'higher', description: 'ROUGE-2 F-measure (bigram overlap)' },
  rougeL: { direction: 'higher', description: 'ROUGE-L F-measure (longest common subsequence)' },
  bleu: { direction: 'higher', description: 'BLEU' },
  loss: { direction: 'lower', description: 'cross-entropy loss' },
  perplexity: { direction: 'lower', description: 'perplexity' },
});

/** Names that mean lower-is-better when a metric is not in the table above. */
const LOWER_IS_BETTER = /(loss|perplexity|ppl|error|err_rate|wer|cer|mse|mae)/i;

/** The direction of any metric: from the table, else inferred from its name (`known: false` then). */
export function metricInfo(name: string): MetricInfo & { known: boolean } {
  const declared = METRICS[name];
  if (declared) return { ...declared, known: true };
  const direction: Direction = LOWER_IS_BETTER.test(name) ? 'lower' : 'higher';
  return { direction, description: `${name} (not declared; assumed ${direction} is better)`, known: false };
}

/** True when `a` is strictly better than `b` under `direction`. */
export function isBetter(direction: Direction, a: number, b: number): boolean {
  return direction === 'higher' ? a > b : a < b;
}

/** True when `value` is within `fraction` (0.95 = 95%) of `best`, measured from the best towards worse. */
export function isWithin(direction: Direction, value: number, best: number, fraction: number): boolean {
  const slack = (1 - fraction) * Math.abs(best);
  return direction === 'higher' ? value >= best - slack : value <= best + slack;
}
