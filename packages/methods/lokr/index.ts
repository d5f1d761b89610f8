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

/** HF PEFT's factorization(dim, factor): m <= n with m·n = dim, m as close to sqrt(dim) as allowed by `factor`. */
export function factorization(dimension: number, factor = -1): [number, number] {
  if (factor > 0 && dimension % factor === 0) {
    const m = factor;
    const n = dimension / factor;
    return m > n ? [n, m] : [m, n];
  }
  const limit = factor < 0 ? dimension : factor;
  let [m, n] = [1, dimension];
  let length = m + n;
  while (m < n) {
    let newM = m + 1;
    while (dimension % newM !== 0) newM++;
    const newN = dimension / newM;
    if (newM + newN > length || newM > limit) break;
    [m, n, length] = [newM, newN, newM + newN];
  }
  return m > n ? [n, m] : [m, n];
}

/** kron(a [p, q], b [m, n]) -> [p·m, q·n] */
export function kron(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [p, q] = a.shape;
  const [m, n] = b.shape;
  return tf.tidy(() => a.reshape([p, 1, q, 1]).mul(b.reshape([1, m, 1, n])).reshape([p * m, q * n]) as tf.Tensor2D);
}

export default defineMethod({
  id: 'lokr',
  title: 'LoKr',
  paper: { title: 'Navigating Text-To-Image Customization: From LyCORIS Fine-Tuning to Model Evaluation', url: 'https://arxiv.org/abs/2309.14859', year: 2023 },
  family: 'low-rank',
  description:
    'LoKr (from LyCORIS) writes the update as a Kronecker product ΔW = W1 ⊗ W2 · alpha/r of a small full matrix W1 and a ' +
    'second factor W2 that is itself low-rank (W2a·W2b) when r is small. The Kronecker structure reaches high rank ' +
    'with very few parameters. W1 starts at zero, so the model starts unchanged, and the update merges into W.',
  hyperparameters: z.object({
    r: z.number().int().min(1).max(1024).default(8).describe('Rank of the second Kronecker factor when it is decomposed.'),
    alpha: z.number().positive().default(8).describe('Scaling numerator: ΔW is scaled by alpha / r.'),
    decompose_factor: z.number().int().min(-1).default(-1).describe('Kronecker factor size for splitting each dimension (-1: as square as possible).'),
    target_modules: linearTargets(ALL_LINEAR),
  }),
  rankParam: 'r',
  rankMeaning: 'rank r',
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: true,
  conformance: async () => [{}, { r: 1, alpha: 2, target_modules: ['k', 'up', 'down'] }],
  attach(model, config, ctx) {
    const { r } = config;
    const scale = config.alpha / r;
    const trainable = new Map<string, tf.Variable>();
    const vars = new Map<string, Record<string, tf.Variable>>();
    const targets = resolveLinears('lokr', model, config.target_modules);
    const modules = targets.map((lin) => {
      const [inM, inN] = factorization(lin.inFeatures, config.decompose_factor);
      const [outL, outK] = factorization(lin.outFeatures, config.decompose_factor);
      const seed = (k: string) => streamSeed(ctx.seed, `${lin.name}.${k}`);
      // As HF PEFT: w1 [out_l, in_m] full and zero; w2 [out_k, in_n] full (Kaiming) unless r < max(out_k, in_n)/2, then w2_a·w2_b.
      const f: Record<string, tf.Variable> = { lokr_w1: variableOf(zeros([outL, inM]), [outL, inM]) };
      const fullW2 = r >= Math.max(outK, inN) / 2;
      if (fullW2) f.lokr_w2 = variableOf(kaimingUniform(outK * inN, inN, seed('lokr_w2')), [outK, inN]);
      else {
        f.lokr_w2_a = variableOf(kaimingUniform(outK * r, r, seed('lokr_w2_a')), [outK, r]);
        f.lokr_w2_b = variableOf(kaimingUniform(r * inN, inN, seed('lokr_w2_b')), [r, inN]);
      }
      vars.set(lin.name, f);
      for (const [k, v] of Object.entries(f)) trainable.set(`${lin.name}.${k}`, v);
      return {
        linear: lin,
        delta: () =>
          tf.tidy(() => {
            const w2 = (f.lokr_w2 ?? tf.matMul(f.lokr_w2_a!, f.lokr_w2_b!)) as tf.Tensor2D;
            return kron(f.lokr_w1 as tf.Tensor2D, w2).mul(scale) as tf.Tensor2D; // [out_l·out_k, in_m·in_n] = [out, in]
          }),
      };
    });
    const key = (name: string, k: string) => `${PREFIX}${hfLinearUnfused(model.config, name)}.${k}`;
    return deltaAttachment({
      methodId: 'lokr',
      model,
      modules,
      trainable,
      async save(dir) {
        const tensors = new Map<string, HostTensor>();
        for (const [name, f] of vars) for (const [k, v] of Object.entries(f)) tensors.set(key(name, k), { shape: v.shape, data: hostCopy(v) });
        await writeAdapter(
          dir,
          {
            ...baseAdapterConfig('LOKR', model, ctx),
            alpha: config.alpha,
            decompose_both: false,
            decompose_factor: config.decompose_factor,
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
        const { tensors } = await readAdapter(dir, 'LOKR');
        for (const [name, f] of vars) for (const [k, v] of Object.entries(f)) assignFrom(v, take(tensors, key(name, k), v.shape));
      },
      dispose() {
        for (const f of vars.values()) for (const v of Object.values(f)) v.dispose();
      },
    });
  },
});
