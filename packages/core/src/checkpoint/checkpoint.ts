// Our own checkpoint layout: a directory with config.json (the ModelConfig) and model.safetensors
// (every parameter under its Model.params() name, F32, layout as in memory: linears [in, out]).
// The checkpoint's identity is the sha256 of model.safetensors' bytes.
import * as tf from '@tensorflow/tfjs-core';
import { resolveModelConfig, type ModelConfig } from '../model/config.ts';
import { createModelFromWeights, type Model } from '../model/model.ts';
import { joinPath, makeDir, readBytes, readText } from '../io/host.ts';
import { readSafetensors, sha256Hex, toFloat32, writeFileAtomic, writeSafetensors, type SafetensorsInput } from './safetensors.ts';

export const CHECKPOINT_FORMAT = 'peft-bench/model@1';
export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** The model's parameters as safetensors entries (F32, our names). */
export function modelTensors(model: Model): Map<string, SafetensorsInput> {
  const out = new Map<string, SafetensorsInput>();
  for (const [name, v] of model.params()) out.set(name, { dtype: 'F32', shape: v.shape, data: v.dataSync() as Float32Array });
  return out;
}

/** Writes config.json and model.safetensors into `dir` (created if needed); returns the checkpoint hash. */
export async function saveModel(model: Model, dir: string, metadata: Record<string, string> = {}): Promise<string> {
  await makeDir(dir);
  const config = JSON.stringify({ format: CHECKPOINT_FORMAT, ...model.config }, null, 2) + '\n';
  const hash = await writeSafetensors(joinPath(dir, WEIGHTS_FILE), modelTensors(model), {
    ...metadata,
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(model.config),
  });
  await writeFileAtomic(joinPath(dir, CONFIG_FILE), config);
  return hash;
}

export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const path = joinPath(dir, CONFIG_FILE);
  let raw: string;
  try {
    raw = await readText(path);
  } catch {
    throw new Error(`loadModel: ${path} is missing: a checkpoint directory holds ${CONFIG_FILE} and ${WEIGHTS_FILE} (written by saveModel)`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new Error(`loadModel: ${path} is not JSON (${(e as Error).message})`);
  }
  if (parsed.format !== CHECKPOINT_FORMAT) {
    const hint = 'model_type' in parsed ? ' (it looks like a Hugging Face checkpoint: use loadHfModel)' : '';
    throw new Error(`loadModel: ${path} has format ${JSON.stringify(parsed.format)}, expected '${CHECKPOINT_FORMAT}'${hint}`);
  }
  const { format: _format, ...config } = parsed;
  return resolveModelConfig(config as unknown as ModelConfig);
}

/** Loads a checkpoint written by saveModel. */
export async function loadModel(dir: string): Promise<Model> {
  const config = await readModelConfig(dir);
  const path = joinPath(dir, WEIGHTS_FILE);
  const file = await readSafetensors(path);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of file.tensors) weights.set(name, { shape: t.shape, data: toFloat32(t) });
  return createModelFromWeights(config, weights, path);
}

/** sha256 of the checkpoint's model.safetensors bytes: the model hash in run records. */
export async function checkpointHash(dir: string): Promise<string> {
  return sha256Hex(await readBytes(joinPath(dir, WEIGHTS_FILE)));
}

/** Copies every parameter of `from` into `to` (same config); used to reset a model between runs. */
export function copyWeights(from: Model, to: Model): void {
  const target = to.params();
  for (const [name, v] of from.params()) {
    const t = target.get(name);
    if (!t) throw new Error(`copyWeights: target model has no parameter '${name}'`);
    tf.tidy(() => t.assign(v.clone()));
  }
}
