import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { baseAdapterConfig, readAdapterConfig, writeAdapter } from '../src/hf/adapter.ts';

export default defineMethod({
  id: 'none',
  title: 'Frozen base',
  paper: { title: 'Language Models are Unsupervised Multitask Learners', url: 'https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf', year: 2019 },
  family: 'baseline',
  description:
    'The frozen pretrained model with nothing trained: the floor every method should beat, and the reference for ' +
    'measuring forgetting. Evaluation uses the same prompts and decoding as every other method.',
  hyperparameters: z.object({}),
  rankParam: null,
  baseline: true,
  analysis: null, // reports no analysis
  atInference: 'in-place',
  identityAtInit: true,
  attach(model, _config, ctx) {
    return {
      trainable: new Map(),
      trainableCount: () => 0,
      save: (dir: string) => writeAdapter(dir, { ...baseAdapterConfig('NONE', model, ctx) }, new Map()),
      async load(dir: string) {
        const config = await readAdapterConfig(dir);
        if (config.peft_type !== 'NONE') throw new Error(`${dir}: peft_type ${JSON.stringify(config.peft_type)} is not "NONE"`);
      },
      detach: () => {},
    };
  },
});
