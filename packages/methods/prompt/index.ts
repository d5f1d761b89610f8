import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { assignFrom, hostCopy, streamSeed } from '../src/tensors.ts';
import { baseAdapterConfig, readAdapter, take, writeAdapter } from '../src/hf/adapter.ts';
import { uniformStream } from '@peft-bench/core/model/rng';

export default defineMethod({
  id: 'prompt',
  title: 'Prompt tuning',
  paper: { title: 'The Power of Scale for Parameter-Efficient Prompt Tuning', url: 'https://arxiv.org/abs/2104.08691', year: 2021 },
  family: 'adapter',
  description:
    'Prompt tuning prepends a few trainable "virtual token" embeddings to every input and trains only them; the model ' +
    'itself is untouched. The virtual tokens start as copies of randomly sampled vocabulary embeddings. It is the ' +
    'smallest adapter in parameters, but it changes the model’s output from the first step and uses up context length.',
  hyperparameters: z.object({
    num_virtual_tokens: z.number().int().min(1).max(512).default(20).describe('Number of trainable virtual tokens prepended to each input.'),
  }),
  rankParam: 'num_virtual_tokens',
  rankMeaning: 'virtual tokens',
  lrScale: 5, // it trains a few embeddings only
  analysis: null, // reports no analysis
  atInference: 'added',
  identityAtInit: false,
  conformance: async () => [{ num_virtual_tokens: 4 }],
  attach(model, config, ctx) {
    const emb = model.embeddings;
    if (emb.prefix) throw new Error('prompt: the model already has a prefix attached; detach the other method first');
    const n = config.num_virtual_tokens;
    const { vocabSize, d, maxSeq } = model.config;
    if (n >= maxSeq) throw new Error(`prompt: num_virtual_tokens=${n} leaves no room for input in maxSeq=${maxSeq}; choose fewer than ${maxSeq}`);
    // Initialise from the embeddings of n vocabulary tokens drawn with the seed (PEFT's SAMPLE_VOCAB).
    const next = uniformStream(streamSeed(ctx.seed, 'prompt_embeddings'));
    const ids = Int32Array.from({ length: n }, () => Math.floor(next() * vocabSize));
    const init = tf.tidy(() => tf.gather(emb.tokens, tf.tensor1d(ids, 'int32')));
    const prompt = tf.variable(init, true);
    init.dispose();
    emb.prefix = {
      length: n,
      embed: (x) => {
        const B = x.shape[0]!;
        return tf.concat([prompt.reshape([1, n, d]).tile([B, 1, 1]), x], 1); // [B, n + T, d]
      },
    };
    const trainable = new Map([['prompt_embeddings', prompt]]);
    return {
      trainable,
      trainableCount: () => prompt.size,
      save: (dir) =>
        writeAdapter(
          dir,
          {
            ...baseAdapterConfig('PROMPT_TUNING', model, ctx),
            num_attention_heads: model.config.nHead,
            num_layers: model.config.nLayer,
            num_transformer_submodules: 1,
            num_virtual_tokens: n,
            prompt_tuning_init: 'SAMPLE_VOCAB',
            prompt_tuning_init_text: null,
            token_dim: d,
            tokenizer_name_or_path: null,
          },
          new Map([['prompt_embeddings', { shape: [n, d], data: hostCopy(prompt) }]]),
        ),
      async load(dir) {
        const { tensors } = await readAdapter(dir, 'PROMPT_TUNING');
        assignFrom(prompt, take(tensors, 'prompt_embeddings', [n, d]));
      },
      detach() {
        if (emb.prefix?.length === n) emb.prefix = null;
        prompt.dispose();
        trainable.clear();
      },
    };
  },
});
