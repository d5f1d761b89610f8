// Unlabelled text for pretraining the default base model, made by the synthetic task generators.
//
// No valid or test prompt can be in it, for any seed or knob setting: documents come from their own
// RNG streams ('corpus/<task>'), and only prompts whose hash-assigned home split is 'train' are
// kept (see splits.ts), so any text equal to a valid/test prompt is dropped by construction.
// Documents are prompts only by default (see `targets`): the base model learns the language of the
// tasks, and fine-tuning has to teach the mapping from prompts to targets.
import { Rng } from './rng.ts';
import { homeSplit, normalisePrompt } from './splits.ts';
import { makeMathExample, mathKnobs } from './math.ts';
import { makeNliExample, nliKnobs } from './nli.ts';
import { makeSqlExample, sqlKnobs } from './sql.ts';
import { makeSummarizeExample, summarizeKnobs } from './summarize.ts';
import type { Example } from './types.ts';

type Maker = (rng: Rng) => Omit<Example, 'id'> | null;

const MAKERS: Record<string, Maker> = {
  sql: (rng) => makeSqlExample(sqlKnobs.parse({ rowsInPrompt: rng.chance(0.3) }), rng),
  nli: (rng) => makeNliExample(nliKnobs.parse({}), rng),
  summarize: (rng) => makeSummarizeExample(summarizeKnobs.parse({}), rng),
  // Every difficulty the benchmark uses, so the base model has seen long problems too.
  math: (rng) => makeMathExample(mathKnobs.parse({ steps: rng.int(1, 6), distractors: rng.int(0, 1) }), rng),
};

export const CORPUS_TASKS = Object.keys(MAKERS);

export interface CorpusOptions {
  seed: number;
  /** Number of documents (split evenly over the tasks, in turn). */
  documents: number;
  /** Which synthetic tasks to draw from (default all). */
  tasks?: string[];
  /**
   * What becomes of each example's target: 'none' (default: prompts only), 'appended' (prompt + target,
   * labelled text) or 'separate' (the target as a document of its own, so the corpus has the language
   * of prompts and targets but never the mapping from one to the other).
   */
  targets?: 'none' | 'appended' | 'separate';
}

export function pretrainCorpus({ seed, documents, tasks = CORPUS_TASKS, targets = 'none' }: CorpusOptions): string[] {
  if (!Number.isInteger(documents) || documents < 0) throw new Error(`pretrainCorpus: documents must be a non-negative integer, got ${documents}`);
  for (const task of tasks) {
    if (!MAKERS[task]) throw new Error(`pretrainCorpus: unknown task '${task}'. Valid: ${CORPUS_TASKS.join(', ')}`);
  }
  const streams = tasks.map((task) => ({ make: MAKERS[task], rng: Rng.stream(seed, `corpus/${task}`) }));
  const seen = new Set<string>();
  const out: string[] = [];
  let misses = 0;
  for (let i = 0; out.length < documents; i++) {
    const { make, rng } = streams[i % streams.length];
    const example = make(rng);
    const key = example ? normalisePrompt(example.prompt) : '';
    if (example === null || homeSplit(example.prompt) !== 'train' || seen.has(key)) {
      if (++misses > documents * 50 + 10_000) throw new Error(`pretrainCorpus: could not make ${documents} distinct documents`);
      continue;
    }
    seen.add(key);
    if (targets === 'appended') out.push(example.prompt + example.target);
    else {
      out.push(example.prompt);
      // Kept as it follows a prompt, leading space included, so the tokens that start an answer
      // (" SELECT", " entailment") are tokens the base model knows.
      if (targets === 'separate' && out.length < documents) out.push(example.target);
    }
  }
  return out;
}
