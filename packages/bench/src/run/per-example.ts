// Per-example test scores for a record (paired bootstrap intervals need them): each test example is
// scored on its own by the task's scorer, so the scores' mean is the task's own metric.
import { createHash } from 'node:crypto';
import type { Example, TaskDef } from '@peft-bench/core/tasks/index';
import type { RunRecord } from '@peft-bench/results/record/schema';

type TestExamples = NonNullable<RunRecord['test_examples']>;

/** sha256 (first 16 hex) of the examples' ids and prompts in order: records with equal hashes pair up. */
export function exampleIdsHash(examples: readonly Example[]): string {
  return createHash('sha256')
    .update(JSON.stringify(examples.map((example) => [example.id, example.prompt])))
    .digest('hex')
    .slice(0, 16);
}

/** Compact scores: '0'/'1' characters when every score is 0 or 1, else numbers rounded to 4 decimals. */
export function encodeScores(values: readonly number[]): string | number[] {
  if (values.every((value) => value === 0 || value === 1)) return values.join('');
  return values.map((value) => Math.round(value * 1e4) / 1e4);
}

export async function perExampleScores(
  task: Pick<TaskDef, 'score'>,
  predictions: readonly string[],
  examples: readonly Example[],
): Promise<TestExamples> {
  const byMetric = new Map<string, number[]>();
  for (const [i, example] of examples.entries()) {
    const scores = await task.score([predictions[i]!], [example]);
    for (const [name, value] of Object.entries(scores)) {
      const list = byMetric.get(name) ?? [];
      list.push(value);
      byMetric.set(name, list);
    }
  }
  const scores: TestExamples['scores'] = {};
  for (const [name, values] of byMetric) if (values.length === examples.length) scores[name] = encodeScores(values);
  return { n: examples.length, ids_hash: exampleIdsHash(examples), scores };
}
