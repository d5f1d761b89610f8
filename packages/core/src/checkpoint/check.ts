// Checks a checkpoint directory without loading its weights: config.json parses and describes a
// model we can build, model.safetensors (or its shards) has a sound header and the full size,
// and every tensor has the shape the config needs. Errors name the file.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '../model/config.ts';
import { CONFIG_FILE, CHECKPOINT_FORMAT, readModelConfig, WEIGHTS_FILE } from './checkpoint.ts';
import { hfShapesToOurs, readHfConfig } from './hf.ts';
import { readSafetensorsHeader } from './safetensors.ts';

/** Every parameter a model with this config has, by our name, with its shape. */
export function expectedParamShapes(c: ModelConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const gpt2 = c.family === 'gpt2';
  const kv = c.nKvHead * (c.d / c.nHead);
  shapes.set('embeddings.tokens', [c.vocabSize, c.d]);
  if (gpt2) shapes.set('embeddings.positions', [c.maxSeq, c.d]);
  const linear = (name: string, inF: number, outF: number) => {
    shapes.set(`${name}.weight`, [inF, outF]);
    if (gpt2) shapes.set(`${name}.bias`, [outF]);
  };
  const norm = (name: string) => {
    shapes.set(`${name}.weight`, [c.d]);
    if (gpt2) shapes.set(`${name}.bias`, [c.d]);
  };
  for (let i = 0; i < c.nLayer; i++) {
    const p = `blocks.${i}`;
    norm(`${p}.ln1`);
    linear(`${p}.attn.q`, c.d, c.d);
    linear(`${p}.attn.k`, c.d, kv);
    linear(`${p}.attn.v`, c.d, kv);
    linear(`${p}.attn.o`, c.d, c.d);
    norm(`${p}.ln2`);
    if (!gpt2) linear(`${p}.mlp.gate`, c.d, c.mlpHidden);
    linear(`${p}.mlp.up`, c.d, c.mlpHidden);
    linear(`${p}.mlp.down`, c.mlpHidden, c.d);
  }
  norm('ln_f');
  if (!c.tieEmbeddings) shapes.set('lm_head.weight', [c.vocabSize, c.d]);
  return shapes;
}

async function isOurs(dir: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(join(dir, CONFIG_FILE), 'utf8')) as { format?: unknown }).format === CHECKPOINT_FORMAT;
  } catch {
    return false;
  }
}

/** Tensor shapes from the header(s) of model.safetensors or the shards of its index. */
async function headerShapes(dir: string): Promise<Map<string, number[]>> {
  const single = join(dir, WEIGHTS_FILE);
  const shapes = new Map<string, number[]>();
  if (existsSync(single)) {
    for (const [name, entry] of (await readSafetensorsHeader(single)).entries) shapes.set(name, entry.shape);
    return shapes;
  }
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (!existsSync(indexPath)) throw new Error(`${dir} has neither ${WEIGHTS_FILE} nor model.safetensors.index.json`);
  let index: { weight_map?: Record<string, string> };
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (e) {
    throw new Error(`${indexPath} is not JSON (${(e as Error).message})`);
  }
  if (!index.weight_map) throw new Error(`${indexPath}: no weight_map`);
  for (const shard of new Set(Object.values(index.weight_map))) {
    for (const [name, entry] of (await readSafetensorsHeader(join(dir, shard))).entries) shapes.set(name, entry.shape);
  }
  return shapes;
}

/**
 * The checkpoint's config, after checking config.json, the safetensors header(s) and every
 * tensor's shape against the config. Throws naming the file and the first problem.
 */
export async function checkCheckpointFiles(dir: string): Promise<{ config: ModelConfig; format: 'peft-bench' | 'hugging-face' }> {
  const ours = await isOurs(dir);
  const config = ours ? await readModelConfig(dir) : await readHfConfig(dir);
  const raw = await headerShapes(dir);
  const found = ours ? raw : hfShapesToOurs(config, raw);
  const expected = expectedParamShapes(config);
  const weights = existsSync(join(dir, WEIGHTS_FILE)) ? join(dir, WEIGHTS_FILE) : join(dir, 'model.safetensors.index.json');
  const configFile = join(dir, CONFIG_FILE);
  for (const [name, shape] of expected) {
    const got = found.get(name);
    if (!got) throw new Error(`${weights} has no tensor for '${name}', which ${configFile} needs (shape [${shape}])`);
    if (got.length !== shape.length || got.some((s, i) => s !== shape[i])) {
      throw new Error(`${weights}: '${name}' has shape [${got}], but ${configFile} needs [${shape}]`);
    }
  }
  const unexpected = [...found.keys()].filter((name) => !expected.has(name));
  if (unexpected.length > 0) {
    throw new Error(`${weights} holds ${unexpected.length} tensor(s) that ${configFile} does not describe: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', ...' : ''}`);
  }
  return { config, format: ours ? 'peft-bench' : 'hugging-face' };
}
