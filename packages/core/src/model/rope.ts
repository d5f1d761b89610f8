// Rotary position embeddings, HF Llama's convention: the head vector is split in halves (x1, x2),
// rotate_half(x) = [-x2, x1], and x' = x·cos + rotate_half(x)·sin with the frequency table
// duplicated over both halves.
import type { ModelConfig } from './config.ts';

/** Inverse frequencies for the head size, with HF's `linear` or `llama3` scaling applied. */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const hd = config.d / config.nHead;
  const half = hd / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / hd);
  const s = config.ropeScaling;
  if (s?.type === 'llama3') {
    const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositions / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i]!;
      if (wavelen > lowWavelen) inv[i] = inv[i]! / s.factor;
      else if (wavelen >= highWavelen) {
        const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        inv[i] = ((1 - smooth) * inv[i]!) / s.factor + smooth * inv[i]!;
      }
    }
  }
  return inv;
}

/**
 * cos and signed sin tables [maxSeq, hd]. `sinSigned` carries rotate_half's sign so that
 * x' = x·cos + swapHalves(x)·sinSigned, with swapHalves(x) = [x2, x1].
 */
export function ropeTables(config: ModelConfig): { cos: Float32Array; sinSigned: Float32Array; hd: number } {
  const hd = config.d / config.nHead;
  const half = hd / 2;
  const inv = ropeInverseFrequencies(config);
  const positionScale = config.ropeScaling?.type === 'linear' ? 1 / config.ropeScaling.factor : 1;
  const cos = new Float32Array(config.maxSeq * hd);
  const sinSigned = new Float32Array(config.maxSeq * hd);
  for (let p = 0; p < config.maxSeq; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * positionScale * inv[i]!;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * hd + i] = c;
      cos[p * hd + half + i] = c;
      sinSigned[p * hd + i] = -s;
      sinSigned[p * hd + half + i] = s;
    }
  }
  return { cos, sinSigned, hd };
}
