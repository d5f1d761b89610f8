import { describe, expect, it } from 'vitest';
import { measureThroughput, THROUGHPUT_DEFAULTS, validateThroughputOptions } from '../src/index.ts';

describe('measureThroughput', () => {
  it('rejects bad options before any work, naming the field and the valid values', () => {
    const o = THROUGHPUT_DEFAULTS;
    expect(() => validateThroughputOptions({ ...o, d: 250, H: 4 })).toThrow('--d=250 is not divisible by --H=4: choose d a multiple of H');
    expect(() => validateThroughputOptions({ ...o, backend: 'gpu' as 'cpu' })).toThrow('valid backends are auto, tensorflow, wasm-blas, wasm, cpu');
    expect(() => validateThroughputOptions({ ...o, mode: 'lora', targets: ['q', 'x'] })).toThrow('choose from q, k, v, o, up, down');
    expect(() => validateThroughputOptions({ ...o, B: 4096, T: 1024 })).toThrow(/needs about .* use a micro-batch of \d+/);
  });

  it('measures full and LoRA training on the peer setup', async () => {
    const base = { d: 16, L: 1, H: 2, T: 8, B: 2, V: 32, backend: 'wasm', minSeconds: 0 } as const;
    const full = await measureThroughput({ ...base, mode: 'full' });
    expect(full.backend).toBe('wasm');
    expect(full.steps).toBe(5);
    expect(full.tokens_per_s).toBeGreaterThan(0);
    expect(full.trainable).toBe(32 * 16 + 8 * 16 + 4 * (16 * 16 + 16) + 2 * (16 * 64) + 64 + 16 + 3 * 2 * 16);
    expect(Number.isFinite(full.loss)).toBe(true);
    const lora = await measureThroughput({ ...base, mode: 'lora', r: 2, targets: ['q', 'v'] });
    expect(lora.trainable).toBe(2 * (16 * 2 + 2 * 16));
    expect(lora.cfg.mode).toBe('lora r=2 q,v');
  }, 60_000);
});
