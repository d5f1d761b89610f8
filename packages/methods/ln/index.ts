import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { resolveNorms } from '../src/targets.ts';
import { normTuning } from './layer.ts';
import { normAnalysisSchema } from '@peft-bench/results/analysis-schema';

export const normTargets = z
  .array(z.string().min(1))
  .default(['ln1', 'ln2', 'ln_f'])
  .describe("Norm layers to tune: 'ln1', 'ln2' (per block), 'ln_f', or regexes over names like blocks.0.ln1.");

export default defineMethod({
  id: 'ln',
  title: 'LN tuning',
  paper: { title: 'Tuning LayerNorm in Attention: Towards Efficient Multi-Modal LLM Finetuning', url: 'https://arxiv.org/abs/2312.11420', year: 2023 },
  family: 'selective',
  description:
    'LN tuning trains only the normalisation layers: every LayerNorm gain and bias (RMSNorm gain on Llama-style models), ' +
    'a few thousand parameters even for large models. It starts as the pretrained model, folds into the weights, and ' +
    'tests how much task adaptation the norm layers alone can carry.',
  hyperparameters: z.object({ target_modules: normTargets }),
  rankParam: null,
  lrScale: 2, // it trains vectors only
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: normAnalysisSchema,
  atInference: 'in-place',
  identityAtInit: true,
  attach(model, config, ctx) {
    return normTuning({ methodId: 'ln', model, ctx, norms: resolveNorms('ln', model, config.target_modules), selection: null, extraConfig: {} });
  },
});
