// Hugging Face checkpoints (config.json + model.safetensors, or a sharded
// model.safetensors.index.json) for GPT-2 and Llama-family models, mapped onto our module names.
//
// Layout differences, handled here once (as nanoGPT's from_pretrained does):
//   - Llama's nn.Linear stores weight [out, in]; ours is [in, out]: q_proj, k_proj, v_proj,
//     o_proj, gate_proj, up_proj and down_proj are TRANSPOSED on load.
//   - GPT-2's Conv1D already stores [in, out]: c_attn, c_proj, c_fc are NOT transposed.
//     c_attn fuses q, k, v along the output axis ([d, 3d] and bias [3d]) and is split in that order.
//   - Embeddings ([V, d]), positions ([n_positions, d]), lm_head ([V, d]) and norms keep their layout.
import { resolveModelConfig, type ModelConfig, type RopeScaling } from '../model/config.ts';
import { createModelFromWeights, type Model } from '../model/model.ts';
import { fileExists, joinPath as join, readText } from '../io/host.ts';
import { readSafetensors, toFloat32, type SafetensorsTensor } from './safetensors.ts';

export const HF_TRANSPOSED_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/** Where one of our modules lives in the HF model (for HF PEFT adapter files: base_model.model.<path>). */
export interface HfModuleRef {
  /** Module path in the HF *ForCausalLM model, e.g. model.layers.0.self_attn.q_proj, transformer.h.0.attn.c_attn. */
  path: string;
  /** GPT-2's fused c_attn: our q, k, v are parts 0, 1, 2 of 3 along the output axis. */
  fused: { index: number; parts: number } | null;
  /** HF stores this linear's weight [out, in] (nn.Linear) rather than [in, out] (GPT-2 Conv1D). */
  hfWeightIsOutIn: boolean;
}

/** Our module name -> HF module path, for every module of a model with this config. */
export function hfModuleMap(config: ModelConfig): Map<string, HfModuleRef> {
  const map = new Map<string, HfModuleRef>();
  const plain = (path: string, outIn: boolean): HfModuleRef => ({ path, fused: null, hfWeightIsOutIn: outIn });
  if (config.family === 'gpt2') {
    map.set('embeddings', plain('transformer.wte', false));
    for (let i = 0; i < config.nLayer; i++) {
      const h = `transformer.h.${i}`;
      map.set(`blocks.${i}.ln1`, plain(`${h}.ln_1`, false));
      ['q', 'k', 'v'].forEach((p, index) =>
        map.set(`blocks.${i}.attn.${p}`, { path: `${h}.attn.c_attn`, fused: { index, parts: 3 }, hfWeightIsOutIn: false }),
      );
      map.set(`blocks.${i}.attn.o`, plain(`${h}.attn.c_proj`, false));
      map.set(`blocks.${i}.ln2`, plain(`${h}.ln_2`, false));
      map.set(`blocks.${i}.mlp.up`, plain(`${h}.mlp.c_fc`, false));
      map.set(`blocks.${i}.mlp.down`, plain(`${h}.mlp.c_proj`, false));
    }
    map.set('ln_f', plain('transformer.ln_f', false));
  } else {
    map.set('embeddings', plain('model.embed_tokens', false));
    for (let i = 0; i < config.nLayer; i++) {
      const l = `model.layers.${i}`;
      map.set(`blocks.${i}.ln1`, plain(`${l}.input_layernorm`, false));
      for (const p of ['q', 'k', 'v', 'o']) map.set(`blocks.${i}.attn.${p}`, plain(`${l}.self_attn.${p}_proj`, true));
      map.set(`blocks.${i}.ln2`, plain(`${l}.post_attention_layernorm`, false));
      for (const p of ['gate', 'up', 'down']) map.set(`blocks.${i}.mlp.${p}`, plain(`${l}.mlp.${p}_proj`, true));
    }
    map.set('ln_f', plain('model.norm', false));
  }
  return map;
}

/** The HF module path of one of our modules; throws naming the valid ones when unknown. */
export function hfModulePath(config: ModelConfig, name: string): HfModuleRef {
  const ref = hfModuleMap(config).get(name);
  if (!ref) throw new Error(`no Hugging Face module for '${name}' in a ${config.family} model (valid: blocks.{i}.attn.q, ..., ln_f, embeddings)`);
  return ref;
}

type HfConfig = Record<string, unknown>;

function num(cfg: HfConfig, key: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'number') throw new Error(`Hugging Face config.json: '${key}' is missing or not a number`);
  return v;
}

