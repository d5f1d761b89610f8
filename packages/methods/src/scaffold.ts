// Generates a new method folder that passes the conformance suite as generated: a zero-initialised
// rank-r update ΔW = B·A on target linears, with save/load and merge, ready to be edited.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { METHOD_FAMILIES, type MethodFamily } from './types.ts';

const ID = /^[a-z][a-z0-9-]*$/;
const RESERVED = new Set(['src', 'test', 'scripts', 'node_modules']);

export interface ScaffoldOptions {
  title?: string;
  family?: MethodFamily;
}

export function scaffoldMethod(root: string, id: string, opts: ScaffoldOptions = {}): string[] {
  if (!ID.test(id)) throw new Error(`new-method: id '${id}' is invalid: use lowercase letters, digits and '-', starting with a letter (e.g. my-lora)`);
  if (RESERVED.has(id)) throw new Error(`new-method: '${id}' is a reserved folder name`);
  const dir = join(root, id);
  if (existsSync(dir)) throw new Error(`new-method: ${dir} already exists; choose another id`);
  const family = opts.family ?? 'low-rank';
  if (!METHOD_FAMILIES.includes(family)) throw new Error(`new-method: family '${family}' is unknown; valid: ${METHOD_FAMILIES.join(', ')}`);
  const title = opts.title ?? id;
  const key = id.replace(/-/g, '_');
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    'index.ts': `import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { resolveLinears } from '../src/targets.ts';
import { attachUpdate } from './layer.ts';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

export default defineMethod({
  id: '${id}',
  title: ${JSON.stringify(title)},
  // Replace with the paper this method comes from.
  paper: { title: 'LoRA: Low-Rank Adaptation of Large Language Models', url: 'https://arxiv.org/abs/2106.09685', year: 2021 },
  family: '${family}',
  description:
    'Describe the method in one paragraph for the site: what it trains, how it changes the forward pass, ' +
    'whether it starts as the pretrained function and whether it merges into the weights.',
  hyperparameters: z.object({
    r: z.number().int().min(1).max(1024).default(8).describe('Rank of the update.'),
    target_modules: z.array(z.string().min(1)).default(['q', 'v']).describe("Linears to adapt (suffix, regex or 'all-linear')."),
  }),
  rankParam: 'r',
  rankMeaning: 'rank r',
  // The update folds into W (merge() below), so the deployed model has no extra parameters.
  atInference: 'merged',
  analysis: lowRankAnalysisSchema,
  // Optional: lrScale (default learning rate as a multiple of the model's, default 1), baseline (default false).
  // B starts at zero, so the model starts unchanged; the conformance suite checks this claim.
  identityAtInit: true,
  attach(model, config, ctx) {
    return attachUpdate(model, resolveLinears('${id}', model, config.target_modules), config.r, ctx);
  },
});
`,
    'layer.ts': `// The update ΔW = B·A [out, in] per target linear (HF orientation), added through Linear.hook by
// deltaAttachment, which also provides merge/unmerge, deltas() and analysis.
import * as tf from '@tensorflow/tfjs-core';
import type { Linear } from '@peft-bench/core/model/modules';
import type { AttachContext, Attachment, Model } from '../src/types.ts';
import { deltaAttachment } from '../src/delta.ts';
import { assignFrom, hostCopy, kaimingUniform, streamSeed, variableOf, zeros } from '../src/tensors.ts';
import { baseAdapterConfig, readAdapter, take, writeAdapter, PREFIX } from '../src/hf/adapter.ts';
import { hfLinearUnfused } from '../src/hf/names.ts';
import type { HostTensor } from '../src/hf/adapter.ts';

export function attachUpdate(model: Model, targets: Linear[], r: number, ctx: AttachContext): Attachment {
  const trainable = new Map<string, tf.Variable>();
  const factors = new Map<string, { A: tf.Variable; B: tf.Variable }>();
  const modules = targets.map((lin) => {
    const A = variableOf(kaimingUniform(r * lin.inFeatures, lin.inFeatures, streamSeed(ctx.seed, \`\${lin.name}.A\`)), [r, lin.inFeatures]);
    const B = variableOf(zeros([lin.outFeatures, r]), [lin.outFeatures, r]);
    factors.set(lin.name, { A, B });
    trainable.set(\`\${lin.name}.${key}_A\`, A);
    trainable.set(\`\${lin.name}.${key}_B\`, B);
    return { linear: lin, delta: () => tf.matMul(B, A) as tf.Tensor2D };
  });
  const keyOf = (name: string, leaf: string) => \`\${PREFIX}\${hfLinearUnfused(model.config, name)}.\${leaf}\`;
  return deltaAttachment({
    methodId: '${id}',
    model,
    modules,
    trainable,
    rank: r,
    async save(dir) {
      const tensors = new Map<string, HostTensor>();
      for (const [name, f] of factors) {
        tensors.set(keyOf(name, '${key}_A'), { shape: f.A.shape, data: hostCopy(f.A) });
        tensors.set(keyOf(name, '${key}_B'), { shape: f.B.shape, data: hostCopy(f.B) });
      }
      await writeAdapter(dir, { ...baseAdapterConfig('${key.toUpperCase()}', model, ctx), r, target_modules: targets.map((t) => hfLinearUnfused(model.config, t.name)) }, tensors);
    },
    async load(dir) {
      const { tensors } = await readAdapter(dir, '${key.toUpperCase()}');
      for (const [name, f] of factors) {
        assignFrom(f.A, take(tensors, keyOf(name, '${key}_A'), f.A.shape));
        assignFrom(f.B, take(tensors, keyOf(name, '${key}_B'), f.B.shape));
      }
    },
    dispose() {
      for (const f of factors.values()) (f.A.dispose(), f.B.dispose());
    },
  });
}
`,
    'README.md': `# ${title}

One paragraph: what the method trains, how it changes the forward pass, and a link to the paper.
Describe the adapter files it writes (HF PEFT layout where one exists). Generated by
\`pnpm new-method ${id}\`: a zero-initialised rank-r update ΔW = B·A, to be replaced by the method.
`,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((f) => join(dir, f));
}
