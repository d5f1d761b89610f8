import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import type { Attachment } from '../src/types.ts';
import { resolveLinears } from '../src/targets.ts';
import { Hooks, assignFrom, hostCopy, sizeOf, variableOf } from '../src/tensors.ts';
import { allHfLinearPaths, baseAdapterConfig, packVectors, readAdapter, take, unpackVectors, writeAdapter, PREFIX } from '../src/hf/adapter.ts';
import { hfLinear, hfTargetModules } from '../src/hf/names.ts';
import type { Linear } from '@peft-bench/core/model/modules';

export default defineMethod({
  id: 'ia3',
  title: '(IA)³',
  paper: { title: 'Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning', url: 'https://arxiv.org/abs/2205.05638', year: 2022 },
  family: 'adapter',
  description:
    '(IA)³ learns one vector per adapted layer that rescales activations elementwise: the attention keys and values, ' +
    'and the MLP’s intermediate activation (the input of the down projection). The vectors start at one, so the ' +
    'model starts unchanged; they fold into the weights for inference, and the method trains the fewest parameters ' +
    'of the catalogue apart from selective tuning.',
  hyperparameters: z.object({
    target_modules: z.array(z.string().min(1)).default(['k', 'v', 'down']).describe('Linears whose activations are rescaled (suffix, regex or all-linear).'),
    feedforward_modules: z
      .array(z.string().min(1))
      .default(['down'])
      .describe('Targets whose input (not output) is rescaled, as in the paper’s MLP scaling; must be among target_modules.'),
  }),
  rankParam: null,
  lrScale: 2, // it trains vectors only
  analysis: null, // reports no analysis
  atInference: 'merged',
  identityAtInit: true,
  conformance: async () => [{}, { target_modules: ['q', 'v', 'o', 'up', 'down'], feedforward_modules: ['down', 'o'] }],
  attach(model, config, ctx) {
    const targets = resolveLinears('ia3', model, config.target_modules);
    const ff = new Set(resolveLinears('ia3', model, config.feedforward_modules).map((l) => l.name));
    for (const name of ff) {
      if (!targets.some((t) => t.name === name)) {
        throw new Error(`method 'ia3': feedforward_modules matches ${name}, which is not in target_modules; every feedforward module must also be a target`);
      }
    }
    const hooks = new Hooks();
    const trainable = new Map<string, tf.Variable>();
    const scales = new Map<Linear, tf.Variable>();
    const install = () => {
      for (const [lin, l] of scales) {
        hooks.linear(lin, ff.has(lin.name) ? (x, base) => base(x.mul(l)) : (x, base) => base(x).mul(l));
      }
    };
    for (const lin of targets) {
      const n = ff.has(lin.name) ? lin.inFeatures : lin.outFeatures;
      const l = variableOf(new Float32Array(n).fill(1), [n]);
      scales.set(lin, l);
      trainable.set(`${lin.name}.ia3_l`, l);
    }
    install();
    let snapshot: Map<Linear, { w: Float32Array; b: Float32Array | null }> | null = null;
    const fam = model.config.family;
    const outputTargets = targets.filter((t) => !ff.has(t.name));
    const ffTargets = targets.filter((t) => ff.has(t.name));
    return {
      trainable,
      trainableCount: () => sizeOf(trainable.values()),
      merge() {
        if (snapshot) throw new Error('ia3: already merged');
        snapshot = new Map();
        for (const [lin, l] of scales) {
          snapshot.set(lin, { w: hostCopy(lin.weight), b: lin.bias ? hostCopy(lin.bias) : null });
          // Output scaling: (x·W + b)·l = x·(W·diag(l)) + b·l. Input scaling: (x·l)·W = x·(diag(l)·W).
          if (ff.has(lin.name)) assignFrom(lin.weight, tf.tidy(() => lin.weight.mul(l.reshape([-1, 1]))));
          else {
            assignFrom(lin.weight, tf.tidy(() => lin.weight.mul(l)));
            if (lin.bias) assignFrom(lin.bias, tf.tidy(() => lin.bias!.mul(l)));
          }
        }
        hooks.removeAll();
      },
      unmerge() {
        if (!snapshot) throw new Error('ia3: not merged');
        for (const [lin, s] of snapshot) {
          assignFrom(lin.weight, s.w);
          if (lin.bias && s.b) assignFrom(lin.bias, s.b);
        }
        snapshot = null;
        install();
      },
      async save(dir) {
        // HF PEFT: ia3_l is [out, 1] for output scaling and [1, in] for feedforward (input) scaling.
        const out = packVectors(model, new Map(outputTargets.map((t) => [t.name, hostCopy(scales.get(t)!)])), 'ia3_l', (n) => [n, 1], 1);
        const inp = new Map(
          ffTargets.map((t) => [`${PREFIX}${hfLinear(model.config, t.name).path}.ia3_l`, { shape: [1, t.inFeatures], data: hostCopy(scales.get(t)!) }]),
        );
        const paths = targets.map((t) => hfLinear(model.config, t.name).path);
        const all = allHfLinearPaths(model);
        await writeAdapter(
          dir,
          {
            ...baseAdapterConfig('IA3', model, ctx),
            fan_in_fan_out: fam === 'gpt2',
            feedforward_modules: hfTargetModules(ffTargets.map((t) => hfLinear(model.config, t.name).path), all),
            init_ia3_weights: true,
            modules_to_save: null,
            target_modules: hfTargetModules(paths, all),
          },
          new Map([...out.tensors, ...inp]),
        );
      },
      async load(dir) {
        const { tensors } = await readAdapter(dir, 'IA3');
        const outV = unpackVectors(model, tensors, outputTargets.map((t) => t.name), 'ia3_l', (n) => [n, 1]);
        for (const t of outputTargets) assignFrom(scales.get(t)!, outV.get(t.name)!);
        for (const t of ffTargets) {
          const path = hfLinear(model.config, t.name).path;
          assignFrom(scales.get(t)!, take(tensors, `${PREFIX}${path}.ia3_l`, [1, t.inFeatures]));
        }
      },
      detach() {
        if (snapshot) (this as Attachment).unmerge!();
        hooks.removeAll();
        for (const l of scales.values()) l.dispose();
        scales.clear();
        trainable.clear();
      },
    };
  },
});
