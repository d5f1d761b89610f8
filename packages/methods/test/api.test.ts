// The plug-in API around the methods: registry, listing, --rank/--set, validation messages,
// target matching, the HF PEFT file layout (byte by byte), SVD slices and complements.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadRegistry, getMethod, listMethods, withRank } from '../src/registry.ts';
import { resolveLinears } from '../src/targets.ts';
import { svdSlice, readLoraDeltas, attachmentDeltas, compareLowRank } from '../src/lowrank-io.ts';
import { writeExampleLoraAdapter } from '../src/examples.ts';
import { matrixFrom, svd } from '@peft-bench/core/analysis/svd';
import { subspaceSimilarity } from '@peft-bench/core/analysis/lowrank';
import { Trainer, fixedBatch, logits, maxAbsDiff, tinyModel, useCpu } from './fixtures.ts';

await useCpu();
const tmp = mkdtempSync(join(tmpdir(), 'peft-api-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CATALOGUE = [
  'bitfit', 'dora', 'full', 'houlsby', 'ia3', 'ln', 'ln-outlier', 'ln-random', 'loha', 'lokr', 'lora', 'lora-complement',
  'lora-grow', 'none', 'prompt', 'svd-slice', 'vera',
];

describe('registry', () => {
  it('is built from the method folders', async () => {
    const ids = (await loadRegistry()).ids();
    for (const id of CATALOGUE) expect(ids).toContain(id);
  });

  it('an unknown id lists the valid ones', async () => {
    await expect(getMethod('lorra')).rejects.toThrow(/unknown method 'lorra'; valid methods are .*\blora\b.*\bvera\b/);
  });

  it('listMethods gives everything --list --json needs, derived from the schemas', async () => {
    const list = await listMethods();
    const lora = list.find((m) => m.id === 'lora')!;
    expect(lora).toMatchObject({ title: 'LoRA', family: 'low-rank', rankParam: 'r', modelFamilies: ['gpt2', 'llama'] });
    expect(lora.paper.url).toMatch(/arxiv/);
    const r = lora.hyperparameters.find((h) => h.name === 'r')!;
    expect(r).toMatchObject({ type: 'integer', default: 8, minimum: 1, maximum: 1024, allowed: 'integer in 1..1024' });
    // The named inits, or an autoencoder init with its fit steps ('autoencoder_steps_<n>', as PEFT's 'pissa_niter_<n>').
    expect(lora.hyperparameters.find((h) => h.name === 'init_lora_weights')!.allowed).toBe(
      'one of "default", "gaussian", "pissa", "milora", "pool", "autoencoder", "autoencoder_mlp" or string',
    );
    expect(list.find((m) => m.id === 'bitfit')!.modelFamilies).toEqual(['gpt2']);
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
  });
});

describe('withRank and --set', () => {
  it('coerces strings by the field type and fills defaults', async () => {
    const lora = await getMethod('lora');
    const c = withRank(lora, 16, { lora_alpha: '32', use_rslora: 'true', target_modules: 'q,k,v', init_lora_weights: 'pissa' });
    expect(c).toEqual({ r: 16, lora_alpha: 32, lora_dropout: 0, target_modules: ['q', 'k', 'v'], init_lora_weights: 'pissa', use_rslora: true, bias: 'none' });
    expect(withRank(lora, null, { target_modules: '["blocks\\\\.0\\\\.attn\\\\.q"]' }).target_modules).toEqual(['blocks\\.0\\.attn\\.q']);
  });

  it('takes an autoencoder init with a fit budget and refuses other strings', async () => {
    const lora = await getMethod('lora');
    expect(withRank(lora, 8, { init_lora_weights: 'autoencoder_mlp_steps_50' }).init_lora_weights).toBe('autoencoder_mlp_steps_50');
    for (const bad of ['autoencoder_steps_0', 'autoencoder_mlp_steps_', 'autoencoders', 'svd']) {
      expect(() => withRank(lora, 8, { init_lora_weights: bad }), bad).toThrow(/init_lora_weights=.*autoencoder_steps_<n>.*allowed: one of "default"/);
    }
  });

  it('bad values name the method, field, value and what is allowed', async () => {
    const lora = await getMethod('lora');
    expect(() => withRank(lora, 0)).toThrow("method 'lora': r=0 is invalid");
    expect(() => withRank(lora, 0)).toThrow(/allowed: integer in 1\.\.1024/);
    expect(() => withRank(lora, 8, { lora_alpha: 'abc' })).toThrow(/--set lora_alpha=abc: not a number; allowed: number/);
    expect(() => withRank(lora, 8, { use_rslora: 'yes' })).toThrow(/expected true or false/);
    expect(() => withRank(lora, 8, { init_lora_weights: 'svd' })).toThrow(/init_lora_weights="svd" is invalid.*one of "default", "gaussian", "pissa", "milora", "pool"/);
    expect(() => withRank(lora, 8, { alpha: '4' })).toThrow(/unknown hyperparameter 'alpha' in --set; valid fields are r, lora_alpha/);
    expect(() => withRank(lora, 8, { r: '4' })).toThrow(/--rank sets 'r', which --set also sets/);
    expect(() => lora.parse({ r: 4, extra: 1 })).toThrow(/unknown hyperparameter 'extra'/);
    expect(() => lora.parse('r=4')).toThrow(/must be an object/);
  });

  it('a rank for a method without one is refused', async () => {
    await expect(getMethod('full').then((m) => withRank(m, 8))).rejects.toThrow(/method 'full' takes no rank: drop --rank/);
    const grow = await getMethod('lora-grow');
    expect(() => withRank(grow, 4)).toThrow(/r_start \(default 8\) is invalid \(r_start must be <= r\)/);
  });
});

describe('target_modules', () => {
  const model = tinyModel('llama');
  it('matches by suffix, HF synonym, regex and all-linear', () => {
    expect(resolveLinears('t', model, ['q']).map((l) => l.name)).toEqual(['blocks.0.attn.q', 'blocks.1.attn.q']);
    expect(resolveLinears('t', model, ['v_proj', 'gate']).map((l) => l.name)).toEqual(['blocks.0.attn.v', 'blocks.0.mlp.gate', 'blocks.1.attn.v', 'blocks.1.mlp.gate']);
    expect(resolveLinears('t', model, ['blocks\\.1\\.mlp\\.(up|down)']).map((l) => l.name)).toEqual(['blocks.1.mlp.up', 'blocks.1.mlp.down']);
    expect(resolveLinears('t', model, ['all-linear'])).toHaveLength(14);
  });
  it('a pattern matching nothing lists the modules', () => {
    expect(() => resolveLinears('lora', model, ['c_attn'])).toThrow(/method 'lora': target_modules entry 'c_attn' matches no linear module; linear modules are q, k, v, o, gate, up, down/);
    expect(() => resolveLinears('lora', model, [])).toThrow(/target_modules is empty/);
    expect(() => resolveLinears('lora', model, ['(q'])).toThrow(/not a valid regular expression/);
  });
});

/** safetensors bytes as HF writes them: u64 header length, JSON header (sorted, padded to 8), F32 data. */
function hfSafetensors(tensors: [string, number[], Float32Array][]): Uint8Array {
  const sorted = [...tensors].sort(([a], [b]) => (a < b ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape, data] of sorted) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.length * 4] };
    offset += data.length * 4;
  }
  let json = JSON.stringify(header);
  while (json.length % 8) json += ' ';
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  for (let i = 0; i < json.length; i++) out[8 + i] = json.charCodeAt(i);
  let p = 8 + json.length;
  for (const [, , data] of sorted) for (const x of data) (dv.setFloat32(p, x, true), (p += 4));
  return out;
}

