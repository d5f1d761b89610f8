import { defineMethod } from '../src/define.ts';
import { resolveLinears } from '../src/targets.ts';
import { loraHyperparameters } from '../lora/index.ts';
import { LoraAttachment } from '../lora/layer.ts';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

export default defineMethod({
  id: 'dora',
  title: 'DoRA',
  paper: { title: 'DoRA: Weight-Decomposed Low-Rank Adaptation', url: 'https://arxiv.org/abs/2402.09353', year: 2024 },
  family: 'low-rank',
  description:
    'DoRA splits each adapted weight into a magnitude and a direction: the direction W + B·A is updated by a LoRA ' +
    'update and normalised per output unit, and a trainable magnitude vector m (initialised to the column norms of W) ' +
    'rescales it, so y = m · (W + s·B·A)/||W + s·B·A|| · x. It trains A, B and m, starts as the pretrained function, and ' +
    'merges into W.',
  hyperparameters: loraHyperparameters,
  rankParam: 'r',
  rankMeaning: 'rank r',
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: true,
  conformance: async () => [{}, { init_lora_weights: 'pissa', r: 4, target_modules: ['q', 'k', 'up'] }],
  attach(model, config, ctx) {
    return new LoraAttachment({
      methodId: 'dora',
      model,
      ctx,
      targets: resolveLinears('dora', model, config.target_modules),
      r: config.r,
      alpha: config.lora_alpha,
      rslora: config.use_rslora,
      dropout: config.lora_dropout,
      init: config.init_lora_weights,
      dora: true,
      trainable: true,
      bias: config.bias,
    });
  },
});
