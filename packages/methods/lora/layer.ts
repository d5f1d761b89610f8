// The LoRA layer and its relatives (DoRA, grown ranks, projected/complement updates, frozen
// updates): per targeted linear y = x·W + b + s·(x·A)·B, with our factors A [in, r] and B [r, out]
// (HF stores lora_A = Aᵀ [r, in], lora_B = Bᵀ [out, r]; the export module transposes).
// Scaling s = lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA.
import * as tf from '@tensorflow/tfjs-core';
import type { Linear } from '@peft-bench/core/model/modules';
import { matrixFrom, svd, truncatedSvd } from '@peft-bench/core/analysis/svd';
import type { Attachment, AttachContext, Model } from '../src/types.ts';
import { uniformStream } from '@peft-bench/core/model/rng';
import { Hooks, assignFrom, hostCopy, kaimingUniform, normalArray, streamSeed, transpose, variableOf, zeros } from '../src/tensors.ts';
import {
  allHfLinearPaths, baseAdapterConfig, packLowRank, packVectors, readAdapter, unpackLowRank, unpackVectors, writeAdapter, type LowRankFactors,
} from '../src/hf/adapter.ts';
import { hfLinear, hfTargetModules } from '../src/hf/names.ts';
import { lowRankAnalysis } from '../src/analysis.ts';
import { fitAutoencoder, parseAutoencoderInit, type AutoencoderModuleReport } from './autoencoder.ts';

export const LORA_INITS = ['default', 'gaussian', 'pissa', 'milora', 'pool', 'autoencoder', 'autoencoder_mlp'] as const;
export const LORA_BIAS = ['none', 'all', 'lora_only'] as const;
export type LoraBias = (typeof LORA_BIAS)[number];
/** One of LORA_INITS, or an autoencoder init with its fit steps ('autoencoder_steps_500', see autoencoder.ts). */
export type LoraInit = (typeof LORA_INITS)[number] | `autoencoder_${string}`;

/** Above this size PiSSA uses a randomized top-r SVD. */
export const EXACT_SVD_MAX = 256;

export function loraScaling(alpha: number, r: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** A gradient-free copy (DoRA treats the weight norm as a constant, paper §4.3). */
const stopGradient = tf.customGrad(((x: tf.Tensor) => ({ value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]);

export interface LowRankPart {
  A: tf.Variable; // [in, r]
  B: tf.Variable; // [r, out]
}

/** One targeted linear's update. */
export class LowRankModule {
  readonly parts: LowRankPart[] = [];
  /** Projectors applied as A_eff = P_in·A, B_eff = B·P_out (complement training); null = none. */
  proj: { pin: tf.Tensor2D; pout: tf.Tensor2D } | null = null;
  /** DoRA magnitude [out]; null for plain LoRA. */
  magnitude: tf.Variable | null = null;
  /** Pretrained kernel when the method replaced it (PiSSA residual); restored on detach. */
  original: Float32Array | null = null;
  constructor(readonly linear: Linear, public scaling: number) {}

  get r(): number {
    return this.parts.reduce((a, p) => a + p.A.shape[1]!, 0);
  }

  /** [in, R] */
  effectiveA(): tf.Tensor2D {
    return tf.tidy(() => {
      const a = (this.parts.length === 1 ? this.parts[0]!.A : tf.concat(this.parts.map((p) => p.A), 1)) as tf.Tensor2D;
      return this.proj ? tf.matMul(this.proj.pin, a) : a.clone();
    });
  }

  /** [R, out] */
  effectiveB(): tf.Tensor2D {
    return tf.tidy(() => {
      const b = (this.parts.length === 1 ? this.parts[0]!.B : tf.concat(this.parts.map((p) => p.B), 0)) as tf.Tensor2D;
      return this.proj ? tf.matMul(b, this.proj.pout) : b.clone();
    });
  }

  /** s·A·B [in, out] */
  loraDelta(): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(this.effectiveA(), this.effectiveB()).mul(this.scaling) as tf.Tensor2D);
  }

  /** DoRA column scale m / ||W + ΔW||_col [out] (norm without gradient). */
  doraScale(delta: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const norm = stopGradient(this.linear.weight.add(delta).square().sum(0).sqrt()) as tf.Tensor1D;
      return this.magnitude!.div(norm) as tf.Tensor1D;
    });
  }

  /** The effective ΔW [in, out] (DoRA: the change of the whole adapted weight). */
  delta(): tf.Tensor2D {
    return tf.tidy(() => {
      const d = this.loraDelta();
      if (!this.magnitude) return d;
      return this.linear.weight.add(d).mul(this.doraScale(d)).sub(this.linear.weight) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const p of this.parts) (p.A.dispose(), p.B.dispose());
    this.parts.length = 0;
    this.proj?.pin.dispose();
    this.proj?.pout.dispose();
    this.magnitude?.dispose();
  }
}

