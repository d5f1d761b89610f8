// Adapter folders in the HF PEFT layout: adapter_config.json (indent 2, sorted keys) and
// adapter_model.safetensors keyed `base_model.model.<HF module path>.<tensor>`. This is the one
// place where our [in, out] kernels and names meet HF's [out, in] tensors and module paths:
// callers hand over factors already in HF orientation (lora_A [r, in], lora_B [out, r]).
//
// GPT-2's fused c_attn (q, k, v stacked as output rows of one [3d, in] weight): per-module
// low-rank factors are packed exactly into one LoRA of rank sum(r_i) on c_attn, with lora_A the
// stacked A_i [sum r_i, in] and lora_B block-diagonal [3d, sum r_i] (zero rows for an untargeted
// slice), so B·A reproduces each ΔW_i in its own rows. rank_pattern / alpha_pattern keep the
// scaling alpha/r of the unpacked modules. Per-output vectors (DoRA magnitude, IA3 scales) are
// packed the same way, with a neutral fill for untargeted slices.
import type { Model, AttachContext } from '../types.ts';
import { hfLinear } from './names.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '@peft-bench/core/checkpoint/safetensors';
import { joinPath as join, makeDir, readText, writeText } from '@peft-bench/core/io/host';

export const CONFIG_FILE = 'adapter_config.json';
export const WEIGHTS_FILE = 'adapter_model.safetensors';
export const PREFIX = 'base_model.model.';

/** A tensor on the host, in the orientation it is stored in. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** HF PEFT writes this metadata into adapter_model.safetensors. */
const SAFETENSORS_METADATA = { format: 'pt' };

/** Writes F32 tensors with core's safetensors writer (atomic), with HF PEFT's metadata. */
export async function writeHostTensors(path: string, tensors: Map<string, HostTensor>): Promise<void> {
  await writeSafetensors(path, new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, ...t }])), SAFETENSORS_METADATA);
}

/** Reads a safetensors file with core's reader; every dtype comes back as Float32Array (F16/BF16 widened). */
export async function readHostTensors(path: string): Promise<Map<string, HostTensor>> {
  const { tensors } = await readSafetensors(path);
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
}

/** JSON with keys sorted at every level and 2-space indent (json.dumps(indent=2, sort_keys=True)). */
export function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(sort(value), null, 2);
}

/** Fields every adapter_config.json carries. */
export function baseAdapterConfig(peftType: string, model: Model, ctx: AttachContext): Record<string, unknown> {
  return {
    base_model_name_or_path: ctx.baseModel ?? `peft-bench/${model.config.family}`,
    inference_mode: true,
    peft_type: peftType,
    revision: null,
    task_type: 'CAUSAL_LM',
  };
}

export async function writeAdapter(dir: string, config: Record<string, unknown>, tensors: Map<string, HostTensor>): Promise<void> {
  await makeDir(dir);
  await writeText(join(dir, CONFIG_FILE), sortedJson(config) + '\n');
  await writeHostTensors(join(dir, WEIGHTS_FILE), tensors);
}

