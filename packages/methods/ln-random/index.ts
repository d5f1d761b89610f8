import { defineMethod } from '../src/define.ts';
import { resolveNorms } from '../src/targets.ts';
import { checkNormCapacity, normTuning, normWeightCount, splitEntries, type NormSelection } from '../ln/layer.ts';
import { sparseNormHyperparameters } from '../ln-outlier/index.ts';
import { streamSeed } from '../src/tensors.ts';
import { uniformStream } from '@peft-bench/core/model/rng';
import { normAnalysisSchema } from '@peft-bench/results/analysis-schema';

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
    'The control for ln-outlier: tunes n weights per norm layer drawn at random (with the run’s seed) from its gain ' +
    'and bias entries together, instead of the outliers. Same parameter count, same mechanism; any gap between the ' +
    'two is what the outlier dimensions add.',
  hyperparameters: sparseNormHyperparameters,
  rankParam: 'n',
  rankMeaning: 'n tuned weights',
  lrScale: 2, // as ln-outlier, its control
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: normAnalysisSchema,
  atInference: 'in-place',
  identityAtInit: true,
  conformance: async ({ model }) => [{ n: 16 }, { n: normWeightCount(model.norms()[0]!) }],
  attach(model, config, ctx) {
    const norms = resolveNorms('ln-random', model, config.target_modules);
    const selection = new Map<string, NormSelection>();
    for (const norm of norms) {
      checkNormCapacity('ln-random', norm, config.n);
      // Entries 0..d-1 are the gain, d..2d-1 the bias (LayerNorm only).
      selection.set(norm.name, splitEntries(randomIndices(normWeightCount(norm), config.n, streamSeed(ctx.seed, `ln-random.${norm.name}`)), norm.dim));
    }
    return normTuning({ methodId: 'ln-random', model, ctx, norms, selection, extraConfig: { selection: { kind: 'random', n: config.n, seed: ctx.seed, pool: 'weight+bias' } } });
  },
});