/** Initial factors A [in, r], B [r, out] (ours) and, for PiSSA-style inits, the residual weight. */
export function initialFactors(
  lin: Linear,
  r: number,
  init: LoraInit,
  scaling: number,
  seed: number,
): { A: Float32Array; B: Float32Array; residual?: Float32Array; report?: AutoencoderModuleReport } {
  const { inFeatures: nIn, outFeatures: nOut } = lin;
  const s = streamSeed(seed, lin.name);
  if (init === 'default') return { A: kaimingUniform(nIn * r, nIn, s), B: zeros([r, nOut]) };
  if (init === 'gaussian') return { A: normalArray(nIn * r, 1 / r, s), B: zeros([r, nOut]) };
  const W = hostCopy(lin.weight); // [in, out]
  const A = new Float32Array(nIn * r);
  const B = new Float32Array(r * nOut);
  const autoencoder = parseAutoencoderInit(init);
  let report: AutoencoderModuleReport | undefined;
  if (autoencoder) {
    // Codes of W's rows -> A [in, r], decoder -> B [r, out]: codes·decoder is the reconstruction Ŵ. Split so
    // that s·A·B = Ŵ with both factors of a component at the same norm (as PiSSA and pool).
    const k = Math.min(nIn, nOut);
    if (r > k) throw new Error(`init_lora_weights='${init}' needs a bottleneck r <= min(in, out) = ${k} for ${lin.name}, got r=${r}`);
    const fit = fitAutoencoder(W, nIn, nOut, r, autoencoder.kind, autoencoder.steps, s);
    report = fit.report;
    for (let c = 0; c < r; c++) {
      let ca = 0;
      let cb = 0;
      for (let i = 0; i < nIn; i++) ca += fit.codes[i * r + c]! ** 2;
      for (let j = 0; j < nOut; j++) cb += fit.decoder[c * nOut + j]! ** 2;
      const g = ca > 0 && cb > 0 ? Math.sqrt(Math.sqrt(cb) / Math.sqrt(ca)) : 1;
      for (let i = 0; i < nIn; i++) A[i * r + c] = (fit.codes[i * r + c]! * g) / Math.sqrt(scaling);
      for (let j = 0; j < nOut; j++) B[c * nOut + j] = fit.decoder[c * nOut + j]! / g / Math.sqrt(scaling);
    }
  } else if (init === 'pissa' || init === 'milora') {
    const k = Math.min(nIn, nOut);
    if (r > k) throw new Error(`init_lora_weights='${init}' needs r <= min(in, out) = ${k} for ${lin.name}, got r=${r}`);
    // W = U S Vᵀ, U [in, k], V [out, k]. PiSSA on large matrices needs only the top r: randomized SVD
    // (as PEFT's pissa_niter_*); MiLoRA needs the smallest components, so the full SVD.
    const M = matrixFrom(W, nIn, nOut);
    const d = init === 'pissa' && k > EXACT_SVD_MAX && r < k / 4 ? truncatedSvd(M, r, { seed: s }) : svd(M);
    // PiSSA: the top-r components; MiLoRA: the r smallest. Each factor carries sqrt(S/s).
    const comps = Array.from({ length: r }, (_, c) => (init === 'pissa' ? c : k - r + c));
    comps.forEach((comp, c) => {
      const g = Math.sqrt(d.S[comp]! / scaling);
      for (let i = 0; i < nIn; i++) A[i * r + c] = d.U.get(i, comp) * g;
      for (let j = 0; j < nOut; j++) B[c * nOut + j] = d.V.get(j, comp) * g;
    });
  } else {
    // Pool: split the output units into r contiguous groups G_k; P [out, r] has P[j,k] = 1/sqrt|G_k|
    // for j in G_k (orthonormal columns), so W·P·Pᵀ replaces each output column by its group mean.
    // With M = W·P [in, r] and c_k = ||M[:, k]||: A[:, k] = M[:, k]/sqrt(c_k·s), B[k, :] = sqrt(c_k/s)·P[:, k]ᵀ,
    // so s·A·B = W·P·Pᵀ and both factors of a component have the same norm (as in PiSSA).
    if (r > nOut) throw new Error(`init_lora_weights='pool' needs r <= out = ${nOut} for ${lin.name}, got r=${r}`);
    const group = (j: number) => Math.floor((j * r) / nOut);
    const sizes = new Array(r).fill(0) as number[];
    for (let j = 0; j < nOut; j++) sizes[group(j)]!++;
    const M = new Float64Array(nIn * r);
    for (let i = 0; i < nIn; i++) for (let j = 0; j < nOut; j++) M[i * r + group(j)] += W[i * nOut + j]! / Math.sqrt(sizes[group(j)]!);
    for (let k = 0; k < r; k++) {
      let c = 0;
      for (let i = 0; i < nIn; i++) c += M[i * r + k]! ** 2;
      c = Math.sqrt(c) || 1;
      for (let i = 0; i < nIn; i++) A[i * r + k] = M[i * r + k]! / Math.sqrt(c * scaling);
      for (let j = 0; j < nOut; j++) if (group(j) === k) B[k * nOut + j] = Math.sqrt(c / scaling) / Math.sqrt(sizes[k]!);
    }
  }
  // Residual W - s·A·B keeps the function unchanged at init.
  const residual = Float32Array.from(W);
  for (let i = 0; i < nIn; i++) {
    for (let j = 0; j < nOut; j++) {
      let acc = 0;
      for (let c = 0; c < r; c++) acc += A[i * r + c]! * B[c * nOut + j]!;
      residual[i * nOut + j] -= scaling * acc;
    }
  }
  return { A, B, residual, ...(report ? { report } : {}) };
}

