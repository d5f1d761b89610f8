import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Linear, Norm } from '@peft-bench/core/model/modules';
import { defineMethod } from '../src/define.ts';
import type { Attachment } from '../src/types.ts';
import { Hooks, assignFrom, hostCopy, sizeOf, variableOf } from '../src/tensors.ts';
import { baseAdapterConfig, packVectors, readAdapter, take, unpackVectors, writeAdapter, PREFIX } from '../src/hf/adapter.ts';
import { hfNorm } from '../src/hf/names.ts';
import type { HostTensor } from '../src/hf/adapter.ts';

export default defineMethod({
  id: 'bitfit',
  title: 'BitFit',
  paper: { title: 'BitFit: Simple Parameter-efficient Fine-tuning for Transformer-based Masked Language-models', url: 'https://arxiv.org/abs/2106.10199', year: 2021 },
  family: 'selective',
  description:
    'BitFit trains only the bias terms of the model (linear layers, and LayerNorm biases unless disabled) and freezes ' +
    'every weight matrix. It needs a model with biases: GPT-2-style models have them, Llama-style models do not.',
  hyperparameters: z.object({
    include_norm_bias: z.boolean().default(true).describe('Also tune LayerNorm biases (the paper tunes every bias term).'),
  }),
  rankParam: null,
  lrScale: 2, // it trains vectors only
  analysis: null, // reports no analysis
  atInference: 'in-place',
  identityAtInit: true,
  modelFamilies: ['gpt2'],
  unsupportedReason: 'Llama-style models have no bias terms (bias-free linears and RMSNorm); use ln or ia3 instead',
  conformance: async () => [{}, { include_norm_bias: false }],
  attach(model, config, ctx) {
    const hooks = new Hooks();
    const trainable = new Map<string, tf.Variable>();
    const linears = model.linears().filter((l) => l.bias);
    const norms = config.include_norm_bias ? model.norms().filter((n) => n.bias) : [];
    if (linears.length + norms.length === 0) throw new Error(`method 'bitfit': the model has no bias terms to tune`);
    // A trainable delta per bias, starting at zero, added through the hooks (the base stays frozen).
    const deltas = new Map<Linear | Norm, tf.Variable>();
    for (const m of [...linears, ...norms]) {
      const d = variableOf(new Float32Array(m.bias!.size), [m.bias!.size]);
      deltas.set(m, d);
      trainable.set(`${m.name}.bias_delta`, d);
    }
    const install = () => {
      for (const l of linears) hooks.linear(l, (x, base) => base(x).add(deltas.get(l)!));
      for (const n of norms) hooks.norm(n, (weight, bias) => ({ weight, bias: bias!.add(deltas.get(n)!) }));
    };
    install();
    const trained = (m: Linear | Norm) => tf.tidy(() => hostCopy(m.bias!.add(deltas.get(m)!)));
    let snapshot: Map<Linear | Norm, Float32Array> | null = null;
    const normKey = (n: Norm) => `${PREFIX}${hfNorm(model.config, n.name)}.bias`;
    return {
      trainable,
      trainableCount: () => sizeOf(trainable.values()),
      merge() {
        if (snapshot) throw new Error('bitfit: already merged');
        snapshot = new Map();
        for (const m of deltas.keys()) {
          snapshot.set(m, hostCopy(m.bias!));
          assignFrom(m.bias!, trained(m));
        }
        hooks.removeAll();
      },
      unmerge() {
        if (!snapshot) throw new Error('bitfit: not merged');
        for (const [m, b] of snapshot) assignFrom(m.bias!, b);
        snapshot = null;
        install();
      },
      // HF PEFT has no BitFit adapter: the trained biases under their HF module paths (GPT-2's fused c_attn bias is [3d]).
      async save(dir) {
        const lin = packVectors(model, new Map(linears.map((l) => [l.name, trained(l)])), 'bias', (n) => [n], 0);
        const tensors = new Map<string, HostTensor>(lin.tensors);
        for (const n of norms) tensors.set(normKey(n), { shape: [n.dim], data: trained(n) });
        await writeAdapter(dir, { ...baseAdapterConfig('BITFIT', model, ctx), include_norm_bias: config.include_norm_bias }, tensors);
      },
      async load(dir) {
        const { tensors } = await readAdapter(dir, 'BITFIT');
        const lin = unpackVectors(model, tensors, linears.map((l) => l.name), 'bias', (n) => [n]);
        const setFrom = (m: Linear | Norm, values: Float32Array) => {
          const base = hostCopy(m.bias!);
          assignFrom(deltas.get(m)!, values.map((v, i) => v - base[i]!));
        };
        for (const l of linears) setFrom(l, lin.get(l.name)!);
        for (const n of norms) setFrom(n, take(tensors, normKey(n), [n.dim]));
      },
      detach() {
        if (snapshot) (this as Attachment).unmerge!();
        hooks.removeAll();
        for (const d of deltas.values()) d.dispose();
        deltas.clear();
        trainable.clear();
      },
    };
  },
});
