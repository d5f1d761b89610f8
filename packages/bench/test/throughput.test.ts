// `pnpm bench throughput` drives a registered method through the real trainer, on a named model or a shape.
import { describe, expect, it } from 'vitest';
import { measureThroughputReport } from '../src/cli/throughput.ts';

describe('bench throughput', () => {
  it('attaches the registered method to a named model and reports what ran', async () => {
    const r = await measureThroughputReport({ method: 'lora', rank: '2', set: ['target_modules=q,v'], model: 'tiny-random', B: '2', T: '16', backend: 'wasm', threads: '1', minSeconds: '0.01', sgemm: false });
    expect(r.method).toBe('lora');
    expect(r.method_path).toMatch(/^packages\/methods\/lora\/index\.ts via the method registry/);
    expect(r.model).toBe('tiny-random');
    // LoRA r=2 on q and v of a 2-layer, 32-wide model: 2 layers x 2 targets x (32x2 + 2x32).
    expect(r.trainable).toBe(2 * 2 * (32 * 2 + 2 * 32));
    expect(r.cfg).toMatchObject({ d: 32, L: 2, T: 16, B: 2 });
    expect(r.tokens_per_s).toBeGreaterThan(0);
    expect(r.gflops).toBeGreaterThan(0);
    expect(r.peak_rss_bytes).toBeGreaterThan(1e6);
  }, 60_000);

  it('refuses bad input before any work', async () => {
    await expect(measureThroughputReport({ method: 'nope' })).rejects.toThrow(/unknown method 'nope'; valid methods are/);
    await expect(measureThroughputReport({ method: 'full', d: '250', H: '4', backend: 'wasm' })).rejects.toThrow(/not divisible/);
    await expect(measureThroughputReport({ method: 'full', model: 'tiny-random', d: '64' })).rejects.toThrow(/--model tiny-random brings its own/);
    await expect(measureThroughputReport({ method: 'ia3', rank: '4' })).rejects.toThrow(/takes no rank/);
  });
});
