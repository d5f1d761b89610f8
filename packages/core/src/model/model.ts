// The decoder-only transformer, in two flavours selected by config.family:
//   gpt2:  learned positions, LayerNorm with bias, GELU(tanh) MLP, linears with bias;
//   llama: RoPE (HF rotate_half), RMSNorm, SwiGLU MLP down(silu(gate(x)) * up(x)), no biases.
// Pre-norm residual blocks; the output head is x·E^T (tied) or x·W^T with W [V, d] (untied).
// Hidden states stay 2-D [B*T, d] between blocks so every linear is one 2-D matMul; attention
// runs as batched matMuls on [B*H, T, hd]. All hot elementwise work goes through ops().
import * as tf from '@tensorflow/tfjs-core';
import './tfjs-complete.ts';
import { linear } from '../backend/linear.ts';
import { ops } from '../ops.ts';
import { resolveModelConfig, type ModelConfig, type ModelConfigInput } from './config.ts';
import { KVCache } from './kvcache.ts';
import type { Embeddings, Linear, Module, Norm } from './modules.ts';
import { normalArray, streamSeed } from './rng.ts';
import { ropeTables } from './rope.ts';

export interface ForwardOptions {
  /**
   * Row-major [B*T]: 1 = real token, 0 = padding (either side). Padded key slots are masked and
   * position ids count only real tokens, so each row computes what it would alone. Default: no padding.
   */
  attentionMask?: ArrayLike<number>;
}

export interface Model {
  readonly config: ModelConfig;
  readonly embeddings: Embeddings;
  /** Every named module in a stable order: embeddings, then per block ln1, q, k, v, o, ln2, MLP, then ln_f. */
  modules(): Module[];
  /** The module with this name; throws naming close matches when unknown. */
  module(name: string): Module;
  linears(): Linear[];
  norms(): Norm[];
  /** Base weights by name: 'embeddings.tokens', 'blocks.0.attn.q.weight', 'blocks.0.ln1.bias', 'ln_f.weight', 'lm_head.weight' (untied). */
  params(): Map<string, tf.Variable>;
  paramCount(): number;
  /** Logits [B, T, V] for int32 tokens [B, T]; with a cache, T new tokens after the cached ones. */
  forward(tokens: tf.Tensor2D, cache?: KVCache, options?: ForwardOptions): tf.Tensor3D;
  /** Weighted mean cross-entropy over target tokens (weights 0 mask a position); all [B, T]. */
  loss(tokens: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Scalar;
  /** A cache for incremental decoding of a batch of `batch` rows. */
  createCache(batch: number): KVCache;
  dispose(): void;
}

/** Initial values: N(0, 0.02) for matrices and embeddings, residual projections scaled by 1/sqrt(2L). */
export const INIT_STD = 0.02;

class LinearModule implements Linear {
  readonly kind = 'linear' as const;
  hook: Linear['hook'] = null;
  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    public weight: tf.Variable,
    public bias: tf.Variable | null,
  ) {}

  /**
   * x·W + b with the current weights; x is [N, in]. The backend's linear fuses the bias and skips
   * dW when W is frozen (LoRA and other adapters train around frozen linears).
   */
  readonly base = (x: tf.Tensor): tf.Tensor => linear(x, this.weight, this.bias);

  apply(x: tf.Tensor): tf.Tensor {
    return this.hook ? this.hook(x, this.base) : this.base(x);
  }
}

class NormModule implements Norm {
  hook: Norm['hook'] = null;
  constructor(
    readonly kind: 'layernorm' | 'rmsnorm',
    readonly name: string,
    readonly dim: number,
    readonly eps: number,
    public weight: tf.Variable,
    public bias: tf.Variable | null,
  ) {}

  apply(x: tf.Tensor): tf.Tensor {
    let weight: tf.Tensor = this.weight;
    let bias: tf.Tensor | null = this.bias;
    if (this.hook) ({ weight, bias } = this.hook(weight, bias));
    if (this.kind === 'rmsnorm') return ops().rmsNorm(x, weight, this.eps);
    if (!bias) throw new Error(`${this.name}: LayerNorm needs a bias, but the norm hook returned null`);
    return ops().layerNorm(x, weight, bias, this.eps);
  }
}

interface Block {
  ln1: NormModule;
  q: LinearModule;
  k: LinearModule;
  v: LinearModule;
  o: LinearModule;
  ln2: NormModule;
  gate: LinearModule | null;
  up: LinearModule;
  down: LinearModule;
}