const seq = (n: number, scale: number, shift = 0) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + shift) * scale);

describe('HF PEFT adapter files', () => {
  it('llama LoRA: loads a file written byte by byte in the HF layout and writes the same bytes back', async () => {
    const model = tinyModel('llama');
    const r = 2, d = 32, alpha = 4;
    const tensors: [string, number[], Float32Array][] = [];
    for (const i of [0, 1]) {
      for (const p of ['q', 'v']) {
        tensors.push([`base_model.model.model.layers.${i}.self_attn.${p}_proj.lora_A.weight`, [r, d], seq(r * d, 0.1, i)]);
        tensors.push([`base_model.model.model.layers.${i}.self_attn.${p}_proj.lora_B.weight`, [d, r], seq(d * r, 0.2, i + 1)]);
      }
    }
    const dir = join(tmp, 'hf-llama');
    mkdirSync(dir, { recursive: true });
    const bytes = hfSafetensors(tensors);
    writeFileSync(join(dir, 'adapter_model.safetensors'), bytes);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r, lora_alpha: alpha, target_modules: ['q_proj', 'v_proj'] }));
    const lora = await getMethod('lora');
    const att = await lora.attach(model, { r, lora_alpha: alpha, target_modules: ['q', 'v'] }, { seed: 1 });
    await att.load(dir);
    // ΔW in our layout [in, out] = (s·B·A)ᵀ with HF's A [r, in], B [out, r].
    const A = tf.tensor2d(tensors[0]![2], [r, d]);
    const B = tf.tensor2d(tensors[1]![2], [d, r]);
    const expected = tf.matMul(B, A).mul(alpha / r).transpose().dataSync();
    const got = att.deltas!().get('blocks.0.attn.q')!.dataSync();
    for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 6);

    const out = join(tmp, 'hf-llama-out');
    await att.save(out);
    expect(new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors')))).toEqual(bytes);
    const text = readFileSync(join(out, 'adapter_config.json'), 'utf8');
    const config = JSON.parse(text);
    expect(Object.keys(config)).toEqual([...Object.keys(config)].sort());
    expect(text).toContain('\n  "peft_type": "LORA",\n');
    expect(config).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', inference_mode: true, base_model_name_or_path: 'peft-bench/llama', r, lora_alpha: alpha,
      target_modules: ['q_proj', 'v_proj'], use_rslora: false, use_dora: false, init_lora_weights: true, bias: 'none', fan_in_fan_out: false,
      rank_pattern: {}, alpha_pattern: {},
    });
    att.detach();
    model.dispose();
  });

  it('gpt2 fused c_attn: q and v pack exactly into one block-diagonal LoRA with rank and alpha patterns', async () => {
    const model = tinyModel('gpt2');
    const d = 32, r = 2, alpha = 4;
    const src = join(tmp, 'gpt2-src');
    await writeExampleLoraAdapter(model, src, r, 5, ['q', 'v']);
    const lora = await getMethod('lora');
    const att = await lora.attach(model, { r, lora_alpha: alpha, target_modules: ['q', 'v'] }, { seed: 3 });
    await att.load(src); // our own packing round-trips
    const dir = join(tmp, 'gpt2-out');
    await att.save(dir);
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ target_modules: ['c_attn'], r: 2 * r, lora_alpha: 2 * alpha, fan_in_fan_out: true, rank_pattern: {}, alpha_pattern: {} });
    const bytes = readFileSync(join(dir, 'adapter_model.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight']).toMatchObject({ dtype: 'F32', shape: [2 * r, d] });
    expect(header['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight']).toMatchObject({ dtype: 'F32', shape: [3 * d, 2 * r] });
    // HF semantics: ΔW_c_attn = (alpha'/r')·B·A [3d, in]; rows 0..d are ΔW_q, d..2d zero (k untouched), 2d..3d ΔW_v.
    const read = (key: string) => {
      const e = header[key];
      const start = 8 + n + e.data_offsets[0];
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + (e.data_offsets[1] - e.data_offsets[0])));
    };
    const A = tf.tensor2d(read('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'), [2 * r, d]);
    const B = tf.tensor2d(read('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight'), [3 * d, 2 * r]);
    const fused = tf.matMul(B, A).mul(config.lora_alpha / config.r); // [3d, in]
    const deltas = att.deltas!();
    const q = deltas.get('blocks.0.attn.q')!.transpose(); // [out, in]
    const v = deltas.get('blocks.0.attn.v')!.transpose();
    expect(tf.max(tf.abs(fused.slice([0, 0], [d, d]).sub(q))).dataSync()[0]).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(fused.slice([d, 0], [d, d]))).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(fused.slice([2 * d, 0], [d, d]).sub(v))).dataSync()[0]).toBeLessThan(1e-6);
    // readLoraDeltas (used by complement and slices) splits the fused module back.
    const back = await readLoraDeltas(model, dir);
    expect([...back.keys()].sort()).toEqual(['blocks.0.attn.q', 'blocks.0.attn.v', 'blocks.1.attn.q', 'blocks.1.attn.v']);
    const qBack = back.get('blocks.0.attn.q')!.data;
    const qOurs = deltas.get('blocks.0.attn.q')!.dataSync();
    for (let i = 0; i < qBack.length; i += 97) expect(qBack[i]).toBeCloseTo(qOurs[i]!, 6);
    att.detach();
    model.dispose();
  });

  it('LoRA bias training needs biases: refused on Llama with a clear message', async () => {
    const model = tinyModel('llama');
    await expect((await getMethod('lora')).attach(model, { bias: 'all' }, { seed: 1 })).rejects.toThrow(/bias='all' trains bias terms, but the llama model's linears have none/);
    expect(model.linears().every((l) => l.hook === null)).toBe(true); // a failed attach leaves no hooks behind
    model.dispose();
  });

  it('load refuses another method’s adapter and a missing folder', async () => {
    const model = tinyModel('llama');
    const ia3 = await (await getMethod('ia3')).attach(model, {}, { seed: 1 });
    await expect(ia3.load(join(tmp, 'hf-llama'))).rejects.toThrow(/peft_type "LORA", expected "IA3"/);
    await expect(ia3.load(join(tmp, 'nowhere'))).rejects.toThrow(/has no adapter_config\.json/);
    ia3.detach();
    model.dispose();
  });
});

