import { z } from 'zod';
import { join } from 'node:path';
import { defineMethod } from '../src/define.ts';
import { baseAdapterConfig, readAdapterConfig, readHostTensors, sortedJson, take, writeHostTensors } from '../src/hf/adapter.ts';
import { assignFrom, hostCopy } from '../src/tensors.ts';
import { mkdir, writeFile } from 'node:fs/promises';

export default defineMethod({
  id: 'full',
  title: 'Full fine-tuning',
  paper: { title: 'Universal Language Model Fine-tuning for Text Classification', url: 'https://arxiv.org/abs/1801.06146', year: 2018 },
  family: 'baseline',
  description:
    'Every weight of the model is trained: embeddings, attention and MLP matrices, norms and biases. It is the ' +
    'reference that parameter-efficient methods try to match, at the cost of optimizer state and a full copy of ' +
    'the model per task.',
  hyperparameters: z.object({}),
  rankParam: null,
  baseline: true,
  lrScale: 0.25, // it moves every weight
  analysis: null, // reports no analysis
  atInference: 'in-place',
  identityAtInit: true,
  attach(model, _config, ctx) {
    const params = model.params();
    // A host copy of the pretrained weights, so detach can restore them exactly.
    const original = new Map([...params].map(([k, v]) => [k, hostCopy(v)]));
    return {
      trainable: new Map(params),
      trainableCount: () => [...params.values()].reduce((a, v) => a + v.size, 0),
      async save(dir: string) {
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'adapter_config.json'), sortedJson({ ...baseAdapterConfig('FULL', model, ctx), weights: 'model.safetensors' }) + '\n');
        await writeHostTensors(
          join(dir, 'model.safetensors'),
          new Map([...params].map(([k, v]) => [k, { shape: v.shape, data: hostCopy(v) }])),
        );
      },
      async load(dir: string) {
        const config = await readAdapterConfig(dir);
        if (config.peft_type !== 'FULL') throw new Error(`${dir}: peft_type ${JSON.stringify(config.peft_type)} is not "FULL"`);
        const tensors = await readHostTensors(join(dir, 'model.safetensors'));
        for (const [k, v] of params) assignFrom(v, take(tensors, k, v.shape, join(dir, 'model.safetensors')));
      },
      detach() {
        for (const [k, v] of params) assignFrom(v, original.get(k)!);
      },
    };
  },
});
