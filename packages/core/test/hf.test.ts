// Tiny Hugging Face checkpoints written byte by byte here (config.json + model.safetensors with HF
// key names, shapes and dtypes, GPT-2's fused c_attn in Conv1D layout, Llama's [out, in] linears,
// BF16 and F16 tensors), loaded with loadHfModel and checked against a plain reference forward
// written from the HF modelling code, independent of the model under test.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { hfModuleMap, loadHfModel, loadModel, modelConfigFromHf, ropeInverseFrequencies, saveModel, type Model } from '../src/index.ts';

type Dtype = 'F32' | 'F16' | 'BF16';
interface Raw {
  dtype: Dtype;
  shape: number[];
  values: number[]; // already representable in dtype
}

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'hf-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// --- byte-level safetensors writing, independent of src/checkpoint ---------------------------
function f16Bits(x: number): number {
  // exact for the values used here (normal numbers k/1024 and zero)
  if (x === 0) return 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  const mant = Math.round((a / 2 ** e - 1) * 1024);
  return sign | ((e + 15) << 10) | mant;
}
function encodeValues(t: Raw): Buffer {
  if (t.dtype === 'F32') return Buffer.from(new Float32Array(t.values).buffer);
  const out = Buffer.alloc(t.values.length * 2);
  t.values.forEach((v, i) => {
    const bits = t.dtype === 'F16' ? f16Bits(v) : new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16;
    out.writeUInt16LE(bits, i * 2);
  });
  return out;
}
async function writeHfCheckpoint(path: string, config: object, tensors: Record<string, Raw>, file = 'model.safetensors'): Promise<void> {
  await import('node:fs/promises').then((fs) => fs.mkdir(path, { recursive: true }));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = encodeValues(t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  await writeFile(join(path, file), Buffer.concat([len, json, ...chunks]));
  await writeFile(join(path, 'config.json'), JSON.stringify(config));
}

// deterministic values representable in each dtype
let state = 1;
function rand(): number {
  state = (state * 48271) % 2147483647;
  return state / 2147483647;
}
function tensor(dtype: Dtype, shape: number[], scale = 0.3, offset = 0): Raw {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => {
    const v = offset + (rand() * 2 - 1) * scale;
    if (dtype === 'F16') return Math.round(v * 1024) / 1024 || 0;
    if (dtype === 'BF16') return new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([v]).buffer)[0]! & 0xffff0000]).buffer)[0]!;
    return Math.fround(v);
  });
  return { dtype, shape, values };
}

// --- reference forward, straight from the HF modelling code (float64) -------------------------
type Vec = number[];
const matvecInOut = (W: Raw, x: Vec, outF: number): Vec => Array.from({ length: outF }, (_, o) => x.reduce((s, xi, i) => s + xi * W.values[i * outF + o]!, 0));
const matvecOutIn = (W: Raw, x: Vec): Vec => Array.from({ length: W.shape[0]! }, (_, o) => x.reduce((s, xi, i) => s + xi * W.values[o * x.length + i]!, 0));
const add = (a: Vec, b: Vec | number[]) => a.map((v, i) => v + b[i]!);
const layerNorm = (x: Vec, w: Raw, b: Raw, eps: number) => {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const varc = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(varc + eps)) * w.values[i]! + b.values[i]!);
};
const rmsNorm = (x: Vec, w: Raw, eps: number) => {
  const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
  return x.map((v, i) => (v / Math.sqrt(ms + eps)) * w.values[i]!);
};
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const silu = (x: number) => x / (1 + Math.exp(-x));
function attend(qs: Vec[], ks: Vec[], vs: Vec[]): Vec[] {
  return qs.map((q, t) => {
    const scores = ks.slice(0, t + 1).map((k) => q.reduce((s, qi, i) => s + qi * k[i]!, 0) / Math.sqrt(q.length));
    const max = Math.max(...scores);
    const e = scores.map((s) => Math.exp(s - max));
    const z = e.reduce((a, b) => a + b, 0);
    return q.map((_, i) => e.reduce((s, ei, j) => s + (ei / z) * vs[j]![i]!, 0));
  });
}
const headOf = (v: Vec, h: number, hd: number) => v.slice(h * hd, (h + 1) * hd);