/** Translates an HF config.json (model_type gpt2 or llama) into our ModelConfig. */
export function modelConfigFromHf(cfg: HfConfig): ModelConfig {
  const type = cfg.model_type;
  if (type === 'gpt2') {
    const act = cfg.activation_function ?? 'gelu_new';
    if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
      throw new Error(`Hugging Face config.json: activation_function '${String(act)}' is not supported: valid are gelu_new, gelu_pytorch_tanh`);
    }
    const d = num(cfg, 'n_embd');
    return resolveModelConfig({
      family: 'gpt2',
      vocabSize: num(cfg, 'vocab_size'),
      d,
      nLayer: num(cfg, 'n_layer'),
      nHead: num(cfg, 'n_head'),
      maxSeq: num(cfg, 'n_positions', cfg.n_ctx as number),
      mlpHidden: (cfg.n_inner as number | null) ?? 4 * d,
      normEps: num(cfg, 'layer_norm_epsilon', 1e-5),
      tieEmbeddings: (cfg.tie_word_embeddings as boolean | undefined) ?? true,
    });
  }
  if (type === 'llama') {
    const act = cfg.hidden_act ?? 'silu';
    if (act !== 'silu') throw new Error(`Hugging Face config.json: hidden_act '${String(act)}' is not supported: valid is silu`);
    if (cfg.attention_bias === true || cfg.mlp_bias === true) {
      throw new Error('Hugging Face config.json: attention_bias / mlp_bias = true is not supported (Llama flavour has no biases)');
    }
    const d = num(cfg, 'hidden_size');
    const nHead = num(cfg, 'num_attention_heads');
    if (cfg.head_dim != null && cfg.head_dim !== d / nHead) {
      throw new Error(`Hugging Face config.json: head_dim=${String(cfg.head_dim)} differs from hidden_size/num_attention_heads=${d / nHead}; only head_dim = hidden_size/heads is supported`);
    }
    return resolveModelConfig({
      family: 'llama',
      vocabSize: num(cfg, 'vocab_size'),
      d,
      nLayer: num(cfg, 'num_hidden_layers'),
      nHead,
      nKvHead: num(cfg, 'num_key_value_heads', nHead),
      maxSeq: num(cfg, 'max_position_embeddings'),
      mlpHidden: num(cfg, 'intermediate_size'),
      normEps: num(cfg, 'rms_norm_eps', 1e-6),
      ropeTheta: num(cfg, 'rope_theta', 10000),
      ropeScaling: ropeScalingFromHf(cfg.rope_scaling),
      tieEmbeddings: (cfg.tie_word_embeddings as boolean | undefined) ?? false,
    });
  }
  throw new Error(`Hugging Face config.json: model_type '${String(type)}' is not supported: valid model types are gpt2, llama`);
}

function ropeScalingFromHf(raw: unknown): RopeScaling | null {
  if (raw == null) return null;
  const s = raw as Record<string, unknown>;
  const type = s.rope_type ?? s.type;
  if (type === 'default') return null;
  if (type === 'linear') return { type: 'linear', factor: Number(s.factor) };
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor: Number(s.factor),
      lowFreqFactor: Number(s.low_freq_factor),
      highFreqFactor: Number(s.high_freq_factor),
      originalMaxPositions: Number(s.original_max_position_embeddings),
    };
  }
  throw new Error(`Hugging Face config.json: rope_scaling type '${String(type)}' is not supported: valid are default, linear, llama3`);
}

/** All tensors of an HF checkpoint directory (single file or shards listed in the index). */
export async function readHfTensors(dir: string): Promise<Map<string, SafetensorsTensor>> {
  const single = join(dir, 'model.safetensors');
  if (await fileExists(single)) return (await readSafetensors(single)).tensors;
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (await fileExists(indexPath)) {
    const index = JSON.parse(await readText(indexPath)) as { weight_map?: Record<string, string> };
    if (!index.weight_map) throw new Error(`${indexPath}: no weight_map`);
    const out = new Map<string, SafetensorsTensor>();
    for (const shard of new Set(Object.values(index.weight_map))) {
      for (const [k, v] of (await readSafetensors(join(dir, shard))).tensors) out.set(k, v);
    }
    return out;
  }
  const bin = (await fileExists(join(dir, 'pytorch_model.bin'))) ? ' (pytorch_model.bin is not readable: convert it to safetensors)' : '';
  throw new Error(`loadHfModel: ${dir} has neither model.safetensors nor model.safetensors.index.json${bin}`);
}

/** HF tensor names -> our parameter names and layouts (see the header comment). */
export function hfTensorsToWeights(
  config: ModelConfig,
  tensors: Map<string, SafetensorsTensor>,
): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const gpt2 = config.family === 'gpt2';
  // Tensors may be saved from the bare model (no 'transformer.' / 'model.' prefix).
  const root = gpt2 ? 'transformer.' : 'model.';
  const ignored = gpt2 ? /\.attn\.(masked_)?bias$/ : /rotary_emb\.inv_freq$/;
  for (const [rawName, t] of tensors) {
    if (ignored.test(rawName)) continue;
    const name = rawName.startsWith(root) ? rawName.slice(root.length) : rawName;
    const data = toFloat32(t);
    const put = (ours: string, shape: number[], values: Float32Array) => out.set(ours, { shape, data: values });
    if (name === 'lm_head.weight') {
      if (!config.tieEmbeddings) put('lm_head.weight', t.shape, data);
      continue; // tied: the same matrix as the token embeddings
    }
    const m = gpt2 ? gpt2Name(name) : llamaName(name);
    if (!m) {
      put(`(unmapped) ${rawName}`, t.shape, data);
      continue;
    }
    if (m.split) {
      // c_attn [d, 3d] / [3d] -> q, k, v along the output (last) axis
      const outF = t.shape[t.shape.length - 1]! / 3;
      const rows = t.shape.length === 2 ? t.shape[0]! : 1;
      ['q', 'k', 'v'].forEach((p, part) => {
        const piece = new Float32Array(rows * outF);
        for (let r = 0; r < rows; r++) piece.set(data.subarray(r * 3 * outF + part * outF, r * 3 * outF + (part + 1) * outF), r * outF);
        put(m.ours.replace('{p}', p), t.shape.length === 2 ? [rows, outF] : [outF], piece);
      });
    } else if (m.transpose) {
      const [o, i] = t.shape as [number, number];
      const tr = new Float32Array(o * i);
      for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) tr[c * o + r] = data[r * i + c]!;
      put(m.ours, [i, o], tr);
    } else put(m.ours, t.shape, data);
  }
  return out;
}

