import { z } from 'zod';
import { outlierIndices } from '@peft-bench/core/analysis/norms';
import { defineMethod } from '../src/define.ts';
import { resolveNorms } from '../src/targets.ts';
import { normTuning } from '../ln/layer.ts';
import { normTargets } from '../ln/index.ts';
import { hostCopy } from '../src/tensors.ts';

export const sparseNormHyperparameters = z.object({
  n: z.number().int().min(1).max(65536).default(16).describe('Gain entries tuned per norm layer (the study uses 4, 16, 64, 256).'),
  target_modules: normTargets,
});

export default defineMethod({
  id: 'ln-outlier',
  title: 'LN outlier tuning',
  paper: { title: 'Outlier Dimensions that Disrupt Transformers Are Driven by Frequency', url: 'https://arxiv.org/abs/2205.11380', year: 2022 },
  family: 'selective',
  description:
    'Tunes only the n LayerNorm gain entries per layer that lie farthest from that layer’s mean gain — the "outlier" ' +
    'dimensions that pretrained transformers are known to develop — and nothing else. Compared with ln-random at the ' +
    'same n, it asks whether those few dimensions carry more of the adaptation than any n others.',
  hyperparameters: sparseNormHyperparameters,
  rankParam: 'n',
  identityAtInit: true,
  conformance: async () => [{ n: 4 }, { n: 16, target_modules: ['ln2'] }],
  attach(model, config, ctx) {
    const norms = resolveNorms('ln-outlier', model, config.target_modules);
    const selection = new Map<string, number[]>();
    for (const norm of norms) {
      if (config.n > norm.dim) throw new Error(`method 'ln-outlier': n=${config.n} exceeds ${norm.name}'s width ${norm.dim}; choose n <= ${norm.dim}`);
      selection.set(norm.name, outlierIndices(hostCopy(norm.weight), config.n));
    }
    return normTuning({ methodId: 'ln-outlier', model, ctx, norms, selection, extraConfig: { selection: { kind: 'outlier', n: config.n } } });
  },
});