function gpt2Reference(w: Record<string, Raw>, cfg: { n_embd: number; n_head: number; n_layer: number; layer_norm_epsilon: number }, tokens: number[]): Vec[] {
  const d = cfg.n_embd;
  const hd = d / cfg.n_head;
  const row = (t: Raw, r: number) => t.values.slice(r * t.shape[1]!, (r + 1) * t.shape[1]!);
  let xs = tokens.map((tok, p) => add(row(w['wte.weight']!, tok), row(w['wpe.weight']!, p)));
  for (let l = 0; l < cfg.n_layer; l++) {
    const P = `h.${l}.`;
    const qkv = xs.map((x) => add(matvecInOut(w[P + 'attn.c_attn.weight']!, layerNorm(x, w[P + 'ln_1.weight']!, w[P + 'ln_1.bias']!, cfg.layer_norm_epsilon), 3 * d), w[P + 'attn.c_attn.bias']!.values));
    const heads = Array.from({ length: cfg.n_head }, (_, h) =>
      attend(qkv.map((v) => headOf(v.slice(0, d), h, hd)), qkv.map((v) => headOf(v.slice(d, 2 * d), h, hd)), qkv.map((v) => headOf(v.slice(2 * d), h, hd))),
    );
    xs = xs.map((x, t) => add(x, add(matvecInOut(w[P + 'attn.c_proj.weight']!, heads.flatMap((hh) => hh[t]!), d), w[P + 'attn.c_proj.bias']!.values)));
    const inner = w[P + 'mlp.c_fc.weight']!.shape[1]!;
    xs = xs.map((x) => {
      const hid = add(matvecInOut(w[P + 'mlp.c_fc.weight']!, layerNorm(x, w[P + 'ln_2.weight']!, w[P + 'ln_2.bias']!, cfg.layer_norm_epsilon), inner), w[P + 'mlp.c_fc.bias']!.values).map(geluTanh);
      return add(x, add(matvecInOut(w[P + 'mlp.c_proj.weight']!, hid, d), w[P + 'mlp.c_proj.bias']!.values));
    });
  }
  return xs.map((x) => matvecOutIn(w['wte.weight']!, layerNorm(x, w['ln_f.weight']!, w['ln_f.bias']!, cfg.layer_norm_epsilon)));
}

function llamaReference(
  w: Record<string, Raw>,
  cfg: { hidden_size: number; num_attention_heads: number; num_key_value_heads: number; num_hidden_layers: number; rms_norm_eps: number; rope_theta: number },
  tokens: number[],
): Vec[] {
  const d = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const hd = d / H;
  const rep = H / cfg.num_key_value_heads;
  const rope = (v: Vec, p: number) => {
    // HF: q*cos + rotate_half(q)*sin, rotate_half(x) = cat(-x2, x1), freqs duplicated over halves
    const half = hd / 2;
    return v.map((_, i) => {
      const f = 1 / cfg.rope_theta ** ((2 * (i % half)) / hd);
      const rot = i < half ? -v[i + half]! : v[i - half]!;
      return v[i]! * Math.cos(p * f) + rot * Math.sin(p * f);
    });
  };
  const E = w['model.embed_tokens.weight']!;
  let xs = tokens.map((tok) => E.values.slice(tok * d, (tok + 1) * d));
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const P = `model.layers.${l}.`;
    const hs = xs.map((x) => rmsNorm(x, w[P + 'input_layernorm.weight']!, cfg.rms_norm_eps));
    const q = hs.map((h) => matvecOutIn(w[P + 'self_attn.q_proj.weight']!, h));
    const k = hs.map((h) => matvecOutIn(w[P + 'self_attn.k_proj.weight']!, h));
    const v = hs.map((h) => matvecOutIn(w[P + 'self_attn.v_proj.weight']!, h));
    const heads = Array.from({ length: H }, (_, h) => {
      const kvh = Math.floor(h / rep);
      return attend(q.map((x, p) => rope(headOf(x, h, hd), p)), k.map((x, p) => rope(headOf(x, kvh, hd), p)), v.map((x) => headOf(x, kvh, hd)));
    });
    xs = xs.map((x, t) => add(x, matvecOutIn(w[P + 'self_attn.o_proj.weight']!, heads.flatMap((hh) => hh[t]!))));
    xs = xs.map((x) => {
      const h = rmsNorm(x, w[P + 'post_attention_layernorm.weight']!, cfg.rms_norm_eps);
      const g = matvecOutIn(w[P + 'mlp.gate_proj.weight']!, h);
      const u = matvecOutIn(w[P + 'mlp.up_proj.weight']!, h);
      return add(x, matvecOutIn(w[P + 'mlp.down_proj.weight']!, g.map((gi, i) => silu(gi) * u[i]!)));
    });
  }
  return xs.map((x) => matvecOutIn(w['lm_head.weight']!, rmsNorm(x, w['model.norm.weight']!, cfg.rms_norm_eps)));
}

