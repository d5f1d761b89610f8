// Backend selection: choices, clear errors, what `auto` picks here, threads.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BACKEND_CHOICES, backendInfo, initBackend, parseBackendChoice } from '../src/backend/index.ts';
import { loadNative } from '../src/backend/native.ts';
import { opsName } from '../src/ops.ts';

describe('initBackend', () => {
  it('rejects an unknown backend before doing any work, listing the valid choices', async () => {
    const before = backendInfo();
    await expect(initBackend({ backend: 'gpu-magic' })).rejects.toThrow(
      'Unknown backend "gpu-magic". Valid choices: auto, tensorflow, wasm-blas, wasm, cpu.',
    );
    expect(backendInfo()).toBe(before);
    expect(() => parseBackendChoice('WASM')).not.toThrow();
  });

  it('rejects an invalid thread count with the valid range', async () => {
    await expect(initBackend({ backend: 'cpu', threads: 0 })).rejects.toThrow(/thread count "0".*1 to 64/);
  });

  it('an explicit tensorflow choice that cannot load fails clearly (tfjs-node is not usable here)', async () => {
    let loadable = true;
    try {
      (await import('node:module')).createRequire(import.meta.url)('@tensorflow/tfjs-node-gpu');
    } catch {
      loadable = false;
    }
    if (loadable) return; // a machine with TensorFlow: nothing to check
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(/backend "tensorflow" is not available .*Valid choices: auto, tensorflow, wasm-blas, wasm, cpu/);
  });

  it('auto picks wasm-blas when the native addon is built, else wasm; records what runs', async () => {
    const info = await initBackend({ backend: 'auto' });
    expect(BACKEND_CHOICES).toContain(info.name);
    expect(info.name).toBe(loadNative().addon ? 'wasm-blas' : 'wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.fusedOps).toBe(opsName());
    expect(info.fusedOps).toBe(info.native ? 'fused-native' : 'fused-js');
    expect(info.note.length).toBeGreaterThan(10);
    expect(backendInfo()).toEqual(info);
  });

  it.skipIf(!loadNative().addon)('sets OpenBLAS threads through the addon (option and PEFT_BENCH_THREADS)', async () => {
    expect((await initBackend({ backend: 'wasm-blas', threads: 2 })).threads).toBe(2);
    process.env.PEFT_BENCH_THREADS = '1';
    try {
      expect((await initBackend({ backend: 'wasm-blas' })).threads).toBe(1);
    } finally {
      delete process.env.PEFT_BENCH_THREADS;
    }
  });

  it('cpu and wasm install the matching op tables', async () => {
    expect((await initBackend({ backend: 'cpu' })).fusedOps).toBe('reference');
    expect(tf.getBackend()).toBe('cpu');
    const w = await initBackend({ backend: 'wasm' });
    expect([w.name, w.native, w.fusedOps, w.threads]).toEqual(['wasm', false, 'fused-js', 1]);
  });

  it('gradients and chained ops are registered (tfjs-core alone has neither)', async () => {
    await initBackend({ backend: 'cpu' });
    const x = tf.tensor1d([1, 2, 3]);
    const g = tf.grad((t: tf.Tensor) => t.square().sum())(x);
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
    tf.dispose([x, g]);
  });
});