export interface LoraSettings {
  methodId: string;
  model: Model;
  ctx: AttachContext;
  targets: Linear[];
  r: number;
  alpha: number;
  rslora: boolean;
  dropout: number;
  init: LoraInit;
  dora: boolean;
  /** false: a fixed update (post-hoc slices and complements), nothing to train. */
  trainable: boolean;
  /** Factors to start from instead of `init` (ours: A [in, r], B [r, out]), with their own scaling. */
  given?: Map<string, { A: Float32Array; B: Float32Array; r: number }>;
  givenScaling?: number;
  /** Rank used in the scaling alpha/r when it differs from the starting r (a grown LoRA scales by its final rank). */
  scalingRank?: number;
  /** Projectors per module (ours: P_in [in, in], P_out [out, out]): the update is P_in·A·B·P_out. */
  projectors?: Map<string, { pin: Float32Array; pout: Float32Array }>;
  /** HF PEFT's bias: also train the biases of all linears ('all') or of the targeted ones ('lora_only'). */
  bias?: LoraBias;
  /** Extra fields for adapter_config.json (method-specific settings). */
  extraConfig?: Record<string, unknown>;
  /** Value written as init_lora_weights. */
  initLabel?: unknown;
}

/** A LoRA-family attachment; subclasses and wrappers add growth and projections. */
export class LoraAttachment implements Attachment {
  readonly trainable = new Map<string, tf.Variable>();
  readonly modules: LowRankModule[] = [];
  protected readonly hooks = new Hooks();
  private training = false;
  /** Trainable bias deltas (bias 'all' / 'lora_only'), added to the module's output. */
  private readonly biasDeltas = new Map<Linear, tf.Variable>();
  private mergedSnapshot: Map<LowRankModule, Float32Array> | null = null;
  private mergedBias: Map<Linear, Float32Array> | null = null;
  private savedHooks: ReturnType<Hooks['removeAll']> | null = null;
  /** Per module, how an autoencoder init fitted W (for the analysis). */
  private readonly initReports = new Map<string, AutoencoderModuleReport>();
  /** A seed per lora_dropout mask, drawn from the run's seed (tf.dropout without one uses Math.random: irreproducible). */
  private readonly dropoutSeeds: () => number;