async function expectLogits(model: Model, tokens: number[], reference: Vec[]): Promise<number> {
  const logits = model.forward(tf.tensor2d(tokens, [1, tokens.length], 'int32'));
  const got = (await logits.array())[0]!;
  logits.dispose();
  let maxDiff = 0;
  reference.forEach((row, t) => row.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - got[t]![i]!)))));
  return maxDiff;
}

describe('loadHfModel', () => {
  it('loads a GPT-2 checkpoint (fused Conv1D c_attn, transformer. prefix, F16/BF16 tensors) and matches the reference', async () => {
    const cfg = { model_type: 'gpt2', vocab_size: 11, n_embd: 8, n_layer: 2, n_head: 2, n_positions: 16, n_inner: 12, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new' };
    const w: Record<string, Raw> = {
      'wte.weight': tensor('F32', [11, 8]),
      'wpe.weight': tensor('BF16', [16, 8]),
      'ln_f.weight': tensor('F32', [8], 0.2, 1),
      'ln_f.bias': tensor('F32', [8], 0.1),
    };
    for (let l = 0; l < 2; l++) {
      const P = `h.${l}.`;
      Object.assign(w, {
        [P + 'ln_1.weight']: tensor('F32', [8], 0.2, 1),
        [P + 'ln_1.bias']: tensor('F32', [8], 0.1),
        [P + 'attn.c_attn.weight']: tensor(l === 0 ? 'F16' : 'BF16', [8, 24], 0.5),
        [P + 'attn.c_attn.bias']: tensor('F32', [24], 0.1),
        [P + 'attn.c_proj.weight']: tensor('F32', [8, 8], 0.4),
        [P + 'attn.c_proj.bias']: tensor('F32', [8], 0.1),
        [P + 'ln_2.weight']: tensor('F32', [8], 0.2, 1),
        [P + 'ln_2.bias']: tensor('F32', [8], 0.1),
        [P + 'mlp.c_fc.weight']: tensor('F16', [8, 12], 0.4),
        [P + 'mlp.c_fc.bias']: tensor('F32', [12], 0.1),
        [P + 'mlp.c_proj.weight']: tensor('F32', [12, 8], 0.4),
        [P + 'mlp.c_proj.bias']: tensor('F32', [8], 0.1),
      });
    }
    // HF GPT2LMHeadModel keys carry 'transformer.'; the causal-mask buffer and a tied lm_head may be present too.
    const onDisk: Record<string, Raw> = { 'lm_head.weight': w['wte.weight']!, 'transformer.h.0.attn.bias': tensor('F32', [1, 1, 16, 16]) };
    for (const [k, v] of Object.entries(w)) onDisk[`transformer.${k}`] = v;
    const path = join(dir, 'gpt2');
    await writeHfCheckpoint(path, cfg, onDisk);
    const model = await loadHfModel(path);
    expect(model.config).toMatchObject({ family: 'gpt2', vocabSize: 11, d: 8, nLayer: 2, nHead: 2, maxSeq: 16, mlpHidden: 12, tieEmbeddings: true });
    const tokens = [1, 7, 3, 10, 0, 5];
    expect(await expectLogits(model, tokens, gpt2Reference(w, cfg, tokens))).toBeLessThan(1e-4);
    // our q weight is the first third of c_attn's output columns, untransposed
    const q = model.params().get('blocks.0.attn.q.weight')!.dataSync();
    expect(q[1 * 8 + 2]).toBe(w['h.0.attn.c_attn.weight']!.values[1 * 24 + 2]);
    const k = model.params().get('blocks.0.attn.k.weight')!.dataSync();
    expect(k[3 * 8 + 5]).toBe(w['h.0.attn.c_attn.weight']!.values[3 * 24 + 8 + 5]);

    // our own checkpoint round trip keeps the logits bit-identical
    await saveModel(model, join(dir, 'gpt2-ours'));
    const again = await loadModel(join(dir, 'gpt2-ours'));
    expect(await expectLogits(again, tokens, gpt2Reference(w, cfg, tokens))).toBeLessThan(1e-4);
    model.dispose();
    again.dispose();
  });

  it('loads a Llama checkpoint (GQA, untied lm_head, [out, in] linears, BF16) and matches the reference', async () => {
    const cfg = {
      model_type: 'llama', vocab_size: 11, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 4,
      num_key_value_heads: 2, max_position_embeddings: 16, rms_norm_eps: 1e-6, rope_theta: 100, tie_word_embeddings: false, hidden_act: 'silu',
    };
    const w: Record<string, Raw> = {
      'model.embed_tokens.weight': tensor('BF16', [11, 8], 1),
      'model.norm.weight': tensor('F32', [8], 0.2, 1),
      'lm_head.weight': tensor('F16', [11, 8], 0.5),
    };
    for (let l = 0; l < 2; l++) {
      const P = `model.layers.${l}.`;
      Object.assign(w, {
        [P + 'input_layernorm.weight']: tensor('F32', [8], 0.2, 1),
        [P + 'self_attn.q_proj.weight']: tensor('BF16', [8, 8], 0.6),
        [P + 'self_attn.k_proj.weight']: tensor('BF16', [4, 8], 0.6),
        [P + 'self_attn.v_proj.weight']: tensor('F32', [4, 8], 0.5),
        [P + 'self_attn.o_proj.weight']: tensor('F32', [8, 8], 0.4),
        [P + 'post_attention_layernorm.weight']: tensor('F32', [8], 0.2, 1),
        [P + 'mlp.gate_proj.weight']: tensor('F16', [12, 8], 0.5),
        [P + 'mlp.up_proj.weight']: tensor('F32', [12, 8], 0.5),
        [P + 'mlp.down_proj.weight']: tensor('F32', [8, 12], 0.4),
      });
    }
    const path = join(dir, 'llama');
    await writeHfCheckpoint(path, cfg, w);
    const model = await loadHfModel(path);
    expect(model.config).toMatchObject({ family: 'llama', nKvHead: 2, mlpHidden: 12, ropeTheta: 100, tieEmbeddings: false, normEps: 1e-6 });
    const tokens = [2, 9, 4, 4, 10, 1, 6];
    expect(await expectLogits(model, tokens, llamaReference(w, cfg, tokens))).toBeLessThan(1e-4);
    // HF [out, in] is transposed to our [in, out]
    const up = model.params().get('blocks.1.mlp.up.weight')!;
    expect(up.shape).toEqual([8, 12]);
    expect(up.dataSync()[3 * 12 + 7]).toBe(w['model.layers.1.mlp.up_proj.weight']!.values[7 * 8 + 3]);
    model.dispose();

    // the same tensors as two shards with an index (model.safetensors.index.json)
    const sharded = join(dir, 'llama-sharded');
    const names = Object.keys(w);
    const half = Math.ceil(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeHfCheckpoint(sharded, cfg, Object.fromEntries(part.map((n) => [n, w[n]!])), file);
      for (const n of part) weightMap[n] = file;
    }
    await writeFile(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const fromShards = await loadHfModel(sharded);
    expect(await expectLogits(fromShards, tokens, llamaReference(w, cfg, tokens))).toBeLessThan(1e-4);
    fromShards.dispose();
  });

  it('maps our module names to HF module paths', () => {
    const llama = hfModuleMap({ family: 'llama', vocabSize: 8, d: 8, nLayer: 1, nHead: 2, nKvHead: 2, maxSeq: 8, mlpHidden: 8, normEps: 1e-6, ropeTheta: 1e4, ropeScaling: null, tieEmbeddings: false });
    expect(llama.get('blocks.0.attn.q')).toEqual({ path: 'model.layers.0.self_attn.q_proj', fused: null, hfWeightIsOutIn: true });
    expect(llama.get('blocks.0.mlp.gate')!.path).toBe('model.layers.0.mlp.gate_proj');
    expect(llama.get('blocks.0.ln2')!.path).toBe('model.layers.0.post_attention_layernorm');
    expect(llama.get('ln_f')!.path).toBe('model.norm');
    const gpt2 = hfModuleMap({ family: 'gpt2', vocabSize: 8, d: 8, nLayer: 1, nHead: 2, nKvHead: 2, maxSeq: 8, mlpHidden: 32, normEps: 1e-5, ropeTheta: 1e4, ropeScaling: null, tieEmbeddings: true });
    expect(gpt2.get('blocks.0.attn.v')).toEqual({ path: 'transformer.h.0.attn.c_attn', fused: { index: 2, parts: 3 }, hfWeightIsOutIn: false });
    expect(gpt2.get('blocks.0.mlp.down')!.path).toBe('transformer.h.0.mlp.c_proj');
  });

  it("applies HF's llama3 RoPE frequency scaling", () => {
    const hf = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
    const cfg = modelConfigFromHf({
      model_type: 'llama', vocab_size: 8, hidden_size: 64, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2,
      max_position_embeddings: 128, rope_theta: 10000, rope_scaling: { rope_type: 'llama3', ...hf },
    });
    const got = ropeInverseFrequencies(cfg);
    // transformers' _compute_llama3_parameters, written out
    const hd = 32;
    const lowWavelen = hf.original_max_position_embeddings / hf.low_freq_factor;
    const highWavelen = hf.original_max_position_embeddings / hf.high_freq_factor;
    const kinds = new Set<string>();
    for (let i = 0; i < hd / 2; i++) {
      const inv = 1 / 10000 ** ((2 * i) / hd);
      const wavelen = (2 * Math.PI) / inv;
      let expected = wavelen > lowWavelen ? inv / hf.factor : inv;
      const smooth = (hf.original_max_position_embeddings / wavelen - hf.low_freq_factor) / (hf.high_freq_factor - hf.low_freq_factor);
      const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
      if (medium) expected = ((1 - smooth) * expected) / hf.factor + smooth * expected;
      kinds.add(wavelen < highWavelen ? 'high' : medium ? 'medium' : 'low');
      expect(got[i]).toBeCloseTo(expected, 12);
    }
    expect(kinds.size).toBe(3); // every branch of the formula is exercised
  });

  it('reports unsupported or broken checkpoints clearly', async () => {
    const bad = join(dir, 'bad');
    await writeHfCheckpoint(bad, { model_type: 'bert' }, {});
    await expect(loadHfModel(bad)).rejects.toThrow("model_type 'bert' is not supported: valid model types are gpt2, llama");
    const missing = join(dir, 'missing');
    await writeHfCheckpoint(missing, { model_type: 'gpt2', vocab_size: 11, n_embd: 8, n_layer: 1, n_head: 2, n_positions: 16 }, { 'wte.weight': tensor('F32', [11, 8]) });
    await expect(loadHfModel(missing)).rejects.toThrow(/missing \d+ tensor\(s\): embeddings.positions/);
    await expect(loadModel(missing)).rejects.toThrow('it looks like a Hugging Face checkpoint: use loadHfModel');
  });
});
