// Small tensor helpers shared by methods: host-seeded initialisation, hook bookkeeping.
import * as tf from '@tensorflow/tfjs-core';
import { streamSeed, uniformStream, normalArray } from '@peft-bench/core/model/rng';
import type { Linear, Norm } from '@peft-bench/core/model/modules';

export { streamSeed, normalArray };

/** A trainable variable from host values (no name: engine variable names must be unique). */
export function variableOf(values: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(values, shape, 'float32');
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

export function zeros(shape: number[]): Float32Array {
  return new Float32Array(shape.reduce((a, b) => a * b, 1));
}

/** U(-bound, bound) with bound = 1/sqrt(fanIn): torch's kaiming_uniform_(a=sqrt(5)), as HF PEFT's LoRA A. */
export function kaimingUniform(n: number, fanIn: number, seed: number): Float32Array {
  const next = uniformStream(seed);
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * next() - 1) * bound;
  return out;
}

/** Row-major transpose of a [rows, cols] host matrix. */
export function transpose(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

export function hostCopy(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** Sum of sizes of the variables in a map. */
export function sizeOf(vars: Iterable<tf.Tensor>): number {
  let n = 0;
  for (const v of vars) n += v.size;
  return n;
}

/** Installs hooks on modules and removes them all again; refuses a module that already has one. */
export class Hooks {
  private readonly installed: (Linear | Norm)[] = [];

  linear(m: Linear, hook: NonNullable<Linear['hook']>): void {
    if (m.hook) throw new Error(`${m.name} already has a hook: another method is attached to it; detach it first`);
    m.hook = hook;
    this.installed.push(m);
  }

  norm(m: Norm, hook: NonNullable<Norm['hook']>): void {
    if (m.hook) throw new Error(`${m.name} already has a hook: another method is attached to it; detach it first`);
    m.hook = hook;
    this.installed.push(m);
  }

  /** Removes every hook this set installed; returns them so that unmerge can put them back. */
  removeAll(): Map<Linear | Norm, unknown> {
    const saved = new Map<Linear | Norm, unknown>();
    for (const m of this.installed) {
      saved.set(m, m.hook);
      m.hook = null;
    }
    this.installed.length = 0;
    return saved;
  }

  restore(saved: Map<Linear | Norm, unknown>): void {
    for (const [m, hook] of saved) {
      (m as { hook: unknown }).hook = hook;
      this.installed.push(m);
    }
  }
}

/** Replaces a variable's value, disposing the temporary. */
export function assignFrom(v: tf.Variable, values: Float32Array | tf.Tensor): void {
  const t = values instanceof Float32Array ? tf.tensor(values, v.shape, 'float32') : values;
  v.assign(t);
  t.dispose();
}