describe('post-hoc tools', () => {
  it('svdSlice: slices 1..2 and 3..4 of a rank-4 update add up to it', async () => {
    const model = tinyModel('llama');
    const dir = await writeExampleLoraAdapter(model, join(tmp, 'slice-src'), 4, 9);
    const full = await readLoraDeltas(model, dir);
    const a = await svdSlice(model, dir, 1, 2);
    const b = await svdSlice(model, dir, 3, 4);
    const name = 'blocks.1.attn.v';
    const sum = tf.tidy(() => {
      const fa = a.get(name)!, fb = b.get(name)!;
      const nOut = full.get(name)!.outFeatures;
      return tf.matMul(tf.tensor2d(fa.A, [32, 2]), tf.tensor2d(fa.B, [2, nOut])).add(tf.matMul(tf.tensor2d(fb.A, [32, 2]), tf.tensor2d(fb.B, [2, nOut]))).dataSync();
    });
    const want = full.get(name)!.data;
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(sum[i]! - want[i]!));
    expect(err).toBeLessThan(1e-5);
    // The slice's singular values are components 3..4 of the update.
    const s = svd(matrixFrom(want, 32, full.get(name)!.outFeatures)).S;
    const fb = b.get(name)!;
    const sliceS = svd(matrixFrom(tf.matMul(tf.tensor2d(fb.A, [32, 2]), tf.tensor2d(fb.B, [2, full.get(name)!.outFeatures])).dataSync(), 32, full.get(name)!.outFeatures)).S;
    expect(sliceS[0]).toBeCloseTo(s[2]!, 4);
    expect(sliceS[1]).toBeCloseTo(s[3]!, 4);
    await expect(svdSlice(model, dir, 40, 41)).rejects.toThrow(/component 40 does not exist/);
    // An update compared with itself: φ = 1 on the diagonal of the grid; with its own slice 3..4 vs 1..2: 0.
    const self = await compareLowRank(model, dir, dir);
    expect(self[name]!.is).toEqual([1, 2, 4]);
    expect(self[name]!.phi[2]![2]).toBeCloseTo(1, 5);
    const slice12 = join(tmp, 'slice-12');
    const m = await getMethod('svd-slice');
    const s12 = await m.attach(model, { adapter: dir, from: 1, to: 2 }, { seed: 1 });
    await s12.save(slice12);
    s12.detach();
    const s34 = await m.attach(model, { adapter: dir, from: 3, to: 4 }, { seed: 1 });
    const cross = await compareLowRank(model, slice12, s34);
    expect(cross[name]!.phi[1]![1]).toBeLessThan(1e-6);
    s34.detach();
    model.dispose();
  });

  it('lora-complement: the post-hoc update is orthogonal to the small update’s subspaces', async () => {
    const model = tinyModel('llama');
    const small = await writeExampleLoraAdapter(model, join(tmp, 'c-small'), 2, 1);
    const large = await writeExampleLoraAdapter(model, join(tmp, 'c-large'), 6, 2);
    const method = await getMethod('lora-complement');
    const att = await method.attach(model, { small_adapter: small, large_adapter: large }, { seed: 1 });
    const comp = attachmentDeltas(att).get('blocks.0.attn.q')!;
    const sm = (await readLoraDeltas(model, small)).get('blocks.0.attn.q')!;
    const dc = svd(matrixFrom(comp.data, 32, 32));
    const ds = svd(matrixFrom(sm.data, 32, 32));
    expect(subspaceSimilarity(dc.U, ds.U, 4, 2)).toBeLessThan(1e-6); // input spaces
    expect(subspaceSimilarity(dc.V, ds.V, 4, 2)).toBeLessThan(1e-6); // output spaces
    expect(dc.S[3]!).toBeGreaterThan(1e-3); // something is left: rank 6 minus a rank-2 subspace on each side
    att.detach();
    await expect(method.attach(model, { small_adapter: small }, { seed: 1 })).rejects.toThrow(/mode 'posthoc' needs large_adapter/);
    await expect(method.attach(model, {}, { seed: 1 })).rejects.toThrow(/small_adapter is required/);
    model.dispose();
  });

  it('lora_dropout draws its masks from the run seed: the same seed repeats them, each step gets a new one', async () => {
    const model = tinyModel('llama');
    const batch = fixedBatch();
    const lora = await getMethod('lora');
    // pissa: B is not zero at the start, so the masks reach the output.
    const twoSteps = async (seed: number) => {
      const att = await lora.attach(model, { r: 4, init_lora_weights: 'pissa', lora_dropout: 0.5 }, { seed });
      att.setTraining!(true);
      const out = [logits(model, batch), logits(model, batch)];
      att.detach();
      return out;
    };
    const [a1, a2] = await twoSteps(1);
    const [b1, b2] = await twoSteps(1);
    const [c1] = await twoSteps(2);
    expect(maxAbsDiff(a1!, b1!)).toBe(0);
    expect(maxAbsDiff(a2!, b2!)).toBe(0);
    expect(maxAbsDiff(a1!, a2!)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(a1!, c1!)).toBeGreaterThan(1e-4);
    model.dispose();
  });

  it('pissa: the adapter holds W’s top-r singular values and the residual holds the rest', async () => {
    const model = tinyModel('llama');
    const lin = model.module('blocks.0.attn.q') as { weight: tf.Variable };
    const W = Float32Array.from(lin.weight.dataSync());
    const sW = svd(matrixFrom(W, 32, 32)).S;
    const att = await (await getMethod('lora')).attach(model, { r: 4, init_lora_weights: 'pissa' }, { seed: 1 });
    const dq = attachmentDeltas(att).get('blocks.0.attn.q')!;
    const sD = svd(matrixFrom(dq.data, 32, 32)).S;
    for (let i = 0; i < 4; i++) expect(sD[i]).toBeCloseTo(sW[i]!, 4);
    const sR = svd(matrixFrom(lin.weight.dataSync(), 32, 32)).S;
    expect(sR[0]).toBeCloseTo(sW[4]!, 4);
    att.detach();
    expect(Array.from(lin.weight.dataSync())).toEqual(Array.from(W));
    model.dispose();
  });
});

