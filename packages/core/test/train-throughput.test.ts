import { describe, expect, it } from 'vitest';
import { createModel, initBackend, stepFlopsPerToken, timeTraining } from '../src/index.ts';

describe('timeTraining', () => {
  it('times the real trainer on the variables it is given', async () => {
    await initBackend({ backend: 'wasm', threads: 1 });
    const model = createModel({ family: 'gpt2', vocabSize: 32, d: 16, nLayer: 1, nHead: 2, maxSeq: 8 }, 0);
    try {
      const r = await timeTraining({ model, trainable: model.params(), batch: 2, seqLen: 8, minSeconds: 0 });
      expect(r.steps).toBe(5);
      expect(r.tokens_per_s).toBeGreaterThan(0);
      expect(Number.isFinite(r.loss)).toBe(true);
    } finally {
      model.dispose();
    }
  }, 60_000);
});

describe('stepFlopsPerToken', () => {
  it('counts as the PyTorch peer does for full fine-tuning (matmul FLOPs x3, full attention)', () => {
    const d = 256, L = 4, T = 128, V = 512;
    // torch_gpt.py: 3 * (2 * N * (12 d^2 L + V d) + 4 B T^2 d L) per step of N = B*T tokens.
    const peer = 3 * (2 * (12 * d * d * L + V * d) + 4 * T * d * L);
    expect(stepFlopsPerToken({ family: 'gpt2', d, nLayer: L, vocabSize: V, mlpHidden: 4 * d }, T, false)).toBe(peer);
  });

  it('drops the weight gradients of a frozen base and adds the adapter products', () => {
    const cfg = { family: 'gpt2' as const, d: 128, nLayer: 4, vocabSize: 1024, mlpHidden: 512 };
    const full = stepFlopsPerToken(cfg, 128, false);
    const frozen = stepFlopsPerToken(cfg, 128, true, 8192);
    expect(frozen).toBe((full / 3) * 2 + 6 * 8192);
    // Llama's MLP has three matrices.
    expect(stepFlopsPerToken({ ...cfg, family: 'llama' }, 128, false) - full).toBe(3 * 2 * 4 * 128 * 512);
  });
});
