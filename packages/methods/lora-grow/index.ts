import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { resolveLinears } from '../src/targets.ts';
import { kaimingUniform, streamSeed, zeros } from '../src/tensors.ts';
import { readAdapterConfig } from '../src/hf/adapter.ts';
import { LoraAttachment, LORA_INITS, type LoraSettings } from '../lora/layer.ts';
import type { StepResult } from '../src/types.ts';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

/** A LoRA that starts at rank r_start and gains r − r_start components at grow_step. */
export class GrowingLora extends LoraAttachment {
  constructor(settings: LoraSettings, readonly finalRank: number, readonly growStep: number) {
    super(settings);
  }

  get rank(): number {
    return this.modules[0]?.r ?? 0;
  }

  /** Adds components up to `rank`: new A columns Kaiming-uniform, new B rows zero, so the function is unchanged. */
  growTo(rank: number): void {
    for (const mod of this.modules) {
      const k = rank - mod.r;
      if (k <= 0) continue;
      const nIn = mod.linear.inFeatures;
      const A = kaimingUniform(nIn * k, nIn, streamSeed(this.settings.ctx.seed, `${mod.linear.name}.grow.${mod.parts.length}`));
      this.addPart(mod, A, zeros([k, mod.linear.outFeatures]), k);
    }
  }

  onStep(step: number): void | StepResult {
    if (step >= this.growStep && this.rank < this.finalRank) {
      this.growTo(this.finalRank);
      return { trainableChanged: true };
    }
  }

  protected override extraConfig(): Record<string, unknown> {
    return { grow: { r_start: this.settings.r, r: this.finalRank, grow_step: this.growStep, current_rank: this.rank } };
  }

  override async load(dir: string): Promise<void> {
    const grow = (await readAdapterConfig(dir)).grow as { current_rank?: number } | undefined;
    if (grow?.current_rank && grow.current_rank > this.rank) this.growTo(grow.current_rank);
    await super.load(dir);
  }
}

export default defineMethod({
  id: 'lora-grow',
  title: 'Growing LoRA',
  paper: { title: 'LoRA: Low-Rank Adaptation of Large Language Models', url: 'https://arxiv.org/abs/2106.09685', year: 2021 },
  family: 'seed-idea',
  description:
    'Can a small update be grown into a large one? Training starts with a rank-r_start LoRA; at grow_step each module ' +
    'gains r − r_start new components whose B rows start at zero, so the function is unchanged at the switch and the ' +
    'optimizer simply continues with more parameters. The scaling uses the final rank throughout.',
  hyperparameters: z
    .object({
      r: z.number().int().min(1).max(1024).default(64).describe('Final rank after growing.'),
      r_start: z.number().int().min(1).max(1024).default(8).describe('Rank at the start of training.'),
      grow_step: z.number().int().min(0).default(100).describe('Optimizer step (0-based) at which the rank grows to r.'),
      lora_alpha: z.number().positive().default(64).describe('Scaling numerator: lora_alpha / r with the final r (lora_alpha / sqrt(r) with use_rslora).'),
      use_rslora: z.boolean().default(false).describe('Rank-stabilised scaling lora_alpha / sqrt(r).'),
      init_lora_weights: z.enum(LORA_INITS).default('default').describe("Initialisation of the starting components (see lora); grown components always start with B = 0."),
      target_modules: z.array(z.string().min(1)).default(['q', 'v']).describe("Linears to adapt (suffix, regex or 'all-linear')."),
    })
    .refine((c) => c.r_start <= c.r, { message: 'r_start must be <= r', path: ['r_start'] }),
  rankParam: 'r',
  rankMeaning: 'rank r',
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: true,
  conformance: async () => [{ r: 6, r_start: 2, grow_step: 1, lora_alpha: 6 }, { r: 4, r_start: 4, grow_step: 0 }],
  attach(model, config, ctx) {
    return new GrowingLora(
      {
        methodId: 'lora-grow', model, ctx,
        targets: resolveLinears('lora-grow', model, config.target_modules),
        r: config.r_start, scalingRank: config.r, alpha: config.lora_alpha, rslora: config.use_rslora,
        dropout: 0, init: config.init_lora_weights, dora: false, trainable: true,
      },
      config.r,
      config.grow_step,
    );
  },
});