describe('initialisations on larger matrices and analysis outputs', () => {
  it('pissa on a 384-wide model uses the randomized SVD and still starts as the same function', async () => {
    const { createModel } = await import('@peft-bench/core/model/model');
    const model = createModel({ family: 'llama', vocabSize: 32, d: 384, nLayer: 1, nHead: 6, maxSeq: 8, mlpHidden: 64 }, 3);
    const tokens = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const before = model.forward(tokens).dataSync();
    const att = await (await getMethod('lora')).attach(model, { r: 4, init_lora_weights: 'pissa', target_modules: ['q'] }, { seed: 2 });
    const after = model.forward(tokens).dataSync();
    let err = 0;
    for (let i = 0; i < before.length; i++) err = Math.max(err, Math.abs(before[i]! - after[i]!));
    expect(err).toBeLessThan(1e-4);
    att.detach();
    model.dispose();
  }, 60_000);

  it('ln-outlier reports the planted outlier among its tuned gain and bias indices, with histograms', async () => {
    const model = tinyModel('gpt2');
    const att = await (await getMethod('ln-outlier')).attach(model, { n: 4 }, { seed: 1 });
    type Report = { tunedIndices: number[]; histogram: { counts: number[] }; bimodality: number | null };
    const a = att.analysis!() as { kind: string; layers: Record<string, Report> };
    expect(a.kind).toBe('norm');
    expect(a.layers['blocks.0.ln1.weight']!.tunedIndices).toContain(3);
    expect(a.layers['ln_f.weight']!.histogram.counts.reduce((x, y) => x + y, 0)).toBe(32);
    for (const norm of model.norms()) {
      const w = a.layers[`${norm.name}.weight`]!.tunedIndices;
      const b = a.layers[`${norm.name}.bias`]!.tunedIndices;
      expect(w.length + b.length, norm.name).toBe(4);
    }
    att.detach();
    model.dispose();
  });

  it('an untrained LoRA’s analysis is JSON-safe (zero update, no amplification)', async () => {
    const model = tinyModel('llama');
    const att = await (await getMethod('lora')).attach(model, { r: 2 }, { seed: 1 });
    const a = att.analysis!() as { modules: Record<string, { rank: number; amplification: { factor: number | null } }> };
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(a.modules['blocks.0.attn.q']!.rank).toBe(0);
    expect(a.modules['blocks.0.attn.q']!.amplification.factor).toBeNull();
    att.detach();
    model.dispose();
  });
});

