// Example adapters for the conformance suite and tests: a LoRA update with non-zero B, so that
// methods reading trained adapters (complements, slices) have something to work on.
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from './types.ts';
import { resolveLinears } from './targets.ts';
import { normalArray, streamSeed } from './tensors.ts';
import { LoraAttachment } from '../lora/layer.ts';

/** Writes a LoRA adapter (HF PEFT layout) of rank r on `targets` with random A and B into `dir`. */
export async function writeExampleLoraAdapter(model: Model, dir: string, r: number, seed: number, targets: string[] = ['q', 'v']): Promise<string> {
  const att = new LoraAttachment({
    methodId: 'lora', model, ctx: { seed }, targets: resolveLinears('lora', model, targets),
    r, alpha: r, rslora: false, dropout: 0, init: 'default', dora: false, trainable: true,
  });
  try {
    for (const mod of att.modules) {
      const B = mod.parts[0]!.B;
      const t = tf.tensor(normalArray(B.size, 0.5, streamSeed(seed, `${mod.linear.name}.example_B`)), B.shape);
      B.assign(t);
      t.dispose();
    }
    await att.save(dir);
  } finally {
    att.detach();
  }
  return dir;
}