function variableFrom(values: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(values, shape, 'float32');
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** Names closest to `name`, for "did you mean" messages. */
export function closestNames(name: string, candidates: string[], n = 3): string[] {
  return candidates
    .map((c) => ({ c, dist: editDistance(name, c) }))
    .sort((x, y) => x.dist - y.dist)
    .slice(0, n)
    .map((x) => x.c);
}

class TransformerModel implements Model {
  readonly config: ModelConfig;
  readonly embeddings: Embeddings;
  readonly blocks: Block[] = [];
  readonly lnF: NormModule;
  /** Untied output head [V, d] (HF lm_head layout), null when tied to the token embeddings. */
  readonly lmHead: tf.Variable | null;
  private readonly ropeCos: tf.Tensor2D | null = null;
  private readonly ropeSin: tf.Tensor2D | null = null;
  private readonly byName = new Map<string, Module>();
  private disposed = false;

  constructor(config: ModelConfig, source: WeightSource) {
    this.config = config;
    const { d, nLayer, vocabSize, maxSeq, mlpHidden, family, normEps } = config;
    const kvDim = config.nKvHead * (d / config.nHead);
    const gpt2 = family === 'gpt2';
    const residualStd = INIT_STD / Math.sqrt(2 * nLayer);
    const make = (name: string, shape: number[], init: WeightInit) => variableFrom(source(name, shape, init), shape);
    const normal = (name: string, shape: number[], std: number) => make(name, shape, { kind: 'normal', std });
    const filled = (name: string, shape: number[], value: 0 | 1) => make(name, shape, { kind: value === 0 ? 'zeros' : 'ones' });

    this.embeddings = {
      kind: 'embeddings',
      name: 'embeddings',
      tokens: normal('embeddings.tokens', [vocabSize, d], INIT_STD),
      positions: gpt2 ? normal('embeddings.positions', [maxSeq, d], INIT_STD) : null,
      prefix: null,
    };
    const linear = (name: string, inF: number, outF: number, std: number) =>
      new LinearModule(name, inF, outF, normal(`${name}.weight`, [inF, outF], std), gpt2 ? filled(`${name}.bias`, [outF], 0) : null);
    const norm = (name: string) =>
      new NormModule(gpt2 ? 'layernorm' : 'rmsnorm', name, d, normEps, filled(`${name}.weight`, [d], 1), gpt2 ? filled(`${name}.bias`, [d], 0) : null);

    for (let i = 0; i < nLayer; i++) {
      const p = `blocks.${i}`;
      this.blocks.push({
        ln1: norm(`${p}.ln1`),
        q: linear(`${p}.attn.q`, d, d, INIT_STD),
        k: linear(`${p}.attn.k`, d, kvDim, INIT_STD),
        v: linear(`${p}.attn.v`, d, kvDim, INIT_STD),
        o: linear(`${p}.attn.o`, d, d, residualStd),
        ln2: norm(`${p}.ln2`),
        gate: gpt2 ? null : linear(`${p}.mlp.gate`, d, mlpHidden, INIT_STD),
        up: linear(`${p}.mlp.up`, d, mlpHidden, INIT_STD),
        down: linear(`${p}.mlp.down`, mlpHidden, d, residualStd),
      });
    }
    this.lnF = norm('ln_f');
    this.lmHead = config.tieEmbeddings ? null : normal('lm_head.weight', [vocabSize, d], INIT_STD);
    if (!gpt2) {
      const { cos, sinSigned, hd } = ropeTables(config);
      this.ropeCos = tf.tensor2d(cos, [maxSeq, hd]);
      this.ropeSin = tf.tensor2d(sinSigned, [maxSeq, hd]);
    }
    for (const m of this.modules()) this.byName.set(m.name, m);
  }

  modules(): Module[] {
    const out: Module[] = [this.embeddings];
    for (const b of this.blocks) {
      out.push(b.ln1, b.q, b.k, b.v, b.o, b.ln2);
      if (b.gate) out.push(b.gate);
      out.push(b.up, b.down);
    }
    out.push(this.lnF);
    return out;
  }

  module(name: string): Module {
    const m = this.byName.get(name);
    if (m) return m;
    const near = closestNames(name, [...this.byName.keys()]);
    throw new Error(`unknown module '${name}': did you mean ${near.map((n) => `'${n}'`).join(', ')}?`);
  }

  linears(): Linear[] {
    return this.modules().filter((m): m is Linear => m.kind === 'linear');
  }

  norms(): Norm[] {
    return this.modules().filter((m): m is Norm => m.kind === 'layernorm' || m.kind === 'rmsnorm');
  }

  params(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const m of this.modules()) {
      if (m.kind === 'embeddings') {
        out.set('embeddings.tokens', m.tokens);
        if (m.positions) out.set('embeddings.positions', m.positions);
      } else {
        out.set(`${m.name}.weight`, m.weight);
        if (m.bias) out.set(`${m.name}.bias`, m.bias);
      }
    }
    if (this.lmHead) out.set('lm_head.weight', this.lmHead);
    return out;
  }

  paramCount(): number {
    let n = 0;
    for (const v of this.params().values()) n += v.size;
    return n;
  }

  createCache(batch: number): KVCache {
    if (!Number.isInteger(batch) || batch <= 0) throw new Error(`createCache: batch=${batch} must be a positive integer`);
    return new KVCache(this.config.nLayer, batch);
  }

  forward(tokens: tf.Tensor2D, cache?: KVCache, options?: ForwardOptions): tf.Tensor3D {
    const [B, T] = tokens.shape;
    return tf.tidy(() => this.logits2d(tokens, cache, options).reshape([B, T, this.config.vocabSize]) as tf.Tensor3D);
  }

  loss(tokens: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Scalar {
    const [B, T] = tokens.shape;
    if (targets.shape[0] !== B || targets.shape[1] !== T || weights.shape[0] !== B || weights.shape[1] !== T) {
      throw new Error(`loss: tokens [${B},${T}], targets [${targets.shape}] and weights [${weights.shape}] must have the same shape`);
    }
    // The final norm, the output head and the softmax run only at positions with a weight: prompts
    // and padding carry weight 0, and on a vocabulary of thousands the head is a large share of the
    // step (every other position's logits would be computed only to be multiplied by 0).
    const w = weights.dataSync() as Float32Array;
    const picked: number[] = [];
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) picked.push(i);
    return tf.tidy(() => {
      const hidden = this.hidden2d(tokens, undefined, undefined);
      const flatTargets = targets.reshape([B * T]) as tf.Tensor1D;
      const flatWeights = weights.reshape([B * T]) as tf.Tensor1D;
      if (picked.length === 0 || picked.length === B * T) return ops().crossEntropy(this.head(hidden), flatTargets, flatWeights);
      const at = tf.tensor1d(picked, 'int32');
      return ops().crossEntropy(
        this.head(tf.gather(hidden, at) as tf.Tensor2D),
        tf.gather(flatTargets, at) as tf.Tensor1D,
        tf.gather(flatWeights, at) as tf.Tensor1D,
      );
    });
  }

  /** Logits [B*T, V]. */
  private logits2d(tokens: tf.Tensor2D, cache: KVCache | undefined, options: ForwardOptions | undefined): tf.Tensor2D {
    return this.head(this.hidden2d(tokens, cache, options));
  }

  /** Final norm and output head: hidden rows [N, d] -> logits [N, V]. */
  private head(hidden: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(this.lnF.apply(hidden) as tf.Tensor2D, this.lmHead ?? this.embeddings.tokens, false, true);
  }

  /** The residual stream after the last block, before the final norm: [B*T, d]. */
  private hidden2d(tokens: tf.Tensor2D, cache: KVCache | undefined, options: ForwardOptions | undefined): tf.Tensor2D {
    if (this.disposed) throw new Error('forward: the model was disposed');
    if (tokens.rank !== 2 || tokens.dtype !== 'int32') {
      throw new Error(`forward: tokens must be an int32 tensor [B, T], got ${tokens.dtype} [${tokens.shape}]`);
    }
    const { d, nHead, nKvHead, maxSeq, nLayer } = this.config;
    const [B, T] = tokens.shape;
    const hd = d / nHead;
    if (cache && cache.batch !== B) throw new Error(`forward: cache holds ${cache.batch} rows, tokens have ${B}`);
    if (cache && cache.nLayer !== nLayer) throw new Error(`forward: cache has ${cache.nLayer} layers, model has ${nLayer}`);
    const past = cache?.length ?? 0;
    const prefix = this.embeddings.prefix;
    // The prefix (prompt tuning) is prepended once: on an uncached call or a cache's first call.
    const P = prefix && past === 0 ? prefix.length : 0;
    const S0 = P + T; // new positions this call
    const S = past + S0; // key slots after this call
    if (S > maxSeq) {
      throw new Error(`forward: ${S} positions (${past} cached + ${P} prefix + ${T} new) exceed maxSeq=${maxSeq}`);
    }
    const mask = options?.attentionMask;
    if (mask && mask.length !== B * T) throw new Error(`forward: attentionMask has ${mask.length} entries, expected B*T=${B * T}`);
    const padded = (mask != null && Array.prototype.some.call(mask, (m: number) => !m)) || (cache?.padded ?? false);

    // Per-row positions and key-slot masks only when padding is involved; otherwise slices.
    let positionIds: Int32Array | null = null;
    let keyBias: tf.Tensor | null = null;
    let newSlotMask: Uint8Array | null = null;
    if (padded || (cache && mask)) {
      positionIds = new Int32Array(B * S0);
      newSlotMask = new Uint8Array(B * S0);
      const bias = new Float32Array(B * S);
      for (let b = 0; b < B; b++) {
        let pos = cache ? cache.nextPosition[b]! : 0;
        for (let t = 0; t < S0; t++) {
          const real = t < P || !mask || mask[b * T + (t - P)] ? 1 : 0;
          newSlotMask[b * S0 + t] = real;
          positionIds[b * S0 + t] = Math.min(pos, maxSeq - 1);
          if (real) pos++;
        }
        for (let s = 0; s < S; s++) {
          const real = s < past ? cache!.slotMask[b * past + s] : newSlotMask[b * S0 + s - past];
          if (!real) bias[b * S + s] = -1e9;
        }
      }
      if (padded) keyBias = tf.tensor4d(bias, [B, 1, 1, S]);
    }

    // Embeddings -> x [B*S0, d]
    let x = tf.gather(this.embeddings.tokens, tokens.reshape([B * T])) as tf.Tensor2D;
    if (prefix && P > 0) {
      const withPrefix = prefix.embed(x.reshape([B, T, d]));
      if (withPrefix.shape[1] !== S0) {
        throw new Error(`embeddings.prefix: embed returned [${withPrefix.shape}], expected [${B}, ${S0}, ${d}]`);
      }
      x = withPrefix.reshape([B * S0, d]) as tf.Tensor2D;
    }
    const positions = this.embeddings.positions;
    if (positions) {
      x = positionIds
        ? x.add(tf.gather(positions, tf.tensor1d(positionIds, 'int32')))
        : x.reshape([B, S0, d]).add(positions.slice([past, 0], [S0, d])).reshape([B * S0, d]);
    }
    let cos: tf.Tensor | null = null;
    let sin: tf.Tensor | null = null;
    if (this.ropeCos && this.ropeSin) {
      if (positionIds) {
        const ids = tf.tensor1d(positionIds, 'int32');
        cos = tf.gather(this.ropeCos, ids).reshape([B, S0, 1, hd]);
        sin = tf.gather(this.ropeSin, ids).reshape([B, S0, 1, hd]);
      } else {
        cos = this.ropeCos.slice([past, 0], [S0, hd]).reshape([1, S0, 1, hd]);
        sin = this.ropeSin.slice([past, 0], [S0, hd]).reshape([1, S0, 1, hd]);
      }
    }
    const rope = (t: tf.Tensor, heads: number): tf.Tensor => {
      if (!cos || !sin) return t;
      const half = hd / 2;
      const swapped = tf.concat([t.slice([0, 0, 0, half], [B, S0, heads, half]), t.slice([0, 0, 0, 0], [B, S0, heads, half])], 3);
      return t.mul(cos).add(swapped.mul(sin));
    };
    const rep = nHead / nKvHead;
    const scale = 1 / Math.sqrt(hd);

    for (let i = 0; i < this.blocks.length; i++) {
      const blk = this.blocks[i]!;
      const h = blk.ln1.apply(x);
      // (B*S0, H*hd) -> (B, S0, H, hd) -> (B, H, S0, hd) -> (B*H, S0, hd)
      const q = rope(blk.q.apply(h).reshape([B, S0, nHead, hd]), nHead).transpose([0, 2, 1, 3]).reshape([B * nHead, S0, hd]);
      let k = rope(blk.k.apply(h).reshape([B, S0, nKvHead, hd]), nKvHead).transpose([0, 2, 1, 3]).reshape([B * nKvHead, S0, hd]) as tf.Tensor3D;
      let v = blk.v.apply(h).reshape([B, S0, nKvHead, hd]).transpose([0, 2, 1, 3]).reshape([B * nKvHead, S0, hd]) as tf.Tensor3D;
      if (cache) {
        const oldK = cache.keys[i];
        const oldV = cache.values[i];
        if (oldK && oldV) {
          k = tf.concat([oldK, k], 1);
          v = tf.concat([oldV, v], 1);
          oldK.dispose();
          oldV.dispose();
        }
        cache.keys[i] = tf.keep(k);
        cache.values[i] = tf.keep(v);
      }
      if (rep > 1) {
        // Grouped-query attention: each kv head serves `rep` consecutive query heads (HF repeat_kv).
        // (B*Hkv, S, hd) -> (B*Hkv, rep, S, hd) -> (B*H, S, hd); rank 4 because Tile's gradient stops there.
        k = k.reshape([B * nKvHead, 1, S, hd]).tile([1, rep, 1, 1]).reshape([B * nHead, S, hd]) as tf.Tensor3D;
        v = v.reshape([B * nKvHead, 1, S, hd]).tile([1, rep, 1, 1]).reshape([B * nHead, S, hd]) as tf.Tensor3D;
      }
      let scores = tf.matMul(q as tf.Tensor3D, k, false, true).reshape([B, nHead, S0, S]); // (B, H, S0, S)
      if (keyBias) scores = scores.add(keyBias);
      const probs = ops().causalSoftmax(scores, scale).reshape([B * nHead, S0, S]) as tf.Tensor3D;
      // (B*H, S0, hd) -> (B, H, S0, hd) -> (B, S0, H, hd) -> (B*S0, d)
      const y = tf.matMul(probs, v).reshape([B, nHead, S0, hd]).transpose([0, 2, 1, 3]).reshape([B * S0, d]);
      x = x.add(blk.o.apply(y)) as tf.Tensor2D;
      const h2 = blk.ln2.apply(x);
      const act = blk.gate ? ops().swiglu(blk.gate.apply(h2), blk.up.apply(h2)) : ops().gelu(blk.up.apply(h2));
      x = x.add(blk.down.apply(act)) as tf.Tensor2D;
    }
    if (cache) {
      const merged = new Uint8Array(B * S);
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < S; s++) {
          merged[b * S + s] = s < past ? cache.slotMask[b * past + s]! : newSlotMask ? newSlotMask[b * S0 + s - past]! : 1;
        }
        cache.nextPosition[b] = positionIds ? countReal(newSlotMask!, b * S0, S0) + cache.nextPosition[b]! : S;
      }
      cache.slotMask = merged;
      cache.length = S;
      cache.padded = padded;
    }
    if (P > 0) x = x.reshape([B, S0, d]).slice([0, P, 0], [B, T, d]).reshape([B * T, d]); // drop prefix positions
    return x;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params().values()) v.dispose();
    this.ropeCos?.dispose();
    this.ropeSin?.dispose();
  }
}

