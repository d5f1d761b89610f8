// LoRA initialised from an autoencoder of W's rows (our [in, out] kernel: one row per input unit,
// i.e. HF's columns). A bottleneck of width r is fitted to reproduce the rows; the codes of the rows
// become A [in, r] and the decoder B [r, out], so that A·B is the autoencoder's reconstruction of W
// (see README.md). Fitted with full-batch Adam for a fixed number of steps from a seeded start, so
// the same seed gives the same factors.
import * as tf from '@tensorflow/tfjs-core';
import { matrixFrom, subspaceSimilarity, svd, type Matrix } from '@peft-bench/core/analysis/index';
import { normalArray, streamSeed } from '../src/tensors.ts';

export type AutoencoderKind = 'linear' | 'mlp';

/** Fit steps when init_lora_weights names none ('autoencoder', 'autoencoder_mlp'). */
export const AUTOENCODER_DEFAULT_STEPS = 200;
/** Adam's step size on the RMS-normalised rows. */
const FIT_LR = 1e-2;
/** Above this side the SVD-based comparison (φ, best rank-r error) is skipped: too slow inside a run. */
const MAX_COMPARED_DIM = 2048;

/** 'autoencoder' | 'autoencoder_mlp' with an optional '_steps_<n>' (as HF PEFT's 'pissa_niter_<n>'). */
export const AUTOENCODER_INIT = /^autoencoder(_mlp)?(?:_steps_([1-9][0-9]{0,5}))?$/;

export function parseAutoencoderInit(init: string): { kind: AutoencoderKind; steps: number } | null {
  const m = AUTOENCODER_INIT.exec(init);
  if (!m) return null;
  return { kind: m[1] ? 'mlp' : 'linear', steps: m[2] ? Number(m[2]) : AUTOENCODER_DEFAULT_STEPS };
}

export interface AutoencoderModuleReport {
  /** ||W − Ŵ||_F / ||W||_F of the fitted reconstruction Ŵ = A·B (scaled). */
  reconstruction_error: number;
  /** The same for the best rank-r approximation (truncated SVD): the floor a linear autoencoder can reach. */
  svd_error: number | null;
  /** φ(r, r) between the decoder's row space and W's top-r output directions (HF: left singular vectors); 1 = the same subspace. */
  phi_output: number | null;
  /** φ(r, r) between the codes' column space and W's top-r input directions (HF: right singular vectors). */
  phi_input: number | null;
  fit_seconds: number;
}

export interface AutoencoderFit {
  /** Codes of the rows [in, r] and decoder [r, out], with codes·decoder = Ŵ (not yet split for the scaling). */
  codes: Float32Array;
  decoder: Float32Array;
  report: AutoencoderModuleReport;
}

const round = (x: number) => Number(x.toPrecision(6));

/**
 * Fits x ↦ dec(enc(x)) to the rows x of W [in, out]: linear enc(x) = x·E, or one hidden layer
 * enc(x) = tanh(x·E + c); dec(h) = h·D in both, without a bias, so that the reconstruction
 * Ŵ = enc(W)·D has rank r exactly. Loss: mean squared error on W / rms(W).
 */
