import { z } from 'zod';
import { join } from 'node:path';
import { defineMethod } from '../src/define.ts';
import { readLoraDeltas, factorComponents } from '../src/lowrank-io.ts';
import { writeExampleLoraAdapter } from '../src/examples.ts';
import { LoraAttachment } from '../lora/layer.ts';
import type { Linear } from '@peft-bench/core/model/modules';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

export default defineMethod({
  id: 'svd-slice',
  title: 'SVD slice of a trained update',
  paper: { title: 'LoRA: Low-Rank Adaptation of Large Language Models (§7, subspace analysis)', url: 'https://arxiv.org/abs/2106.09685', year: 2021 },
  family: 'seed-idea',
  description:
    'Scores part of a trained low-rank update: each module’s ΔW from a saved LoRA adapter is decomposed by SVD and only ' +
    'singular components from..to are kept (e.g. 1..8, or 9..64 of a rank-64 update). Nothing is trained; the slice is ' +
    'applied to the base model and evaluated, showing which directions of an update carry the task.',
  hyperparameters: z
    .object({
      adapter: z.string().default('').describe('Folder of a trained LoRA adapter (adapter_config.json + adapter_model.safetensors). Required.'),
      from: z.number().int().min(1).default(1).describe('First singular component kept (1-based).'),
      to: z.number().int().min(1).default(8).describe('Last singular component kept (inclusive; clamped to the update’s size).'),
    })
    .refine((c) => c.from <= c.to, { message: 'from must be <= to', path: ['to'] }),
  rankParam: null,
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: false,
  conformance: async ({ model, dir, seed }) => {
    const adapter = await writeExampleLoraAdapter(model, join(dir, 'r4'), 4, seed);
    return [{ adapter, from: 1, to: 2 }, { adapter, from: 3, to: 4 }];
  },
  async attach(model, config, ctx) {
    if (!config.adapter) {
      throw new Error("method 'svd-slice': adapter is required: the folder of a trained LoRA adapter, e.g. --set adapter=runs/lora-r64/adapter");
    }
    const deltas = await readLoraDeltas(model, config.adapter);
    const given = new Map([...deltas].map(([name, d]) => [name, factorComponents(d, config.from, config.to)]));
    return new LoraAttachment({
      methodId: 'svd-slice', model, ctx,
      targets: [...given.keys()].map((n) => model.module(n) as Linear),
      r: config.to - config.from + 1, alpha: 1, rslora: false, dropout: 0, init: 'default', dora: false,
      trainable: false, given, givenScaling: 1,
      initLabel: true,
      extraConfig: { slice: { source: config.adapter, from: config.from, to: config.to } },
    });
  },
});