type Mapped = { ours: string; transpose: boolean; split: boolean } | null;

function gpt2Name(name: string): Mapped {
  const keep = (ours: string): Mapped => ({ ours, transpose: false, split: false });
  if (name === 'wte.weight') return keep('embeddings.tokens');
  if (name === 'wpe.weight') return keep('embeddings.positions');
  const lnF = /^ln_f\.(weight|bias)$/.exec(name);
  if (lnF) return keep(`ln_f.${lnF[1]}`);
  const m = /^h\.(\d+)\.(.+)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const [, i, mod, kind] = m;
  const table: Record<string, string> = { ln_1: 'ln1', ln_2: 'ln2', 'attn.c_proj': 'attn.o', 'mlp.c_fc': 'mlp.up', 'mlp.c_proj': 'mlp.down' };
  if (mod === 'attn.c_attn') return { ours: `blocks.${i}.attn.{p}.${kind}`, transpose: false, split: true };
  return table[mod!] ? keep(`blocks.${i}.${table[mod!]}.${kind}`) : null;
}

function llamaName(name: string): Mapped {
  if (name === 'embed_tokens.weight') return { ours: 'embeddings.tokens', transpose: false, split: false };
  if (name === 'norm.weight') return { ours: 'ln_f.weight', transpose: false, split: false };
  const m = /^layers\.(\d+)\.(.+)\.weight$/.exec(name);
  if (!m) return null;
  const [, i, mod] = m;
  const norms: Record<string, string> = { input_layernorm: 'ln1', post_attention_layernorm: 'ln2' };
  if (norms[mod!]) return { ours: `blocks.${i}.${norms[mod!]}.weight`, transpose: false, split: false };
  const lin = /^(self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj$/.exec(mod!);
  if (!lin) return null;
  return { ours: `blocks.${i}.${lin[1] === 'self_attn' ? 'attn' : 'mlp'}.${lin[2]}.weight`, transpose: true, split: false };
}

export async function readHfConfig(dir: string): Promise<ModelConfig> {
  const path = join(dir, 'config.json');
  let raw: string;
  try {
    raw = await readText(path);
  } catch {
    throw new Error(`loadHfModel: ${path} is missing: a Hugging Face checkpoint directory holds config.json and model.safetensors`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new Error(`${path} is not JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${path} is not a JSON object`);
  try {
    return modelConfigFromHf(parsed as HfConfig);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message.replace(/^Hugging Face config\.json: /, '')}`);
  }
}

/** Our parameter name -> shape, from the shapes of an HF checkpoint's tensors (layout differences applied). */
export function hfShapesToOurs(config: ModelConfig, shapes: Map<string, number[]>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const gpt2 = config.family === 'gpt2';
  const root = gpt2 ? 'transformer.' : 'model.';
  const ignored = gpt2 ? /\.attn\.(masked_)?bias$/ : /rotary_emb\.inv_freq$/;
  for (const [rawName, shape] of shapes) {
    if (ignored.test(rawName)) continue;
    const name = rawName.startsWith(root) ? rawName.slice(root.length) : rawName;
    if (name === 'lm_head.weight') {
      if (!config.tieEmbeddings) out.set('lm_head.weight', shape);
      continue;
    }
    const m = gpt2 ? gpt2Name(name) : llamaName(name);
    if (!m) out.set(`(unmapped) ${rawName}`, shape);
    else if (m.split) {
      const outF = shape[shape.length - 1]! / 3;
      for (const p of ['q', 'k', 'v']) out.set(m.ours.replace('{p}', p), shape.length === 2 ? [shape[0]!, outF] : [outF]);
    } else if (m.transpose) out.set(m.ours, [shape[1]!, shape[0]!]);
    else out.set(m.ours, shape);
  }
  return out;
}

/** Loads a Hugging Face GPT-2 or Llama checkpoint directory. */
export async function loadHfModel(dir: string): Promise<Model> {
  const config = await readHfConfig(dir);
  const weights = hfTensorsToWeights(config, await readHfTensors(dir));
  return createModelFromWeights(config, weights, `Hugging Face checkpoint ${dir}`);
}