describe('with core’s trainer', () => {
  it('trains a LoRA attachment’s trainable map and leaves the base untouched', async () => {
    const { train } = await import('@peft-bench/core/train/trainer');
    const model = tinyModel('llama');
    const att = await (await getMethod('lora')).attach(model, { r: 4, target_modules: ['all-linear'] }, { seed: 1 });
    const base = new Map([...model.params()].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    const T = 16;
    const ids = Int32Array.from({ length: 2 * (T + 1) }, (_, i) => (i * 5 + 1) % 48);
    const batch = {
      B: 2, T,
      tokens: Int32Array.from({ length: 2 * T }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T)]!),
      targets: Int32Array.from({ length: 2 * T }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T) + 1]!),
      weights: new Float32Array(2 * T).fill(1),
    };
    const result = await train({ model, trainable: att.trainable, data: () => batch, steps: 15, lr: 3e-2, warmupSteps: 0, weightDecay: 0 });
    expect(result.status).toBe('ok');
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]! - 0.01);
    for (const [k, v] of model.params()) expect(Array.from(v.dataSync()), k).toEqual(Array.from(base.get(k)!));
    att.detach();
    model.dispose();
  }, 60_000);

  it('grows a lora-grow attachment at its step through beforeStep: same function at the switch, then the new components train', async () => {
    const { train } = await import('@peft-bench/core/train/trainer');
    const model = tinyModel('gpt2');
    const att = await (await getMethod('lora-grow')).attach(model, { r: 6, r_start: 2, grow_step: 4, lora_alpha: 6, target_modules: ['q', 'v'] }, { seed: 1 });
    const probe = fixedBatch(48, 2, 12);
    const T = 16;
    const ids = Int32Array.from({ length: 2 * (T + 1) }, (_, i) => (i * 5 + 1) % 48);
    const batch = {
      B: 2, T,
      tokens: Int32Array.from({ length: 2 * T }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T)]!),
      targets: Int32Array.from({ length: 2 * T }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T) + 1]!),
      weights: new Float32Array(2 * T).fill(1),
    };
    const sizes: number[] = [];
    let switchDiff = Number.NaN;
    const grownAtSwitch = new Map<string, Float32Array>();
    const initialKeys = new Set(att.trainable.keys());
    const result = await train({
      model, trainable: att.trainable, data: () => batch, steps: 10, lr: 3e-2, warmupSteps: 0, weightDecay: 0,
      beforeStep: (step) => {
        const before = logits(model, probe);
        const r = att.onStep?.(step);
        sizes.push(att.trainable.size);
        if (r?.trainableChanged) {
          switchDiff = maxAbsDiff(logits(model, probe), before);
          for (const [k, v] of att.trainable) if (!initialKeys.has(k)) grownAtSwitch.set(k, Float32Array.from(v.dataSync()));
        }
        return r;
      },
    });
    expect(result.status).toBe('ok');
    // two linears per block (q, v) x 2 blocks, an A and a B each; one more part each after step 4
    expect(sizes).toEqual([8, 8, 8, 8, 16, 16, 16, 16, 16, 16]);
    expect(switchDiff).toBeLessThan(1e-5);
    expect([...grownAtSwitch.keys()].sort()).toEqual(
      ['blocks.0.attn.q', 'blocks.0.attn.v', 'blocks.1.attn.q', 'blocks.1.attn.v'].flatMap((m) => [`${m}.lora_A.1`, `${m}.lora_B.1`]),
    );
    for (const [k, at] of grownAtSwitch) {
      if (k.includes('lora_B')) expect(at.every((x) => x === 0), `${k} starts at zero`).toBe(true);
      expect(maxAbsDiff(att.trainable.get(k)!.dataSync(), at), `${k} trained after growing`).toBeGreaterThan(1e-3);
    }
    expect(result.optimizerStateBytes).toBe(8 * att.trainableCount());
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]! - 0.01);
    att.detach();
    model.dispose();
    tf.dispose([probe.tokens, probe.targets, probe.weights]);
  }, 60_000);
});

