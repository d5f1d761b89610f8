// The task contract (lm-evaluation-harness style): a prompt template, a target, metrics with a
// direction, one primary metric, and how predictions are produced (greedy generation or
// loglikelihood choice among fixed continuations).
import type { z } from 'zod';

export interface Example {
  id: string;
  prompt: string;
  /** The continuation the model is trained to produce; starts with a space (lm-eval's target delimiter). */
  target: string;
  /** Extra fields scoring needs (schema + rows for sql, references for summaries, answer N for math). */
  meta?: Record<string, unknown>;
}

export interface MetricDef {
  name: string;
  direction: 'higher' | 'lower';
  description: string;
}

export interface TaskSplits {
  train: Example[];
  valid: Example[];
  test: Example[];
}

export type TaskScoring =
  /** Greedy decoding of up to maxNewTokens, cut at `stop` (exclusive) when given. */
  | { kind: 'generate'; maxNewTokens: number; stop?: string }
  /** The prediction is the choice with the highest loglikelihood after the prompt. */
  | { kind: 'choice'; choices: string[] };

export interface LoadOptions<K> {
  /** Run seed: picks the training examples. Valid/test come from the `evalSeed` knob where a task has one. */
  seed: number;
  knobs?: Partial<K>;
  /** Data directory for real-tier tasks (default: PEFT_BENCH_DATA_DIR, else <repo>/data). */
  dataDir?: string;
}

export interface TaskDef<K = Record<string, unknown>> {
  id: string;
  title: string;
  tier: 'synthetic' | 'real';
  family: 'simple' | 'reasoning';
  description: string;
  /** Shown on the site; `{field}` placeholders name the example's parts. */
  promptTemplate: string;
  /** Difficulty knobs and split sizes, each with a default and a description. */
  knobs: z.ZodType<K>;
  metrics: MetricDef[];
  primaryMetric: string;
  scoring: TaskScoring;
  /**
   * Token limits of the task beyond the model's context: prompts longer than `context` keep their
   * end; examples whose target is longer than `target` are excluded (and counted). Optional.
   */
  maxLengths?: { context?: number; target?: number };
  load(opts: LoadOptions<K>): Promise<TaskSplits>;
  /** Every metric in `metrics`, each in 0..1 (ROUGE as F1). Predictions align with examples. */
  score(predictions: string[], examples: Example[]): Promise<Record<string, number>>;
}