  constructor(readonly settings: LoraSettings) {
    const { targets, r, alpha, rslora, init, ctx } = settings;
    this.dropoutSeeds = uniformStream(streamSeed(ctx.seed, 'lora_dropout'));
    try {
      for (const lin of targets) {
        const given = settings.given?.get(lin.name);
        const scaling = given ? (settings.givenScaling ?? 1) : loraScaling(alpha, settings.scalingRank ?? r, rslora);
        const mod = new LowRankModule(lin, scaling);
        this.modules.push(mod);
        const proj = settings.projectors?.get(lin.name);
        if (proj) {
          mod.proj = {
            pin: tf.tensor2d(proj.pin, [lin.inFeatures, lin.inFeatures]),
            pout: tf.tensor2d(proj.pout, [lin.outFeatures, lin.outFeatures]),
          };
        }
        if (given) {
          this.addPart(mod, given.A, given.B, given.r);
        } else {
          const f = initialFactors(lin, r, init, scaling, ctx.seed);
          if (f.report) this.initReports.set(lin.name, f.report);
          if (f.residual) {
            mod.original = hostCopy(lin.weight);
            assignFrom(lin.weight, f.residual);
          }
          this.addPart(mod, f.A, f.B, r);
        }
        if (settings.dora) {
          // m starts as the column norms of W (+ΔW, which is zero unless a PiSSA-style init), so y is unchanged.
          const m = tf.tidy(() => lin.weight.add(mod.loraDelta()).square().sum(0).sqrt());
          mod.magnitude = tf.variable(m, true);
          m.dispose();
          if (settings.trainable) this.trainable.set(`${lin.name}.lora_magnitude_vector`, mod.magnitude);
        }
        this.hooks.linear(lin, (x, base) => this.forward(mod, x, base));
      }
      this.attachBiases();
    } catch (e) {
      this.detach();
      throw e;
    }
  }

