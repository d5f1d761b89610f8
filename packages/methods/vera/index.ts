import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { ALL_LINEAR, linearTargets, resolveLinears } from '../src/targets.ts';
import { deltaAttachment } from '../src/delta.ts';
import { assignFrom, hostCopy, kaimingUniform, streamSeed, variableOf } from '../src/tensors.ts';
import { baseAdapterConfig, readAdapter, take, writeAdapter, PREFIX } from '../src/hf/adapter.ts';
import { hfLinearUnfused } from '../src/hf/names.ts';
import type { HostTensor } from '../src/hf/adapter.ts';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

export default defineMethod({
  id: 'vera',
  title: 'VeRA',
  paper: { title: 'VeRA: Vector-based Random Matrix Adaptation', url: 'https://arxiv.org/abs/2310.11454', year: 2023 },
  family: 'low-rank',
  description:
    'VeRA shares one pair of frozen random projections A and B across all adapted layers and trains only two scaling ' +
    'vectors per layer: ΔW = diag(b)·B·diag(d)·A. With b starting at zero the model starts unchanged; the trainable ' +
    'count is r + out per layer, far below LoRA at the same rank, and the update merges into W.',
  hyperparameters: z.object({
    r: z.number().int().min(1).max(4096).default(256).describe('Rank of the shared random projections.'),
    d_initial: z.number().default(0.1).describe('Initial value of every entry of the d vectors.'),
    target_modules: linearTargets(ALL_LINEAR),
  }),
  rankParam: 'r',
  rankMeaning: 'rank r',
  lrScale: 5, // it trains vectors only
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: true,
  conformance: async () => [{ r: 16 }, { r: 8, target_modules: ['k', 'up', 'down'] }],
  attach(model, config, ctx) {
    const { r } = config;
    const targets = resolveLinears('vera', model, config.target_modules);
    const inMax = Math.max(...targets.map((t) => t.inFeatures));
    const outMax = Math.max(...targets.map((t) => t.outFeatures));
    // Shared frozen projections in HF's layout, A [r, in_max], B [out_max, r]; each layer uses the leading slice.
    const A = tf.tensor2d(kaimingUniform(r * inMax, inMax, streamSeed(ctx.seed, 'vera_A')), [r, inMax]);
    const B = tf.tensor2d(kaimingUniform(outMax * r, r, streamSeed(ctx.seed, 'vera_B')), [outMax, r]);
    const trainable = new Map<string, tf.Variable>();
    const vecs = new Map<string, { b: tf.Variable; d: tf.Variable }>();
    const modules = targets.map((lin) => {
      const v = {
        b: variableOf(new Float32Array(lin.outFeatures), [lin.outFeatures]),
        d: variableOf(new Float32Array(r).fill(config.d_initial), [r]),
      };
      vecs.set(lin.name, v);
      trainable.set(`${lin.name}.vera_lambda_b`, v.b);
      trainable.set(`${lin.name}.vera_lambda_d`, v.d);
      const a = A.slice([0, 0], [r, lin.inFeatures]);
      const bm = B.slice([0, 0], [lin.outFeatures, r]);
      return {
        linear: lin,
        // ΔW = diag(b)·B·diag(d)·A [out, in]
        delta: () => tf.tidy(() => bm.mul(v.d).matMul(a).mul(v.b.reshape([-1, 1])) as tf.Tensor2D),
        // x·ΔWᵀ = ((x·Aᵀ)·diag(d)·Bᵀ)·diag(b), without materialising ΔW.
        apply: (x: tf.Tensor2D) => tf.tidy(() => tf.matMul(tf.matMul(x, a, false, true).mul(v.d), bm, false, true).mul(v.b) as tf.Tensor2D),
        dispose: () => (a.dispose(), bm.dispose()),
      };
    });
    const key = (name: string, k: string) => `${PREFIX}${hfLinearUnfused(model.config, name)}.${k}`;
    return deltaAttachment({
      methodId: 'vera',
      model,
      modules,
      trainable,
      rank: r,
      async save(dir) {
        const tensors = new Map<string, HostTensor>([
          ['base_model.vera_A', { shape: [r, inMax], data: hostCopy(A) }],
          ['base_model.vera_B', { shape: [outMax, r], data: hostCopy(B) }],
        ]);
        for (const [name, v] of vecs) {
          tensors.set(key(name, 'vera_lambda_b'), { shape: v.b.shape, data: hostCopy(v.b) });
          tensors.set(key(name, 'vera_lambda_d'), { shape: v.d.shape, data: hostCopy(v.d) });
        }
        await writeAdapter(
          dir,
          {
            ...baseAdapterConfig('VERA', model, ctx),
            bias: 'none',
            d_initial: config.d_initial,
            fan_in_fan_out: model.config.family === 'gpt2',
            modules_to_save: null,
            projection_prng_key: ctx.seed,
            r,
            save_projection: true,
            target_modules: targets.map((t) => hfLinearUnfused(model.config, t.name)),
            vera_dropout: 0,
          },
          tensors,
        );
      },
      async load(dir) {
        const { tensors } = await readAdapter(dir, 'VERA');
        // The projections must be the ones this attachment drew (same seed and shapes).
        const savedA = take(tensors, 'base_model.vera_A', [r, inMax]);
        const ownA = hostCopy(A);
        if (savedA.some((x, i) => x !== ownA[i])) throw new Error(`${dir}: vera_A differs from this attachment's projection; attach with the seed the adapter was trained with (projection_prng_key)`);
        for (const [name, v] of vecs) {
          assignFrom(v.b, take(tensors, key(name, 'vera_lambda_b'), v.b.shape));
          assignFrom(v.d, take(tensors, key(name, 'vera_lambda_d'), v.d.shape));
        }
      },
      dispose() {
        for (const v of vecs.values()) (v.b.dispose(), v.d.dispose());
        for (const m of modules) m.dispose();
        A.dispose();
        B.dispose();
      },
    });
  },
});
