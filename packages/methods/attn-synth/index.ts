import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { resolveLinears } from '../src/targets.ts';
import { deltaAttachment } from '../src/delta.ts';
import { assignFrom, hostCopy } from '../src/tensors.ts';
import { baseAdapterConfig, readAdapter, take, writeAdapter, PREFIX, type HostTensor } from '../src/hf/adapter.ts';
import { hfLinearUnfused } from '../src/hf/names.ts';
import { SynthModule, synthShape } from './layer.ts';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

export default defineMethod({
  id: 'attn-synth',
  title: 'Attention-synthesised update',
  paper: { title: 'Stand-Alone Self-Attention in Vision Models', url: 'https://arxiv.org/abs/1906.05909', year: 2019 },
  family: 'seed-idea',
  description:
    'Matrix synthesis instead of decomposition: the update of each adapted weight W is built from W’s own w x w windows. ' +
    'Every window position has a learnable query (a row-block part plus a column-block part) that attends, like a ' +
    'convolution’s sliding window but with softmax attention scores, over the average-pooled windows in its ' +
    'neighbourhood; the position’s block of ΔW is the attention-weighted sum of those windows, scaled by a learnable ' +
    'gate that starts at zero, so the model starts unchanged. Only the queries and the gate train; ΔW merges into W.',
  hyperparameters: z.object({
    window: z.number().int().min(1).max(1024).default(8).describe('Window side w: W is cut into w x w windows; --rank sets it.'),
    pool: z.number().int().min(1).max(64).default(2).describe('Average-pooling factor of the keys: each w x w window is pooled to ceil(w/pool) x ceil(w/pool) for scoring (queries have that size).'),
    radius: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(2)
      .describe('Sliding neighbourhood, in windows: a position attends to the windows at most this many blocks away in each direction ((2·radius+1)² windows; a radius as large as the grid is global attention).'),
    alpha: z.number().positive().default(8).describe('Scale of the update: ΔW = alpha · g · (synthesised matrix), as lora_alpha / r scales LoRA; sets how fast the zero-initialised gate g can grow.'),
    score_scale: z.number().positive().default(8).describe('Multiplies the scaled dot-product scores (an inverse temperature), so the zero-initialised queries can sharpen the attention at the default learning rate.'),
    target_modules: z.array(z.string().min(1)).default(['q', 'v']).describe("Linears to adapt: names matched by suffix ('q' -> blocks.*.attn.q), full-match regexes, or 'all-linear'."),
  }),
  rankParam: 'window',
  rankMeaning: 'window',
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: true,
  conformance: async () => [{ window: 8 }, { window: 4, pool: 1, radius: 1, target_modules: ['k', 'o', 'down'] }, { window: 3, radius: 4, target_modules: ['up'] }],
  attach(model, config, ctx) {
    const targets = resolveLinears('attn-synth', model, config.target_modules);
    const modules: SynthModule[] = [];
    try {
      for (const lin of targets) modules.push(new SynthModule(lin, synthShape(lin.outFeatures, lin.inFeatures, config.window, config.pool, config.radius), { alpha: config.alpha, scoreScale: config.score_scale }));
    } catch (e) {
      for (const mod of modules) mod.dispose();
      throw e;
    }
    const trainable = new Map<string, tf.Variable>();
    for (const mod of modules) {
      trainable.set(`${mod.linear.name}.attn_synth_query_rows`, mod.queryRows);
      trainable.set(`${mod.linear.name}.attn_synth_query_cols`, mod.queryCols);
      trainable.set(`${mod.linear.name}.attn_synth_gate`, mod.gate);
    }
    const key = (name: string, leaf: string) => `${PREFIX}${hfLinearUnfused(model.config, name)}.${leaf}`;
    const tensorsOf = (mod: SynthModule) =>
      [
        ['attn_synth_query_rows', mod.queryRows],
        ['attn_synth_query_cols', mod.queryCols],
        ['attn_synth_gate', mod.gate],
      ] as const;
    const att = deltaAttachment({
      methodId: 'attn-synth',
      model,
      modules,
      trainable,
      rank: config.window,
      async save(dir) {
        // Our own layout (HF PEFT has no such method): the same two files, peft_type ATTN_SYNTH.
        const tensors = new Map<string, HostTensor>();
        for (const mod of modules) for (const [leaf, v] of tensorsOf(mod)) tensors.set(key(mod.linear.name, leaf), { shape: v.shape, data: hostCopy(v) });
        await writeAdapter(
          dir,
          {
            ...baseAdapterConfig('ATTN_SYNTH', model, ctx),
            alpha: config.alpha,
            pool: config.pool,
            radius: config.radius,
            score_scale: config.score_scale,
            target_modules: targets.map((t) => hfLinearUnfused(model.config, t.name)),
            window: config.window,
          },
          tensors,
        );
      },
      async load(dir) {
        const { config: saved, tensors } = await readAdapter(dir, 'ATTN_SYNTH');
        for (const f of ['window', 'pool', 'radius', 'alpha', 'score_scale'] as const) {
          if (saved[f] !== config[f]) throw new Error(`${dir}: adapter has ${f}=${JSON.stringify(saved[f])}, this attachment ${f}=${config[f]}; attach with the adapter's settings`);
        }
        for (const mod of modules) for (const [leaf, v] of tensorsOf(mod)) assignFrom(v, take(tensors, key(mod.linear.name, leaf), v.shape));
      },
      dispose() {
        for (const mod of modules) mod.dispose();
      },
    });
    return {
      ...att,
      // The low-rank report of each ΔW, plus what the synthesis learned: gates and how peaked the attention is.
      analysis() {
        const synthesis: Record<string, unknown> = {};
        for (const mod of modules) {
          const entropy = mod.relativeEntropy();
          const s = mod.shape;
          synthesis[mod.linear.name] = {
            gate: Number(mod.gate.dataSync()[0]!.toPrecision(6)),
            relative_entropy: Number(entropy.toPrecision(4)),
            grid: [s.R, s.C],
            neighbours: s.offsets.length,
            key_side: s.k,
          };
        }
        return { ...att.analysis!(), synthesis };
      },
      detach() {
        att.detach();
      },
    };
  },
});
