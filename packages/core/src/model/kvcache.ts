// Keys and values of earlier positions, per layer, for incremental decoding. Also keeps, per row,
// which cached slots are padding and the position id of the row's next token, so that left- and
// right-padded batches decode exactly like their rows would one by one.
import type * as tf from '@tensorflow/tfjs-core';

export class KVCache {
  /** Per layer: keys after RoPE, [B * nKvHead, S, headDim]; null before the first forward. */
  readonly keys: (tf.Tensor3D | null)[];
  /** Per layer: values, [B * nKvHead, S, headDim]. */
  readonly values: (tf.Tensor3D | null)[];
  /** Cached slots S (padding included). */
  length = 0;
  /** Row-major [B, S]: 1 = real token, 0 = padding. Grows with every forward. */
  slotMask: Uint8Array = new Uint8Array(0);
  /** True once any cached slot is padding (then the forward masks keys per row). */
  padded = false;
  /** Position id the next real token of each row gets. */
  readonly nextPosition: Int32Array;

  constructor(
    readonly nLayer: number,
    readonly batch: number,
  ) {
    this.keys = new Array(nLayer).fill(null);
    this.values = new Array(nLayer).fill(null);
    this.nextPosition = new Int32Array(batch);
  }

  dispose(): void {
    for (let i = 0; i < this.nLayer; i++) {
      this.keys[i]?.dispose();
      this.values[i]?.dispose();
      this.keys[i] = null;
      this.values[i] = null;
    }
    this.length = 0;
    this.slotMask = new Uint8Array(0);
    this.padded = false;
    this.nextPosition.fill(0);
  }
}
