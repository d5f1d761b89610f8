// How a task's predictions are made: greedy generation cut at the task's stop string, or the
// choice with the highest loglikelihood (lm-evaluation-harness's generate_until / multiple choice).
import type { Model } from '../model/model.ts';
import type { Example, TaskDef } from '../tasks/types.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { greedyDecode } from './greedy.ts';
import { scoreContinuations } from './score.ts';

/** Rows per forward pass in evaluation (decoding, label scoring). */
export const EVAL_BATCH = 16;

/** Predictions for each example: greedy generation or the most likely choice. */
export function predict(model: Model, tokenizer: Tokenizer, task: Pick<TaskDef, 'scoring'>, examples: readonly Example[], maxSeq: number): string[] {
  const bos = tokenizer.bosId !== undefined ? [tokenizer.bosId] : [];
  const scoring = task.scoring;
  if (scoring.kind === 'choice') {
    const continuations = scoring.choices.map((choice) => tokenizer.encode(choice));
    const longest = Math.max(...continuations.map((c) => c.length));
    return examples.map((example) => {
      const prompt = [...bos, ...tokenizer.encode(example.prompt)].slice(-(maxSeq - longest));
      const scores = scoreContinuations(model, prompt, continuations, { batchSize: EVAL_BATCH });
      let best = 0;
      for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
      return scoring.choices[best]!;
    });
  }
  const maxNew = Math.min(scoring.maxNewTokens, Math.max(1, maxSeq - 8));
  const predictions: string[] = [];
  for (let start = 0; start < examples.length; start += EVAL_BATCH) {
    const chunk = examples.slice(start, start + EVAL_BATCH);
    // Keep the end of a long prompt (its question), leaving room for the answer.
    const prompts = chunk.map((example) => [...bos, ...tokenizer.encode(example.prompt)].slice(-(maxSeq - maxNew)));
    const { tokens } = greedyDecode(model, prompts, { maxNewTokens: maxNew, eosId: tokenizer.eosId, padId: tokenizer.padId });
    for (const ids of tokens) {
      let text = tokenizer.decode(ids);
      if (scoring.stop) {
        const cut = text.indexOf(scoring.stop);
        if (cut >= 0) text = text.slice(0, cut);
      }
      predictions.push(text);
    }
  }
  return predictions;
}