export function fitAutoencoder(W: Float32Array, nIn: number, nOut: number, r: number, kind: AutoencoderKind, steps: number, seed: number): AutoencoderFit {
  const start = performance.now();
  let ss = 0;
  for (const x of W) ss += x * x;
  const rms = Math.sqrt(ss / W.length) || 1;
  const X = tf.tidy(() => tf.tensor2d(W, [nIn, nOut]).div(rms) as tf.Tensor2D);
  const vars = {
    E: tf.variable(tf.tensor2d(normalArray(nOut * r, 1 / Math.sqrt(nOut), streamSeed(seed, 'autoencoder.E')), [nOut, r])),
    D: tf.variable(tf.tensor2d(normalArray(r * nOut, 1 / Math.sqrt(r), streamSeed(seed, 'autoencoder.D')), [r, nOut])),
    c: tf.variable(tf.zeros([r])),
  };
  const params = kind === 'mlp' ? [vars.E, vars.D, vars.c] : [vars.E, vars.D];
  const encode = () => (kind === 'mlp' ? tf.tanh(tf.matMul(X, vars.E).add(vars.c)) : tf.matMul(X, vars.E)) as tf.Tensor2D;
  const loss = () => tf.matMul(encode(), vars.D).sub(X).square().mean() as tf.Scalar;
  // Full-batch Adam (β = 0.9, 0.999), written out so that no optimizer state outlives the fit.
  const m: tf.Tensor[] = params.map((p) => tf.zerosLike(p));
  const v: tf.Tensor[] = params.map((p) => tf.zerosLike(p));
  try {
    for (let t = 1; t <= steps; t++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(loss, params);
        params.forEach((p, i) => {
          const g = grads[p.name]!;
          const mi = m[i]!.mul(0.9).add(g.mul(0.1));
          const vi = v[i]!.mul(0.999).add(g.square().mul(0.001));
          const step = mi.div(1 - 0.9 ** t).div(vi.div(1 - 0.999 ** t).sqrt().add(1e-8)).mul(FIT_LR);
          p.assign(p.sub(step));
          m[i]!.dispose();
          v[i]!.dispose();
          m[i] = tf.keep(mi);
          v[i] = tf.keep(vi);
        });
      });
    }
    const codes = tf.tidy(() => Float32Array.from(encode().dataSync() as Float32Array));
    const decoder = tf.tidy(() => Float32Array.from(vars.D.mul(rms).dataSync() as Float32Array));
    const fitSeconds = (performance.now() - start) / 1000;
    return { codes, decoder, report: { ...compareWithSvd(W, nIn, nOut, r, codes, decoder), fit_seconds: round(fitSeconds) } };
  } finally {
    for (const t of [...m, ...v, X, vars.E, vars.D, vars.c]) t.dispose();
  }
}

/** Reconstruction error of codes·decoder against W, and its subspaces against W's top-r singular subspaces. */
function compareWithSvd(
  W: Float32Array, nIn: number, nOut: number, r: number, codes: Float32Array, decoder: Float32Array,
): Omit<AutoencoderModuleReport, 'fit_seconds'> {
  let err = 0;
  let norm = 0;
  for (let i = 0; i < nIn; i++) {
    for (let j = 0; j < nOut; j++) {
      let acc = 0;
      for (let c = 0; c < r; c++) acc += codes[i * r + c]! * decoder[c * nOut + j]!;
      err += (W[i * nOut + j]! - acc) ** 2;
      norm += W[i * nOut + j]! ** 2;
    }
  }
  const reconstruction_error = round(Math.sqrt(err / (norm || 1)));
  if (Math.max(nIn, nOut) > MAX_COMPARED_DIM) return { reconstruction_error, svd_error: null, phi_output: null, phi_input: null };
  // Our W [in, out] = U S Vᵀ: V spans the output side (HF's left singular vectors), U the input side.
  const w = svd(matrixFrom(W, nIn, nOut));
  const total = w.S.reduce((a, s) => a + s * s, 0) || 1;
  const svd_error = round(Math.sqrt(w.S.slice(r).reduce((a, s) => a + s * s, 0) / total));
  const basis = (x: Matrix) => {
    const d = svd(x);
    const k = d.S.filter((s) => s > (d.S[0] ?? 0) * 1e-6).length;
    return k > 0 ? d.U.subMatrix(0, x.rows - 1, 0, k - 1) : null;
  };
  const outBasis = basis(matrixFrom(decoder, r, nOut).transpose()); // [out, ≤r]
  const inBasis = basis(matrixFrom(codes, nIn, r)); // [in, ≤r]
  const phi = (b: Matrix | null, top: Matrix) => (b ? round(subspaceSimilarity(b, top, b.columns, Math.min(r, top.columns)) * (b.columns / r)) : 0);
  return { reconstruction_error, svd_error, phi_output: phi(outBasis, w.V), phi_input: phi(inBasis, w.U) };
}
