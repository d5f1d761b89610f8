// Exact-match style metrics over whole strings.

/** Share of predictions equal to their target after trimming surrounding whitespace. */
export function accuracy(predictions: readonly string[], targets: readonly string[]): number {
  checkAligned(predictions, targets);
  if (predictions.length === 0) return 0;
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i].trim() === targets[i].trim()) correct++;
  return correct / predictions.length;
}

export function meanScore(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let total = 0;
  for (const value of values) total += value;
  return total / values.length;
}

export function checkAligned(predictions: readonly unknown[], examples: readonly unknown[]): void {
  if (predictions.length !== examples.length) {
    throw new Error(`Got ${predictions.length} predictions for ${examples.length} examples; they must align one to one.`);
  }
}
