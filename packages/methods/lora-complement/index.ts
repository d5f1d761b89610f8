import { z } from 'zod';
import { join } from 'node:path';
import type { Linear } from '@peft-bench/core/model/modules';
import { defineMethod } from '../src/define.ts';
import { readLoraDeltas, attachmentDeltas, factorComponents, updateSubspaces, complementProjector, identity, type DenseDelta } from '../src/lowrank-io.ts';
import { writeExampleLoraAdapter } from '../src/examples.ts';
import { subspaceComparison, type ComplementSide } from '../src/analysis.ts';
import { LoraAttachment, type LoraSettings } from '../lora/layer.ts';
import { numericalRank } from '@peft-bench/core/analysis/lowrank';
import { matrixFrom, svd } from '@peft-bench/core/analysis/svd';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

/** P·X·Q for row-major X [n, m], P [n, n], Q [m, m]. */
function sandwich(P: Float32Array, X: Float32Array, Q: Float32Array, n: number, m: number): Float32Array {
  const PX = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
    const p = P[i * n + k]!;
    if (p !== 0) for (let j = 0; j < m; j++) PX[i * m + j] += p * X[k * m + j]!;
  }
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) {
    const x = PX[i * m + k]!;
    if (x !== 0) for (let j = 0; j < m; j++) out[i * m + j] += x * Q[k * m + j]!;
  }
  return out;
}

/**
 * The two updates the analysis compares; `large` null means the update this attachment trained.
 * Labels name the hyperparameter, not the folder: the record's config already holds the
 * (machine-independent) reference, and a local path does not belong in a committed record.
 */
interface ComparedUpdates {
  small: Map<string, DenseDelta>;
  large: Map<string, DenseDelta> | null;
  side: ComplementSide;
  smallLabel: string;
  largeLabel: string;
}

/** A LoRA attachment whose analysis adds the small-vs-large subspace similarity (LoRA paper Fig. 3) and the complement's energy share. */
class ComplementAttachment extends LoraAttachment {
  constructor(settings: LoraSettings, private readonly compared: ComparedUpdates) {
    super(settings);
  }

  override analysis(): Record<string, unknown> {
    const { small, large, side, smallLabel, largeLabel } = this.compared;
    const comparison = subspaceComparison(this.settings.model, small, large ?? attachmentDeltas(this), { side, smallLabel, largeLabel });
    return { ...super.analysis(), ...comparison };
  }
}

