import { z } from 'zod';
import { defineMethod } from '../src/define.ts';
import { ALL_LINEAR, linearTargets, resolveLinears } from '../src/targets.ts';
import { LORA_BIAS, LORA_INITS, LoraAttachment, type LoraInit } from './layer.ts';
import { AUTOENCODER_DEFAULT_STEPS, AUTOENCODER_INIT } from './autoencoder.ts';
import { lowRankAnalysisSchema } from '@peft-bench/results/analysis-schema';

/** 'autoencoder_steps_<n>' / 'autoencoder_mlp_steps_<n>' (checked by the pattern; typed as the init they name). */
const autoencoderSteps = z
  .string()
  .regex(AUTOENCODER_INIT, "not an init: use an allowed value, or 'autoencoder_steps_<n>' / 'autoencoder_mlp_steps_<n>' for an autoencoder fitted in n steps") as unknown as z.ZodType<LoraInit>;

export const loraHyperparameters = z.object({
  r: z.number().int().min(1).max(1024).default(8).describe('Rank of the update ΔW = B·A.'),
  lora_alpha: z.number().positive().default(8).describe('Scaling numerator: ΔW is scaled by lora_alpha / r (lora_alpha / sqrt(r) with use_rslora).'),
  lora_dropout: z.number().min(0).max(0.9).default(0).describe('Dropout on the input of the update during training.'),
  target_modules: linearTargets(ALL_LINEAR, "Linears to adapt: names matched by suffix ('q' -> blocks.*.attn.q), full-match regexes, or 'all-linear' (every linear layer, the default)."),
  init_lora_weights: z
    .union([z.enum(LORA_INITS), autoencoderSteps])
    .default('default')
    .describe(
      "'default': Kaiming-uniform A, zero B; 'gaussian': A ~ N(0, 1/r²), zero B; 'pissa': top-r singular components of W, W replaced by its residual; " +
        "'milora': the r smallest components; 'pool': W averaged over r groups of output units; 'autoencoder' / 'autoencoder_mlp': a linear / " +
        `one-hidden-layer (tanh) autoencoder of W's rows with bottleneck r, fitted in ${AUTOENCODER_DEFAULT_STEPS} Adam steps ('autoencoder_steps_<n>', ` +
        "'autoencoder_mlp_steps_<n>' for n steps), its codes as A and decoder as B, W replaced by its residual (see README). All start as the same function.",
    ),
  use_rslora: z.boolean().default(false).describe('Rank-stabilised scaling lora_alpha / sqrt(r).'),
  bias: z
    .enum(LORA_BIAS)
    .default('none')
    .describe("Also train biases: 'all' linears' biases, or only the targeted ('lora_only'); needs a model with biases (GPT-2 style)."),
});

export default defineMethod({
  id: 'lora',
  title: 'LoRA',
  paper: { title: 'LoRA: Low-Rank Adaptation of Large Language Models', url: 'https://arxiv.org/abs/2106.09685', year: 2021 },
  family: 'low-rank',
  description:
    'LoRA freezes the pretrained weights and learns a low-rank update ΔW = B·A of rank r for selected linear layers, ' +
    'scaled by lora_alpha / r. Only A and B are trained, the update merges into W for inference at no extra cost, ' +
    'and initialisations from the pretrained weight (PiSSA top components, MiLoRA minor components, pooling) and ' +
    'rank-stabilised scaling are available as options.',
  hyperparameters: loraHyperparameters,
  rankParam: 'r',
  rankMeaning: 'rank r',
  // The shape of what analysis() reports (checked by the conformance suite; readers parse by it).
  analysis: lowRankAnalysisSchema,
  atInference: 'merged',
  identityAtInit: true,
  conformance: async ({ model }) => [
    {},
    ...(model.config.family === 'gpt2' ? [{ bias: 'all', r: 2 }, { bias: 'lora_only', r: 2, target_modules: ['k', 'up'] }] : []),
    { init_lora_weights: 'pissa', r: 4 },
    { init_lora_weights: 'milora', r: 4, target_modules: ['all-linear'] },
    { init_lora_weights: 'pool', r: 4, use_rslora: true, lora_alpha: 16, target_modules: ['k', 'down'] },
    { init_lora_weights: 'gaussian', r: 2, lora_dropout: 0.1 },
    { init_lora_weights: 'autoencoder', r: 4 },
    { init_lora_weights: 'autoencoder_mlp_steps_50', r: 4, target_modules: ['v', 'up'] },
  ],
  attach(model, config, ctx) {
    return new LoraAttachment({
      methodId: 'lora',
      model,
      ctx,
      targets: resolveLinears('lora', model, config.target_modules),
      r: config.r,
      alpha: config.lora_alpha,
      rslora: config.use_rslora,
      dropout: config.lora_dropout,
      init: config.init_lora_weights,
      dora: false,
      trainable: true,
      bias: config.bias,
    });
  },
});
