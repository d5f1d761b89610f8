import { defineMethod } from '../src/define.ts';
import { resolveNorms } from '../src/targets.ts';
import { normTuning } from '../ln/layer.ts';
import { sparseNormHyperparameters } from '../ln-outlier/index.ts';
import { streamSeed } from '../src/tensors.ts';
import { uniformStream } from '@peft-bench/core/model/rng';

/** k distinct indices of 0..n-1 drawn with a seeded partial Fisher-Yates shuffle, sorted. */
export function randomIndices(n: number, k: number, seed: number): number[] {
  const next = uniformStream(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(next() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

export default defineMethod({
  id: 'ln-random',
  title: 'LN random tuning',
  paper: { title: 'Outlier Dimensions that Disrupt Transformers Are Driven by Frequency', url: 'https://arxiv.org/abs/2205.11380', year: 2022 },
  family: 'selective',
  description:
    'The control for ln-outlier: tunes n LayerNorm gain entries per layer chosen at random (with the run’s seed) ' +
    'instead of the outliers. Same parameter count, same mechanism; any gap between the two is what the outlier ' +
    'dimensions add.',
  hyperparameters: sparseNormHyperparameters,
  rankParam: 'n',
  identityAtInit: true,
  conformance: async () => [{ n: 16 }],
  attach(model, config, ctx) {
    const norms = resolveNorms('ln-random', model, config.target_modules);
    const selection = new Map<string, number[]>();
    for (const norm of norms) {
      if (config.n > norm.dim) throw new Error(`method 'ln-random': n=${config.n} exceeds ${norm.name}'s width ${norm.dim}; choose n <= ${norm.dim}`);
      selection.set(norm.name, randomIndices(norm.dim, config.n, streamSeed(ctx.seed, `ln-random.${norm.name}`)));
    }
    return normTuning({ methodId: 'ln-random', model, ctx, norms, selection, extraConfig: { selection: { kind: 'random', n: config.n, seed: ctx.seed } } });
  },
});