export default defineMethod({
  id: 'lora-complement',
  title: 'LoRA complement',
  paper: { title: 'LoRA: Low-Rank Adaptation of Large Language Models (§7, subspace similarity)', url: 'https://arxiv.org/abs/2106.09685', year: 2021 },
  family: 'seed-idea',
  description:
    'What lives outside the top directions? Given two trained LoRA updates of the same modules (say r=8 and r=64), ' +
    'post-hoc mode keeps only the part of the r=64 update orthogonal to the r=8 update’s row and column subspaces and ' +
    'scores it, with nothing trained. Training mode trains a fresh rank-r update constrained to that complement, by ' +
    'parametrising it through the projectors (I − UUᵀ)·A·B·(I − VVᵀ).',
  hyperparameters: z
    .object({
      mode: z.enum(['posthoc', 'train']).default('posthoc').describe("'posthoc': score the complement of large_adapter; 'train': train a fresh update inside the complement."),
      small_adapter: z.string().default('').describe('Folder of the trained small-rank LoRA adapter (e.g. r=8) whose subspaces are removed. Required.'),
      large_adapter: z.string().default('').describe('Folder of the trained large-rank LoRA adapter (e.g. r=64) to project (posthoc mode; required). In train mode optional: the analysis compares it with small_adapter, else the trained update.'),
      side: z.enum(['both', 'row', 'column']).default('both').describe("Subspaces removed: the update's input (row) space, output (column) space, or both."),
      r: z.number().int().min(1).max(1024).default(64).describe('Rank of the trained update (train mode).'),
      lora_alpha: z.number().positive().default(64).describe('Scaling numerator of the trained update (train mode): lora_alpha / r.'),
      use_rslora: z.boolean().default(false).describe('Rank-stabilised scaling lora_alpha / sqrt(r) (train mode).'),
    }),
  rankParam: 'r',
  rankMeaning: 'rank r',
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: (c) => c.mode === 'train',
  conformance: async ({ model, dir, seed }) => {
    const small = await writeExampleLoraAdapter(model, join(dir, 'r2'), 2, seed);
    const large = await writeExampleLoraAdapter(model, join(dir, 'r6'), 6, seed + 1);
    return [
      { mode: 'posthoc', small_adapter: small, large_adapter: large },
      { mode: 'posthoc', small_adapter: small, large_adapter: large, side: 'row' },
      { mode: 'train', small_adapter: small, r: 4, lora_alpha: 8 },
    ];
  },
  async attach(model, config, ctx) {
    if (!config.small_adapter) {
      throw new Error("method 'lora-complement': small_adapter is required: the folder of the trained small-rank LoRA adapter, e.g. --set small_adapter=runs/lora-r8/adapter");
    }
    const small = await readLoraDeltas(model, config.small_adapter);
    const projectors = new Map<string, { pin: Float32Array; pout: Float32Array }>();
    for (const [name, d] of small) {
      const { U, V, k } = updateSubspaces(d);
      projectors.set(name, {
        pin: config.side === 'column' ? identity(d.inFeatures) : complementProjector(U, d.inFeatures, k),
        pout: config.side === 'row' ? identity(d.outFeatures) : complementProjector(V, d.outFeatures, k),
      });
    }
    const common = { model, ctx, alpha: config.lora_alpha, rslora: config.use_rslora, dropout: 0, dora: false as const };
    const extraConfig = { complement: { mode: config.mode, side: config.side, small_adapter: config.small_adapter, large_adapter: config.large_adapter || null } };
    if (config.mode === 'train') {
      const large = config.large_adapter ? await readLoraDeltas(model, config.large_adapter) : null;
      return new ComplementAttachment({
        ...common, methodId: 'lora-complement', targets: [...small.keys()].map((n) => model.module(n) as Linear),
        r: config.r, init: 'default', trainable: true, projectors, extraConfig,
      }, { small, large, side: config.side, smallLabel: 'small_adapter', largeLabel: large ? 'large_adapter' : 'trained update' });
    }
    if (!config.large_adapter) {
      throw new Error("method 'lora-complement': mode 'posthoc' needs large_adapter: the folder of the trained large-rank LoRA adapter, e.g. --set large_adapter=runs/lora-r64/adapter");
    }
    const large = await readLoraDeltas(model, config.large_adapter);
    const given = new Map<string, { A: Float32Array; B: Float32Array; r: number }>();
    for (const [name, d] of large) {
      const p = projectors.get(name);
      if (!p) throw new Error(`method 'lora-complement': ${name} is in large_adapter but not in small_adapter; both must adapt the same modules`);
      // ΔW_c = P_in·ΔW·P_out (our layout [in, out]), kept at its numerical rank.
      const proj: DenseDelta = { ...d, data: sandwich(p.pin, d.data, p.pout, d.inFeatures, d.outFeatures) };
      const rank = Math.max(1, numericalRank(svd(matrixFrom(proj.data, d.inFeatures, d.outFeatures)).S, 1e-5));
      given.set(name, factorComponents(proj, 1, rank));
    }
    return new ComplementAttachment({
      ...common, methodId: 'lora-complement', targets: [...given.keys()].map((n) => model.module(n) as Linear),
      r: Math.max(...[...given.values()].map((g) => g.r)), init: 'default', trainable: false, given, givenScaling: 1, initLabel: true, extraConfig,
    }, { small, large, side: config.side, smallLabel: 'small_adapter', largeLabel: 'large_adapter' });
  },
});