  private attachBiases(): void {
    const mode = this.settings.bias ?? 'none';
    if (mode === 'none') return;
    const { targets, model, methodId } = this.settings;
    const targeted = new Set(targets.map((t) => t.name));
    const withBias = (mode === 'all' ? model.linears() : targets).filter((l) => l.bias);
    if (withBias.length === 0) {
      throw new Error(`method '${methodId}': bias='${mode}' trains bias terms, but the ${mode === 'all' ? `${model.config.family} model's linears have` : 'targeted linears have'} none; use bias='none'`);
    }
    for (const lin of withBias) {
      const d = variableOf(zeros([lin.outFeatures]), [lin.outFeatures]);
      this.biasDeltas.set(lin, d);
      if (this.settings.trainable) this.trainable.set(`${lin.name}.bias_delta`, d);
      if (!targeted.has(lin.name)) this.hooks.linear(lin, (x, base) => base(x).add(d));
    }
  }

  /** Appends components (A_new [in, k], B_new [k, out]) to a module; trainable under `.lora_A.<part>`. */
  addPart(mod: LowRankModule, A: Float32Array, B: Float32Array, k: number): void {
    const part = { A: variableOf(A, [mod.linear.inFeatures, k]), B: variableOf(B, [k, mod.linear.outFeatures]) };
    const idx = mod.parts.length;
    mod.parts.push(part);
    if (this.settings.trainable) {
      const suffix = idx === 0 ? '' : `.${idx}`;
      this.trainable.set(`${mod.linear.name}.lora_A${suffix}`, part.A);
      this.trainable.set(`${mod.linear.name}.lora_B${suffix}`, part.B);
    }
  }

  protected forward(mod: LowRankModule, x: tf.Tensor, base: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const xd = this.training && this.settings.dropout > 0 ? tf.dropout(x, this.settings.dropout, undefined, Math.floor(this.dropoutSeeds() * 2 ** 32)) : x;
      const lora = tf.matMul(tf.matMul(xd as tf.Tensor2D, mod.effectiveA()), mod.effectiveB()).mul(mod.scaling);
      const biasDelta = this.biasDeltas.get(mod.linear);
      let y: tf.Tensor;
      if (!mod.magnitude) y = base(x).add(lora);
      else {
        // DoRA: (x·W + s·x·A·B) · m/||W + s·A·B||_col + b
        const scale = mod.doraScale(mod.loraDelta());
        const bias = mod.linear.bias;
        y = (bias ? base(x).sub(bias) : base(x)).add(lora).mul(scale);
        if (bias) y = y.add(bias);
      }
      return biasDelta ? y.add(biasDelta) : y;
    });
  }

  trainableCount(): number {
    let n = 0;
    for (const v of this.trainable.values()) n += v.size;
    return n;
  }

  setTraining(training: boolean): void {
    this.training = training;
  }

  merge(): void {
    if (this.mergedSnapshot) throw new Error(`${this.settings.methodId}: already merged`);
    const snap = new Map<LowRankModule, Float32Array>();
    for (const mod of this.modules) {
      snap.set(mod, hostCopy(mod.linear.weight));
      const merged = tf.tidy(() => mod.linear.weight.add(mod.delta()));
      assignFrom(mod.linear.weight, merged);
    }
    this.mergedSnapshot = snap;
    this.mergedBias = new Map();
    for (const [lin, d] of this.biasDeltas) {
      this.mergedBias.set(lin, hostCopy(lin.bias!));
      assignFrom(lin.bias!, tf.tidy(() => lin.bias!.add(d)));
    }
    this.savedHooks = this.hooks.removeAll();
  }

  unmerge(): void {
    if (!this.mergedSnapshot) throw new Error(`${this.settings.methodId}: not merged`);
    for (const [mod, w] of this.mergedSnapshot) assignFrom(mod.linear.weight, w);
    for (const [lin, b] of this.mergedBias ?? []) assignFrom(lin.bias!, b);
    this.mergedBias = null;
    this.hooks.restore(this.savedHooks!);
    this.mergedSnapshot = null;
    this.savedHooks = null;
  }

  deltas(): Map<string, tf.Tensor2D> {
    return new Map(this.modules.map((m) => [m.linear.name, m.delta()]));
  }

  analysis(): Record<string, unknown> {
    const byName = new Map(this.modules.map((m) => [m.linear.name, m]));
    const report = lowRankAnalysis(this.settings.model, this.deltas(), this.modules[0]?.r, (lin) => byName.get(lin.name)?.original ?? (lin.weight.dataSync() as Float32Array));
    return this.initReports.size > 0 ? { ...report, init: this.autoencoderSummary() } : report;
  }

  /** The autoencoder fit: settings, total fit time, means over modules and each module's figures. */
  private autoencoderSummary(): Record<string, unknown> {
    const ae = parseAutoencoderInit(this.settings.init)!;
    const reports = [...this.initReports.values()];
    const mean = (pick: (m: AutoencoderModuleReport) => number | null) => {
      const xs = reports.map(pick).filter((x): x is number => x !== null);
      return xs.length ? Number((xs.reduce((a, x) => a + x, 0) / xs.length).toPrecision(6)) : null;
    };
    return {
      method: 'autoencoder',
      kind: ae.kind,
      steps: ae.steps,
      bottleneck: this.modules[0]?.r,
      fit_seconds: Number(reports.reduce((a, m) => a + m.fit_seconds, 0).toPrecision(6)),
      reconstruction_error: mean((m) => m.reconstruction_error),
      svd_error: mean((m) => m.svd_error),
      phi_output: mean((m) => m.phi_output),
      phi_input: mean((m) => m.phi_input),
      modules: Object.fromEntries(this.initReports),
    };
  }

  /** HF factors of every module (lora_A [R, in], lora_B [out, R]). */
  protected hfFactors(): Map<string, LowRankFactors> {
    const out = new Map<string, LowRankFactors>();
    for (const mod of this.modules) {
      const { inFeatures: nIn, outFeatures: nOut } = mod.linear;
      const R = mod.r;
      const a = mod.effectiveA();
      const b = mod.effectiveB();
      const f: LowRankFactors = { A: transpose(a.dataSync(), nIn, R), B: transpose(b.dataSync(), R, nOut), r: R };
      a.dispose();
      b.dispose();
      if (mod.magnitude) f.vectors = { lora_magnitude_vector: hostCopy(mod.magnitude) };
      out.set(mod.linear.name, f);
    }
    return out;
  }

  async save(dir: string): Promise<void> {
    const { model, ctx, rslora } = this.settings;
    const factors = this.hfFactors();
    // DoRA on an untargeted slice of a fused module: its magnitude is the base column norm (scale 1).
    const fill = (_v: string, name: string, size: number) => {
      const w = (model.module(name) as Linear).weight;
      return tf.tidy(() => Float32Array.from(w.square().sum(0).sqrt().dataSync() as Float32Array)).slice(0, size);
    };
    const packed = packLowRank(model, factors, fill);
    // Trained biases, saved whole as HF PEFT does (GPT-2's c_attn.bias is [3d]: untouched parts keep the base bias).
    const trainedBias = (lin: Linear) => tf.tidy(() => hostCopy(this.biasDeltas.has(lin) ? lin.bias!.add(this.biasDeltas.get(lin)!) : lin.bias!));
    if (this.biasDeltas.size > 0) {
      const biases = packVectors(model, new Map([...this.biasDeltas.keys()].map((l) => [l.name, trainedBias(l)])), 'bias', (n) => [n], (name) =>
        trainedBias(model.module(name) as Linear),
      );
      for (const [k, t] of biases.tensors) packed.tensors.set(k, t);
    }
    // The written r / lora_alpha reproduce each module's scaling: alpha_path = s·R (or s·sqrt(R) with rsLoRA).
    const rankCount = new Map<number, number>();
    for (const R of packed.ranks.values()) rankCount.set(R, (rankCount.get(R) ?? 0) + 1);
    const r = [...rankCount].sort((a, b) => b[1] - a[1])[0]![0];
    const scalingOf = new Map<string, number>();
    for (const mod of this.modules) scalingOf.set(hfLinear(model.config, mod.linear.name).path, mod.scaling);
    const alphaFor = (R: number, s: number) => Number((rslora ? s * Math.sqrt(R) : s * R).toPrecision(12));
    const s0 = this.modules[0]!.scaling;
    const alpha = alphaFor(r, s0);
    const rankPattern: Record<string, number> = {};
    const alphaPattern: Record<string, number> = {};
    for (const [path, R] of packed.ranks) {
      if (R !== r) rankPattern[path] = R;
      const a = alphaFor(R, scalingOf.get(path)!);
      if (a !== alpha) alphaPattern[path] = a;
    }
    const config = {
      ...baseAdapterConfig('LORA', model, ctx),
      alpha_pattern: alphaPattern,
      bias: this.settings.bias ?? 'none',
      fan_in_fan_out: model.config.family === 'gpt2',
      init_lora_weights: this.settings.initLabel ?? (this.settings.init === 'default' ? true : this.settings.init),
      layers_pattern: null,
      layers_to_transform: null,
      lora_alpha: alpha,
      lora_bias: false,
      lora_dropout: this.settings.dropout,
      modules_to_save: null,
      r,
      rank_pattern: rankPattern,
      target_modules: hfTargetModules(packed.paths, allHfLinearPaths(model)),
      use_dora: this.settings.dora,
      use_rslora: rslora,
      ...(this.settings.extraConfig ?? {}),
      ...this.extraConfig(),
    };
    await writeAdapter(dir, config, packed.tensors);
  }

  /** Fields a subclass adds to adapter_config.json at save time. */
  protected extraConfig(): Record<string, unknown> {
    return {};
  }

  async load(dir: string): Promise<void> {
    const { tensors } = await readAdapter(dir, 'LORA');
    const ranks = new Map(this.modules.map((m) => [m.linear.name, m.r]));
    const factors = unpackLowRank(this.settings.model, tensors, ranks, this.settings.dora ? ['lora_magnitude_vector'] : []);
    for (const mod of this.modules) {
      const f = factors.get(mod.linear.name)!;
      const { inFeatures: nIn, outFeatures: nOut } = mod.linear;
      // Write the whole update into the parts in order (a grown module keeps its split).
      const A = transpose(f.A, f.r, nIn); // [in, R]
      const B = transpose(f.B, nOut, f.r); // [R, out]
      let col = 0;
      for (const p of mod.parts) {
        const k = p.A.shape[1]!;
        const a = new Float32Array(nIn * k);
        for (let i = 0; i < nIn; i++) for (let c = 0; c < k; c++) a[i * k + c] = A[i * f.r + col + c]!;
        assignFrom(p.A, a);
        assignFrom(p.B, B.slice(col * nOut, (col + k) * nOut));
        col += k;
      }
      if (mod.magnitude) assignFrom(mod.magnitude, f.vectors!.lora_magnitude_vector!);
    }
    if (this.biasDeltas.size > 0) {
      const lins = [...this.biasDeltas.keys()];
      const saved = unpackVectors(this.settings.model, tensors, lins.map((l) => l.name), 'bias', (n) => [n]);
      for (const lin of lins) {
        const base = hostCopy(lin.bias!);
        assignFrom(this.biasDeltas.get(lin)!, saved.get(lin.name)!.map((v, i) => v - base[i]!));
      }
    }
  }

  detach(): void {
    if (this.mergedSnapshot) this.unmerge();
    this.hooks.removeAll();
    for (const mod of this.modules) {
      if (mod.original) assignFrom(mod.linear.weight, mod.original);
      mod.dispose();
    }
    for (const d of this.biasDeltas.values()) d.dispose();
    this.biasDeltas.clear();
    this.modules.length = 0;
    this.trainable.clear();
  }
}