describe('sparse norm tuning over gain and bias entries', () => {
  it('ranks gain and bias entries together, each against the mean of its own vector', async () => {
    const { outlierEntries } = await import('../ln-outlier/index.ts');
    // gain deviations from mean 2: [1, 1, 1, 3]; bias deviations from mean 1: [1, 1, 3, 1]
    expect(outlierEntries([1, 1, 1, 5], [0, 0, 4, 0], 2)).toEqual([3, 6]);
    expect(outlierEntries([1, 1, 1, 5], [0, 0, 4, 0], 3)).toEqual([3, 6, 0]);
    expect(outlierEntries([1, 1, 1, 5], null, 1)).toEqual([3]);
    expect(() => outlierEntries([1, 1, 1, 5], null, 5)).toThrow('n=5 must be an integer in 1..4');
  });

  it('refuses n above a layer’s gain and bias count, naming the layer and its size', async () => {
    for (const [family, id, ok, msg] of [
      ['gpt2', 'ln-outlier', 64, /method 'ln-outlier': n=65 exceeds the 64 weights of blocks\.0\.ln1 \(layernorm: 32 gains \+ 32 biases\); choose n <= 64/],
      ['llama', 'ln-random', 32, /method 'ln-random': n=33 exceeds the 32 weights of blocks\.0\.ln1 \(rmsnorm: 32 gains, no bias\); choose n <= 32/],
    ] as const) {
      const model = tinyModel(family);
      const method = await getMethod(id);
      await expect(method.attach(model, { n: ok + 1 }, { seed: 1 })).rejects.toThrow(msg);
      expect(model.norms().every((n) => n.hook === null)).toBe(true);
      const att = await method.attach(model, { n: ok }, { seed: 1 });
      expect(att.trainableCount()).toBe(ok * model.norms().length);
      att.detach();
      model.dispose();
    }
  });

  it('ln-random draws from both vectors, reproducibly per seed', async () => {
    const model = tinyModel('gpt2');
    const method = await getMethod('ln-random');
    const tunedOf = async (seed: number) => {
      const att = await method.attach(model, { n: 16 }, { seed });
      const layers = (att.analysis!() as { layers: Record<string, { tunedIndices: number[] }> }).layers;
      att.detach();
      return layers;
    };
    const a = await tunedOf(1);
    expect(await tunedOf(1)).toEqual(a);
    expect(await tunedOf(2)).not.toEqual(a);
    let biasEntries = 0;
    for (const norm of model.norms()) {
      const w = a[`${norm.name}.weight`]!.tunedIndices;
      const b = a[`${norm.name}.bias`]!.tunedIndices;
      expect(w.length + b.length).toBe(16);
      expect(new Set(b).size).toBe(b.length);
      biasEntries += b.length;
    }
    // 16 of 64 entries in each of 5 layers: with no bias entry at all the draw would ignore half the pool
    expect(biasEntries).toBeGreaterThan(0);
    expect(biasEntries).toBeLessThan(16 * model.norms().length);
    model.dispose();
  });

  it('ln-outlier with n = 2d on LayerNorms trains exactly what ln trains', async () => {
    const run = async (id: string, config: Record<string, unknown>) => {
      const model = tinyModel('gpt2');
      const att = await (await getMethod(id)).attach(model, config, { seed: 1 });
      const trainer = new Trainer();
      const batch = fixedBatch(48, 2, 12);
      for (let s = 0; s < 4; s++) trainer.train(model, att.trainable, batch);
      const out = logits(model, batch);
      const count = att.trainableCount();
      trainer.dispose();
      att.detach();
      model.dispose();
      tf.dispose([batch.tokens, batch.targets, batch.weights]);
      return { out, count };
    };
    const ln = await run('ln', {});
    const whole = await run('ln-outlier', { n: 64 });
    const partial = await run('ln-outlier', { n: 63 });
    expect(whole.count).toBe(ln.count);
    expect(maxAbsDiff(whole.out, ln.out)).toBeLessThan(1e-5);
    expect(maxAbsDiff(partial.out, ln.out)).toBeGreaterThan(1e-4);
  });
});
