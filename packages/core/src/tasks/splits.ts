// Disjoint train/valid/test splits for generated tasks.
//
// Two guarantees, one mechanism each:
// - Every prompt has a home split fixed by a hash of its normalised text (10% test, 10% valid,
//   80% train), so no prompt can appear in two splits — whatever the seeds, sizes or knobs — and the
//   pretraining corpus (train region only) can never contain a valid or test prompt.
// - Each split draws from its own named RNG stream (test/valid from `evalSeed`, train from the run
//   seed) and drops repeats, so split sizes and seeds do not shift each other's examples.
import { fnv1a, mix32, Rng } from './rng.ts';
import type { Example, TaskSplits } from './types.ts';

export type SplitName = 'train' | 'valid' | 'test';

/** Lowercase, single spaces, trimmed: prompts equal under this are the same prompt. */
export function normalisePrompt(prompt: string): string {
  return prompt.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The only split a prompt may ever appear in. */
export function homeSplit(prompt: string): SplitName {
  const bucket = mix32(fnv1a(normalisePrompt(prompt))) % 100;
  if (bucket < 10) return 'test';
  if (bucket < 20) return 'valid';
  return 'train';
}

/** A generator draws one example (id is assigned later); null means "skip this draw". */
export type ExampleMaker = (rng: Rng) => Omit<Example, 'id'> | null;

/** Draw `count` distinct examples whose home split is `split`. */
export function drawSplit(
  taskId: string,
  split: SplitName,
  count: number,
  rng: Rng,
  make: ExampleMaker,
  maxDrawsPerExample = 400,
): Example[] {
  const seen = new Set<string>();
  const out: Example[] = [];
  const maxDraws = count * maxDrawsPerExample + 1000;
  for (let draws = 0; out.length < count; draws++) {
    if (draws >= maxDraws) {
      throw new Error(
        `Task '${taskId}': could only generate ${out.length} distinct ${split} examples of the ${count} asked for ` +
          `after ${maxDraws} draws; lower the '${split}' knob or widen the difficulty knobs.`,
      );
    }
    const drawn = make(rng);
    if (drawn === null) continue;
    const key = normalisePrompt(drawn.prompt);
    if (homeSplit(drawn.prompt) !== split || seen.has(key)) continue;
    seen.add(key);
    out.push({ id: `${taskId}-${split}-${out.length}`, ...drawn });
  }
  return out;
}

export function generateSplits(
  taskId: string,
  sizes: { train: number; valid: number; test: number; evalSeed: number },
  seed: number,
  make: ExampleMaker,
): TaskSplits {
  return {
    train: drawSplit(taskId, 'train', sizes.train, Rng.stream(seed, `${taskId}/train`), make),
    valid: drawSplit(taskId, 'valid', sizes.valid, Rng.stream(sizes.evalSeed, `${taskId}/valid`), make),
    test: drawSplit(taskId, 'test', sizes.test, Rng.stream(sizes.evalSeed, `${taskId}/test`), make),
  };
}
