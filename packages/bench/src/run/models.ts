// The models the bench can run on: the shipped default checkpoint, a seeded tiny model for tests
// and smoke runs, and any checkpoint directory (ours, or Hugging Face GPT-2 / Llama).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './code-version.ts';

export const DEFAULT_MODEL_DIR = path.join(REPO_ROOT, 'packages/core/models/default');
export const BASE_MODEL_DIR = path.join(REPO_ROOT, 'packages/core/models/base');

export interface RandomModelDef {
  /** GPT-2 style config (ModelConfigInput of packages/core), vocabulary from the tokenizer. */
  config: { family: 'gpt2' | 'llama'; d: number; nLayer: number; nHead: number; maxSeq: number; mlpHidden?: number };
  seed: number;
}

export type ModelDef =
  | { id: string; description: string; kind: 'checkpoint'; dir: string }
  | { id: string; description: string; kind: 'random'; random: RandomModelDef };

export const MODELS: ModelDef[] = [
  {
    id: 'default',
    description: 'The small pretrained decoder shipped with the project (packages/core/models/default, made by `pnpm pretrain`).',
    kind: 'checkpoint',
    dir: DEFAULT_MODEL_DIR,
  },
  {
    id: 'tiny-random',
    description: 'A 2-layer, 32-wide GPT-2 style model on bytes, initialised from seed 0 (untrained): for tests and smoke runs only, its scores mean nothing.',
    kind: 'random',
    random: { config: { family: 'gpt2', d: 32, nLayer: 2, nHead: 2, maxSeq: 384 }, seed: 0 },
  },
  {
    id: 'base',
    description:
      'A small pretrained decoder (packages/core/models/base, made by `pnpm pretrain --model base`) whose corpus adds to the tasks\' language the skills they build on in other forms (recalling named facts, arithmetic worked in sentences, entailment and negation, dialogues retold as narratives) and real English (WordNet glosses); 4096-id BPE, context 512.',
    kind: 'checkpoint',
    dir: BASE_MODEL_DIR,
  },
];

/** Registered id, or a directory holding a checkpoint. */
export function findModelDef(idOrDir: string): ModelDef {
  const registered = MODELS.find((model) => model.id === idOrDir);
  if (registered) return registered;
  if (fs.existsSync(idOrDir) && fs.statSync(idOrDir).isDirectory()) {
    const dir = path.resolve(idOrDir);
    return { id: `dir:${path.basename(dir)}`, description: `checkpoint at ${dir}`, kind: 'checkpoint', dir };
  }
  throw new Error(
    `Unknown model "${idOrDir}": it is neither a registered model (${MODELS.map((model) => model.id).join(', ')}) nor a checkpoint directory.`,
  );
}

/** The id a run record uses for a model: a checkpoint directory is named by its folder and hash. */
export function checkpointMissingMessage(def: ModelDef & { kind: 'checkpoint' }): string {
  if (def.id === 'default') {
    return `The default model checkpoint is missing (${def.dir} has no config.json / model.safetensors). Run \`pnpm pretrain\` to create it, or pass --model tiny-random for a quick smoke run.`;
  }
  if (def.id === 'base') {
    return `The base model checkpoint is not built yet (${def.dir} has no config.json / model.safetensors). Run \`pnpm pretrain --model base\` to build it (about 45 minutes at 2 threads; re-running it after an interruption resumes), or use --model default.`;
  }
  return `The checkpoint directory ${def.dir} holds no model: expected config.json and model.safetensors (ours, from saveModel) or a Hugging Face checkpoint (config.json + model.safetensors + tokenizer.json).`;
}

/** Total parameter count from a safetensors header, without reading the tensors. */
export function safetensorsParamCount(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const lengthBytes = Buffer.alloc(8);
    fs.readSync(fd, lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    const header = Buffer.alloc(headerLength);
    fs.readSync(fd, header, 0, headerLength, 8);
    const entries = JSON.parse(header.toString('utf8')) as Record<string, { shape?: number[] }>;
    let total = 0;
    for (const [name, entry] of Object.entries(entries)) {
      if (name === '__metadata__' || !entry.shape) continue;
      total += entry.shape.reduce((a, b) => a * b, 1);
    }
    return total;
  } finally {
    fs.closeSync(fd);
  }
}

/** A seeded model's identity: the hash of its config and seed (there are no weights on disk). */
export function randomModelHash(def: RandomModelDef, vocabSize: number): string {
  return createHash('sha256').update(JSON.stringify({ ...def, vocabSize })).digest('hex').slice(0, 16);
}
