// The models the bench can run on: the shipped checkpoints (`base`, the default, its larger size
// `base-large`, and `naive`), a
// seeded tiny model for tests and smoke runs, and any checkpoint directory (ours, or Hugging Face
// GPT-2 / Llama).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSafetensorsHeader } from '@peft-bench/core/checkpoint/safetensors';
import { REPO_ROOT } from './code-version.ts';

export const NAIVE_MODEL_DIR = path.join(REPO_ROOT, 'packages/core/models/naive');
export const BASE_MODEL_DIR = path.join(REPO_ROOT, 'packages/core/models/base');
export const BASE_LARGE_MODEL_DIR = path.join(REPO_ROOT, 'packages/core/models/base-large');

export interface RandomModelDef {
  /** GPT-2 style config (ModelConfigInput of packages/core), vocabulary from the tokenizer. */
  config: { family: 'gpt2' | 'llama'; d: number; nLayer: number; nHead: number; maxSeq: number; mlpHidden?: number };
  seed: number;
}

/**
 * What a model was made for, shown by `--list`: 'synthetic' (the synthetic tasks' language only),
 * 'real' (pretrained on real text), 'tests' (untrained, for tests and smoke runs), 'unknown'.
 */
export type BuiltFor = 'synthetic' | 'real' | 'tests' | 'unknown';

export type ModelDef =
  | { id: string; description: string; builtFor: BuiltFor[]; kind: 'checkpoint'; dir: string }
  | { id: string; description: string; builtFor: BuiltFor[]; kind: 'random'; random: RandomModelDef };

/** The model a run uses when none is named. */
export const DEFAULT_MODEL_ID = 'base';
/** `--model default` (and `model: default` outside fixed-300 grids) names the default model. */
export const DEFAULT_MODEL_ALIAS = 'default';

export const MODELS: ModelDef[] = [
  {
    id: 'naive',
    description:
      'A small pretrained decoder (packages/core/models/naive, made by `pnpm pretrain --model naive`) pretrained on text in the language of the synthetic tasks only, without the skill documents of `base`: it has not seen real English. The fixed-300 leaderboard ran on it (its records name it `default`).',
    builtFor: ['synthetic'],
    kind: 'checkpoint',
    dir: NAIVE_MODEL_DIR,
  },
  {
    id: 'tiny-random',
    description: 'A 2-layer, 32-wide GPT-2 style model on bytes, initialised from seed 0 (untrained): for tests and smoke runs only, its scores mean nothing.',
    builtFor: ['tests'],
    kind: 'random',
    random: { config: { family: 'gpt2', d: 32, nLayer: 2, nHead: 2, maxSeq: 384 }, seed: 0 },
  },
  {
    id: 'base',
    description:
      'The default model. A small pretrained decoder (packages/core/models/base, made by `pnpm pretrain --model base`) whose corpus adds to the tasks\' language the skills they build on in other forms (recalling named facts, arithmetic worked in sentences, entailment and negation, dialogues retold as narratives) and real English (WordNet glosses); 4096-id BPE, context 512.',
    builtFor: ['synthetic', 'real'],
    kind: 'checkpoint',
    dir: BASE_MODEL_DIR,
  },
  {
    id: 'base-large',
    description:
      'The larger size of base\'s recipe (packages/core/models/base-large, made by `pnpm pretrain --model base --variant large`): the same corpus and tokenizer recipe at d=256, 6 layers, 8 heads (5.9M parameters), a rung for the task that does not calibrate on base; each run costs several times one on base.',
    builtFor: ['synthetic', 'real'],
    kind: 'checkpoint',
    dir: BASE_LARGE_MODEL_DIR,
  },
];

/** The default model's definition (code that needs "the default model" asks here, not by id). */
export function defaultModelDef(): ModelDef {
  return MODELS.find((model) => model.id === DEFAULT_MODEL_ID)!;
}

/** Registered id (or the `default` alias), or a directory holding a checkpoint. */
export function findModelDef(idOrDir: string): ModelDef {
  const id = idOrDir === DEFAULT_MODEL_ALIAS ? DEFAULT_MODEL_ID : idOrDir;
  const registered = MODELS.find((model) => model.id === id);
  if (registered) return registered;
  if (fs.existsSync(idOrDir) && fs.statSync(idOrDir).isDirectory()) {
    const dir = path.resolve(idOrDir);
    // A Hugging Face checkpoint is taken to be pretrained on real text; one of ours may be anything.
    const ours = readFormat(path.join(dir, 'config.json'))?.startsWith('peft-bench/') ?? false;
    return { id: `dir:${path.basename(dir)}`, description: `checkpoint at ${dir}`, builtFor: [ours ? 'unknown' : 'real'], kind: 'checkpoint', dir };
  }
  throw new Error(
    `Unknown model "${idOrDir}": it is neither a registered model (${MODELS.map((model) => model.id).join(', ')}; \`${DEFAULT_MODEL_ALIAS}\` = ${DEFAULT_MODEL_ID}) nor a checkpoint directory.`,
  );
}

function readFormat(file: string): string | null {
  try {
    const format = (JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown }).format;
    return typeof format === 'string' ? format : null;
  } catch {
    return null;
  }
}

/** The id a run record uses for a model: a checkpoint directory is named by its folder and hash. */
export function checkpointMissingMessage(def: ModelDef & { kind: 'checkpoint' }): string {
  if (def.id === 'naive') {
    return `The naive model checkpoint is missing (${def.dir} has no config.json / model.safetensors). Run \`pnpm pretrain --model naive\` to create it, or pass --model tiny-random for a quick smoke run.`;
  }
  if (def.id === 'base') {
    return `The base model checkpoint is not built yet (${def.dir} has no config.json / model.safetensors). Run \`pnpm pretrain --model base\` to build it (about 45 minutes at 2 threads; re-running it after an interruption resumes), or use --model naive.`;
  }
  if (def.id === 'base-large') {
    return `The base-large model checkpoint is not built yet (${def.dir} has no config.json / model.safetensors). Run \`pnpm pretrain --model base --variant large\` to build it (about 2.5 hours at 2 threads; re-running it after an interruption resumes), or use --model base.`;
  }
  return `The checkpoint directory ${def.dir} holds no model: expected config.json and model.safetensors (ours, from saveModel) or a Hugging Face checkpoint (config.json + model.safetensors + tokenizer.json).`;
}

/** Total parameter count from a safetensors header, without reading the tensors; errors name the file. */
export function safetensorsParamCount(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const lengthBytes = Buffer.alloc(8);
    fs.readSync(fd, lengthBytes, 0, 8, 0);
    const declared = size >= 8 ? Number(lengthBytes.readBigUInt64LE(0)) : 0;
    const prefix = Buffer.alloc(8 + Math.max(0, Math.min(declared, size - 8)));
    fs.readSync(fd, prefix, 0, prefix.length, 0);
    let total = 0;
    for (const entry of parseSafetensorsHeader(prefix, size, file).entries.values()) total += entry.shape.reduce((a, b) => a * b, 1);
    return total;
  } finally {
    fs.closeSync(fd);
  }
}

/** A seeded model's identity: the hash of its config and seed (there are no weights on disk). */
export function randomModelHash(def: RandomModelDef, vocabSize: number): string {
  return createHash('sha256').update(JSON.stringify({ ...def, vocabSize })).digest('hex').slice(0, 16);
}