function countReal(mask: Uint8Array, start: number, n: number): number {
  let c = 0;
  for (let i = start; i < start + n; i++) c += mask[i]!;
  return c;
}

/** How a parameter starts when it is freshly initialised. */
export type WeightInit = { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };

/** Supplies each parameter's values by name ('blocks.0.attn.q.weight', layout [in, out]). */
export type WeightSource = (name: string, shape: number[], init: WeightInit) => Float32Array;

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A model with fresh weights, identical for the same config and seed on every backend. */
export function createModel(config: ModelConfigInput | ModelConfig, seed: number): Model {
  if (!Number.isInteger(seed)) throw new Error(`createModel: seed=${seed} must be an integer`);
  return new TransformerModel(resolveModelConfig(config), (name, shape, init) => {
    const n = sizeOf(shape);
    if (init.kind === 'normal') return normalArray(n, init.std, streamSeed(seed, name));
    return new Float32Array(n).fill(init.kind === 'ones' ? 1 : 0);
  });
}

/**
 * A model with the given weights (our names and layouts, see Model.params()). Every parameter
 * must be present with its exact shape, and no unknown name may be left over.
 */
export function createModelFromWeights(
  config: ModelConfigInput | ModelConfig,
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  sourceName = 'weights',
): Model {
  const resolved = resolveModelConfig(config);
  const used = new Set<string>();
  const missing: string[] = [];
  const model = new TransformerModel(resolved, (name, shape) => {
    const w = weights.get(name);
    if (!w) {
      missing.push(name);
      return new Float32Array(sizeOf(shape));
    }
    if (w.shape.length !== shape.length || w.shape.some((s, i) => s !== shape[i])) {
      throw new Error(`${sourceName}: '${name}' has shape [${w.shape}], the config needs [${shape}]`);
    }
    if (w.data.length !== sizeOf(shape)) throw new Error(`${sourceName}: '${name}' holds ${w.data.length} values, expected ${sizeOf(shape)}`);
    used.add(name);
    return w.data;
  });
  const unknown = [...weights.keys()].filter((k) => !used.has(k));
  if (missing.length || unknown.length) {
    model.dispose();
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    if (unknown.length) parts.push(`unexpected ${unknown.length} tensor(s): ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`);
    throw new Error(`${sourceName}: does not match the config (${parts.join('; ')})`);
  }
  return model;
}
