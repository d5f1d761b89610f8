import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { ALL_LINEAR, linearTargets, resolveLinears } from '../src/targets.ts';
import { deltaAttachment } from '../src/delta.ts';
import { assignFrom, hostCopy, kaimingUniform, streamSeed, variableOf, zeros } from '../src/tensors.ts';
import { baseAdapterConfig, readAdapter, take, writeAdapter, PREFIX } from '../src/hf/adapter.ts';
import { hfLinearUnfused } from '../src/hf/names.ts';
import type { HostTensor } from '../src/hf/adapter.ts';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

const FACTORS = ['hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b'] as const;

export default defineMethod({
  id: 'loha',
  title: 'LoHa',
  paper: { title: 'FedPara: Low-Rank Hadamard Product for Communication-Efficient Federated Learning', url: 'https://arxiv.org/abs/2108.06098', year: 2021 },
  family: 'low-rank',
  description:
    'LoHa (from LyCORIS) writes the update as the elementwise (Hadamard) product of two rank-r products, ' +
    'ΔW = (W1a·W1b) ⊙ (W2a·W2b) · alpha/r, which can reach rank r² with the parameters of two rank-r LoRAs. ' +
    'One factor starts at zero, so the model starts unchanged, and the update merges into W.',
  hyperparameters: z.object({
    r: z.number().int().min(1).max(1024).default(8).describe('Rank of each of the two factor products.'),
    alpha: z.number().positive().default(8).describe('Scaling numerator: ΔW is scaled by alpha / r.'),
    target_modules: linearTargets(ALL_LINEAR),
  }),
  rankParam: 'r',
  rankMeaning: 'rank r',
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: true,
  conformance: async () => [{ r: 4 }, { r: 2, alpha: 4, target_modules: ['k', 'o', 'down'] }],
  attach(model, config, ctx) {
    const { r } = config;
    const scale = config.alpha / r;
    const trainable = new Map<string, tf.Variable>();
    const vars = new Map<string, Record<(typeof FACTORS)[number], tf.Variable>>();
    const targets = resolveLinears('loha', model, config.target_modules);
    const modules = targets.map((lin) => {
      const [nOut, nIn] = [lin.outFeatures, lin.inFeatures];
      const seed = (k: string) => streamSeed(ctx.seed, `${lin.name}.${k}`);
      // HF PEFT's init: w1_a, w1_b, w2_a Kaiming-uniform, w2_b zero (so ΔW = 0).
      const f = {
        hada_w1_a: variableOf(kaimingUniform(nOut * r, r, seed('hada_w1_a')), [nOut, r]),
        hada_w1_b: variableOf(kaimingUniform(r * nIn, nIn, seed('hada_w1_b')), [r, nIn]),
        hada_w2_a: variableOf(kaimingUniform(nOut * r, r, seed('hada_w2_a')), [nOut, r]),
        hada_w2_b: variableOf(zeros([r, nIn]), [r, nIn]),
      };
      vars.set(lin.name, f);
      for (const k of FACTORS) trainable.set(`${lin.name}.${k}`, f[k]);
      return {
        linear: lin,
        delta: () => tf.tidy(() => tf.matMul(f.hada_w1_a, f.hada_w1_b).mul(tf.matMul(f.hada_w2_a, f.hada_w2_b)).mul(scale) as tf.Tensor2D),
      };
    });
    const key = (name: string, k: string) => `${PREFIX}${hfLinearUnfused(model.config, name)}.${k}`;
    return deltaAttachment({
      methodId: 'loha',
      model,
      modules,
      trainable,
      rank: r * r,
      async save(dir) {
        const tensors = new Map<string, HostTensor>();
        for (const [name, f] of vars) for (const k of FACTORS) tensors.set(key(name, k), { shape: f[k].shape, data: hostCopy(f[k]) });
        await writeAdapter(
          dir,
          {
            ...baseAdapterConfig('LOHA', model, ctx),
            alpha: config.alpha,
            init_weights: true,
            module_dropout: 0,
            modules_to_save: null,
            r,
            rank_dropout: 0,
            target_modules: targets.map((t) => hfLinearUnfused(model.config, t.name)),
            use_effective_conv2d: false,
          },
          tensors,
        );
      },
      async load(dir) {
        const { tensors } = await readAdapter(dir, 'LOHA');
        for (const [name, f] of vars) for (const k of FACTORS) assignFrom(f[k], take(tensors, key(name, k), f[k].shape));
      },
      dispose() {
        for (const f of vars.values()) for (const k of FACTORS) f[k].dispose();
      },
    });
  },
});
