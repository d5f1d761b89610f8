import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { resolveNorms } from '../src/targets.ts';
import { checkNormCapacity, normTuning, normWeightCount, splitEntries, type NormSelection } from '../ln/layer.ts';
import type { Norm } from '@peft-bench/core/model/modules';
import { normTargets } from '../ln/index.ts';
import { hostCopy } from '../src/tensors.ts';
import { normAnalysisSchema } from '@peft-bench/results/analysis-schema';

export const sparseNormHyperparameters = z.object({
  n: z
    .number().int().min(1).max(65536).default(16)
    .describe('Weights tuned per norm layer, chosen among its gain and bias entries together (2d for LayerNorm, d for RMSNorm); the study uses 4, 16, 64, 256.'),
  target_modules: normTargets,
});

/**
 * The n entries of a norm layer farthest from the mean of their own vector: |g_i − mean(g)| for
 * gain entries, |b_i − mean(b)| for bias entries, ranked together. Ties: gain before bias, then
 * lower index. Entries are numbered gain 0..d−1, bias d..2d−1; returned largest deviation first.
 */
export function outlierEntries(weight: ArrayLike<number>, bias: ArrayLike<number> | null, n: number): number[] {
  const deviations = (xs: ArrayLike<number>) => {
    const arr = Array.from(xs);
    const mean = arr.reduce((a, x) => a + x, 0) / arr.length;
    return arr.map((x) => Math.abs(x - mean));
  };
  const scores = [...deviations(weight), ...(bias ? deviations(bias) : [])];
  if (!(Number.isInteger(n) && n >= 1 && n <= scores.length)) throw new Error(`outlierEntries: n=${n} must be an integer in 1..${scores.length}`);
  return scores
    .map((score, entry) => ({ score, entry }))
    .sort((a, b) => b.score - a.score || a.entry - b.entry)
    .slice(0, n)
    .map((e) => e.entry);
}

export function outlierSelection(norm: Norm, n: number): NormSelection {
  return splitEntries(outlierEntries(hostCopy(norm.weight), norm.bias ? hostCopy(norm.bias) : null, n), norm.dim);
}

export default defineMethod({
  id: 'ln-outlier',
  title: 'LN outlier tuning',
  paper: { title: 'Outlier Dimensions that Disrupt Transformers Are Driven by Frequency', url: 'https://arxiv.org/abs/2205.11380', year: 2022 },
  family: 'selective',
  description:
    'Tunes only the n weights per norm layer that lie farthest from their mean — the "outlier" dimensions that ' +
    'pretrained transformers are known to develop — and nothing else. Gain and bias entries compete together ' +
    '(each measured against the mean of its own vector), so n = 2d tunes a whole LayerNorm, as ln does. Compared ' +
    'with ln-random at the same n, it asks whether those few weights carry more of the adaptation than any n others.',
  hyperparameters: sparseNormHyperparameters,
  rankParam: 'n',
  rankMeaning: 'n tuned weights',
  lrScale: 2, // it trains a few weights only
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: normAnalysisSchema,
  atInference: 'in-place',
  identityAtInit: true,
  // The last config tunes every weight of each layer (gain and bias): the end of the n sweep, equal to ln.
  conformance: async ({ model }) => [{ n: 4 }, { n: 16, target_modules: ['ln2'] }, { n: normWeightCount(model.norms()[0]!) }],
  attach(model, config, ctx) {
    const norms = resolveNorms('ln-outlier', model, config.target_modules);
    const selection = new Map<string, NormSelection>();
    for (const norm of norms) {
      checkNormCapacity('ln-outlier', norm, config.n);
      selection.set(norm.name, outlierSelection(norm, config.n));
    }
    return normTuning({ methodId: 'ln-outlier', model, ctx, norms, selection, extraConfig: { selection: { kind: 'outlier', n: config.n, pool: 'weight+bias' } } });
  },
});