export async function readAdapterConfig(dir: string): Promise<Record<string, unknown>> {
  const file = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readText(file);
  } catch {
    throw new Error(`adapter folder ${dir} has no ${CONFIG_FILE}; expected a folder written by save() (HF PEFT layout)`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** Reads both files; `peftType` guards against loading another method's adapter. */
export async function readAdapter(dir: string, peftType: string): Promise<{ config: Record<string, unknown>; tensors: Map<string, HostTensor> }> {
  const config = await readAdapterConfig(dir);
  if (config.peft_type !== peftType) {
    throw new Error(`${join(dir, CONFIG_FILE)} has peft_type ${JSON.stringify(config.peft_type)}, expected "${peftType}"`);
  }
  const tensors = await readHostTensors(join(dir, WEIGHTS_FILE));
  return { config, tensors };
}

/** The tensor under a key, with its shape checked. */
export function take(tensors: Map<string, HostTensor>, key: string, shape: number[], source = WEIGHTS_FILE): Float32Array {
  const t = tensors.get(key);
  if (!t) throw new Error(`${source}: missing tensor '${key}' (has ${[...tensors.keys()].slice(0, 4).join(', ')}${tensors.size > 4 ? ', ...' : ''})`);
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new Error(`${source}: tensor '${key}' has shape [${t.shape}], expected [${shape}]`);
  }
  return t.data;
}

/** One module's update in HF orientation. */
export interface LowRankFactors {
  /** lora_A [r, in] */
  A: Float32Array;
  /** lora_B [out, r] */
  B: Float32Array;
  r: number;
  /** Per-output vectors [out] saved beside the factors, e.g. { lora_magnitude_vector }. */
  vectors?: Record<string, Float32Array>;
}

interface Group {
  path: string;
  members: { name: string; offset: number; size: number }[];
  total: number;
  inFeatures: number;
}

function groupsOf(model: Model, names: string[]): Group[] {
  const groups = new Map<string, Group>();
  for (const name of names) {
    const lin = model.module(name);
    if (lin.kind !== 'linear') throw new Error(`${name} is not a linear module`);
    const t = hfLinear(model.config, name);
    const g = groups.get(t.path) ?? { path: t.path, members: [], total: t.fused?.total ?? lin.outFeatures, inFeatures: lin.inFeatures };
    g.members.push({ name, offset: t.fused?.offset ?? 0, size: t.fused?.size ?? lin.outFeatures });
    groups.set(t.path, g);
  }
  for (const g of groups.values()) g.members.sort((a, b) => a.offset - b.offset);
  return [...groups.values()];
}

/** Name of the fused sibling covering rows [offset, offset+size) of a GPT-2 c_attn path. */
function fusedSibling(path: string, offset: number, size: number): string {
  const i = /transformer\.h\.(\d+)\./.exec(path)![1];
  return `blocks.${i}.attn.${['q', 'k', 'v'][offset / size]}`;
}

/**
 * HF tensors for per-module low-rank factors; returns the packed rank of each HF path. `fill`
 * gives a vector's neutral value for an untargeted slice of a fused module (our module name).
 */
export function packLowRank(
  model: Model,
  factors: Map<string, LowRankFactors>,
  fill: (vector: string, moduleName: string, size: number) => Float32Array = (_v, _n, size) => new Float32Array(size),
): { tensors: Map<string, HostTensor>; ranks: Map<string, number>; paths: string[] } {
  const tensors = new Map<string, HostTensor>();
  const ranks = new Map<string, number>();
  for (const g of groupsOf(model, [...factors.keys()])) {
    const rTotal = g.members.reduce((a, m) => a + factors.get(m.name)!.r, 0);
    const A = new Float32Array(rTotal * g.inFeatures);
    const B = new Float32Array(g.total * rTotal); // [out_total, rTotal], block-diagonal
    const vectorNames = Object.keys(factors.get(g.members[0]!.name)!.vectors ?? {});
    const vectors = Object.fromEntries(vectorNames.map((v) => [v, new Float32Array(g.total)]));
    let col = 0;
    for (const m of g.members) {
      const f = factors.get(m.name)!;
      A.set(f.A, col * g.inFeatures);
      for (let row = 0; row < m.size; row++) {
        for (let k = 0; k < f.r; k++) B[(m.offset + row) * rTotal + col + k] = f.B[row * f.r + k]!;
      }
      for (const v of vectorNames) vectors[v]!.set(f.vectors![v]!, m.offset);
      col += f.r;
    }
    // Untargeted slices of a fused module: neutral vector values (e.g. the base weight's norm).
    if (vectorNames.length && g.members.length * g.members[0]!.size < g.total) {
      const size = g.members[0]!.size;
      for (let off = 0; off < g.total; off += size) {
        if (g.members.some((m) => m.offset === off)) continue;
        for (const v of vectorNames) vectors[v]!.set(fill(v, fusedSibling(g.path, off, size), size), off);
      }
    }
    tensors.set(`${PREFIX}${g.path}.lora_A.weight`, { shape: [rTotal, g.inFeatures], data: A });
    tensors.set(`${PREFIX}${g.path}.lora_B.weight`, { shape: [g.total, rTotal], data: B });
    for (const v of vectorNames) tensors.set(`${PREFIX}${g.path}.${v}`, { shape: [g.total], data: vectors[v]! });
    ranks.set(g.path, rTotal);
  }
  return { tensors, ranks, paths: [...ranks.keys()] };
}

/** Inverse of packLowRank for modules of known ranks; shapes are checked. */
export function unpackLowRank(
  model: Model,
  tensors: Map<string, HostTensor>,
  ranks: Map<string, number>,
  vectorNames: string[] = [],
): Map<string, LowRankFactors> {
  const out = new Map<string, LowRankFactors>();
  for (const g of groupsOf(model, [...ranks.keys()])) {
    const rTotal = g.members.reduce((a, m) => a + ranks.get(m.name)!, 0);
    const A = take(tensors, `${PREFIX}${g.path}.lora_A.weight`, [rTotal, g.inFeatures]);
    const B = take(tensors, `${PREFIX}${g.path}.lora_B.weight`, [g.total, rTotal]);
    const vecs = Object.fromEntries(vectorNames.map((v) => [v, take(tensors, `${PREFIX}${g.path}.${v}`, [g.total])]));
    let col = 0;
    for (const m of g.members) {
      const r = ranks.get(m.name)!;
      const a = A.slice(col * g.inFeatures, (col + r) * g.inFeatures);
      const b = new Float32Array(m.size * r);
      for (let row = 0; row < m.size; row++) for (let k = 0; k < r; k++) b[row * r + k] = B[(m.offset + row) * rTotal + col + k]!;
      const vectors = Object.fromEntries(vectorNames.map((v) => [v, vecs[v]!.slice(m.offset, m.offset + m.size)]));
      out.set(m.name, { A: a, B: b, r, ...(vectorNames.length ? { vectors } : {}) });
      col += r;
    }
  }
  return out;
}

/** Packs per-output vectors ([out] each, e.g. IA3 scales) into HF paths, filling untargeted fused slices. */
export function packVectors(
  model: Model,
  vectors: Map<string, Float32Array>,
  key: string,
  shapeOf: (total: number) => number[],
  fill: number | ((moduleName: string, size: number) => Float32Array),
): { tensors: Map<string, HostTensor>; paths: string[] } {
  const tensors = new Map<string, HostTensor>();
  for (const g of groupsOf(model, [...vectors.keys()])) {
    const data = new Float32Array(g.total).fill(typeof fill === 'number' ? fill : 0);
    if (typeof fill === 'function' && g.members.length * g.members[0]!.size < g.total) {
      const size = g.members[0]!.size;
      for (let off = 0; off < g.total; off += size) data.set(fill(fusedSibling(g.path, off, size), size), off);
    }
    for (const m of g.members) data.set(vectors.get(m.name)!, m.offset);
    tensors.set(`${PREFIX}${g.path}.${key}`, { shape: shapeOf(g.total), data });
  }
  return { tensors, paths: [...new Set(groupsOf(model, [...vectors.keys()]).map((g) => g.path))] };
}

export function unpackVectors(model: Model, tensors: Map<string, HostTensor>, names: string[], key: string, shapeOf: (total: number) => number[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const g of groupsOf(model, names)) {
    const data = take(tensors, `${PREFIX}${g.path}.${key}`, shapeOf(g.total));
    for (const m of g.members) out.set(m.name, data.slice(m.offset, m.offset + m.size));
  }
  return out;
}

/** HF paths of every linear of the model (for choosing short target_modules names). */
export function allHfLinearPaths(model: Model): string[] {
  return [...new Set(model.linears().map((l) => hfLinear(model.config, l.name).path))];
}
