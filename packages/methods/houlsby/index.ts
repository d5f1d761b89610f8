import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ops } from '@peft-bench/core/ops';
import { defineMethod } from '../src/define.ts';
import { resolveLinears } from '../src/targets.ts';
import { Hooks, assignFrom, hostCopy, kaimingUniform, sizeOf, streamSeed, transpose, variableOf, zeros } from '../src/tensors.ts';
import { baseAdapterConfig, readAdapter, take, writeAdapter, PREFIX } from '../src/hf/adapter.ts';
import { hfLinearUnfused } from '../src/hf/names.ts';
import type { HostTensor } from '../src/hf/adapter.ts';

const ACTIVATIONS = { gelu: (x: tf.Tensor) => ops().gelu(x), relu: tf.relu, silu: (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x)) } as const;

interface Bottleneck {
  down: tf.Variable; // [d, b]
  downBias: tf.Variable; // [b]
  up: tf.Variable; // [b, d]
  upBias: tf.Variable; // [d]
}

export default defineMethod({
  id: 'houlsby',
  title: 'Houlsby adapters',
  paper: { title: 'Parameter-Efficient Transfer Learning for NLP', url: 'https://arxiv.org/abs/1902.00751', year: 2019 },
  family: 'adapter',
  description:
    'Bottleneck adapters insert a small two-layer network (down-projection to a bottleneck, nonlinearity, ' +
    'up-projection) with a residual connection after the attention output and after the MLP of every block. The ' +
    'up-projection starts at zero, so each adapter is the identity at init. Adapters add a little inference latency ' +
    'because they cannot be merged into the weights.',
  hyperparameters: z.object({
    bottleneck: z.number().int().min(1).max(4096).default(64).describe('Width of the bottleneck (the adapter’s hidden size).'),
    activation: z.enum(['gelu', 'relu', 'silu']).default('gelu').describe('Nonlinearity inside the bottleneck.'),
    target_modules: z
      .array(z.string().min(1))
      .default(['o', 'down'])
      .describe('Linears whose output passes through an adapter: the attention output and MLP down projections place adapters where the paper does.'),
  }),
  rankParam: 'bottleneck',
  rankMeaning: 'bottleneck size',
  analysis: null, // reports no analysis
  atInference: 'added',
  identityAtInit: true,
  conformance: async () => [{ bottleneck: 8 }, { bottleneck: 4, activation: 'silu', target_modules: ['v', 'up'] }],
  attach(model, config, ctx) {
    const targets = resolveLinears('houlsby', model, config.target_modules);
    const act = ACTIVATIONS[config.activation];
    const b = config.bottleneck;
    const hooks = new Hooks();
    const trainable = new Map<string, tf.Variable>();
    const adapters = new Map<string, Bottleneck>();
    for (const lin of targets) {
      const d = lin.outFeatures;
      const a: Bottleneck = {
        down: variableOf(kaimingUniform(d * b, d, streamSeed(ctx.seed, `${lin.name}.adapter_down`)), [d, b]),
        downBias: variableOf(zeros([b]), [b]),
        up: variableOf(zeros([b, d]), [b, d]),
        upBias: variableOf(zeros([d]), [d]),
      };
      adapters.set(lin.name, a);
      trainable.set(`${lin.name}.adapter_down.weight`, a.down);
      trainable.set(`${lin.name}.adapter_down.bias`, a.downBias);
      trainable.set(`${lin.name}.adapter_up.weight`, a.up);
      trainable.set(`${lin.name}.adapter_up.bias`, a.upBias);
      // y + up(act(down(y))): the residual bottleneck after the module's output.
      hooks.linear(lin, (x, base) =>
        tf.tidy(() => {
          const y = base(x) as tf.Tensor2D;
          const h = act(tf.matMul(y, a.down).add(a.downBias)) as tf.Tensor2D;
          return y.add(tf.matMul(h, a.up).add(a.upBias));
        }),
      );
    }
    const key = (name: string, leaf: string) => `${PREFIX}${hfLinearUnfused(model.config, name)}.${leaf}`;
    return {
      trainable,
      trainableCount: () => sizeOf(trainable.values()),
      async save(dir) {
        // nn.Linear layout ([out_features, in_features]), as adapter libraries store bottlenecks.
        const tensors = new Map<string, HostTensor>();
        for (const [name, a] of adapters) {
          const d = a.up.shape[1]!;
          tensors.set(key(name, 'adapter_down.weight'), { shape: [b, d], data: transpose(a.down.dataSync(), d, b) });
          tensors.set(key(name, 'adapter_down.bias'), { shape: [b], data: hostCopy(a.downBias) });
          tensors.set(key(name, 'adapter_up.weight'), { shape: [d, b], data: transpose(a.up.dataSync(), b, d) });
          tensors.set(key(name, 'adapter_up.bias'), { shape: [d], data: hostCopy(a.upBias) });
        }
        await writeAdapter(
          dir,
          {
            ...baseAdapterConfig('HOULSBY', model, ctx),
            activation: config.activation,
            bottleneck: b,
            target_modules: targets.map((t) => hfLinearUnfused(model.config, t.name)),
          },
          tensors,
        );
      },
      async load(dir) {
        const { tensors } = await readAdapter(dir, 'HOULSBY');
        for (const [name, a] of adapters) {
          const d = a.up.shape[1]!;
          assignFrom(a.down, transpose(take(tensors, key(name, 'adapter_down.weight'), [b, d]), b, d));
          assignFrom(a.downBias, take(tensors, key(name, 'adapter_down.bias'), [b]));
          assignFrom(a.up, transpose(take(tensors, key(name, 'adapter_up.weight'), [d, b]), d, b));
          assignFrom(a.upBias, take(tensors, key(name, 'adapter_up.bias'), [d]));
        }
      },
      detach() {
        hooks.removeAll();
        for (const v of trainable.values()) v.dispose();
        trainable.clear();
        adapters.clear();
      },
    };
  },
});
