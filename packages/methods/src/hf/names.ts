// Our module names -> Hugging Face module paths, for adapter files in the HF PEFT layout.
//   llama: blocks.0.attn.q -> model.layers.0.self_attn.q_proj, blocks.0.mlp.gate -> model.layers.0.mlp.gate_proj,
//          blocks.0.ln1 -> model.layers.0.input_layernorm, ln_f -> model.norm, embeddings -> model.embed_tokens
//   gpt2:  blocks.0.attn.{q,k,v} -> transformer.h.0.attn.c_attn (one fused Conv1D: rows 0..d, d..2d, 2d..3d of
//          its [3d, in] HF weight), attn.o -> attn.c_proj, mlp.up -> mlp.c_fc, mlp.down -> mlp.c_proj,
//          ln1 -> ln_1, ln2 -> ln_2, ln_f -> transformer.ln_f, embeddings -> transformer.wte
import type { ModelFamily } from '@peft-bench/core/model/config';

export interface HfLinearTarget {
  /** HF module path, e.g. model.layers.0.self_attn.q_proj. */
  path: string;
  /** Set when our module is a slice of the output rows of a fused HF module (GPT-2 c_attn). */
  fused?: { offset: number; size: number; total: number };
}

const BLOCK = /^blocks\.(\d+)\.(attn|mlp)\.(\w+)$/;
const NORM = /^blocks\.(\d+)\.(ln1|ln2)$/;

function unknown(name: string, family: ModelFamily): never {
  throw new Error(`no Hugging Face module path for '${name}' in a ${family} model`);
}

/** HF path of a linear; `d` (hidden width) is needed for GPT-2's fused q/k/v slices. */
export function hfLinear(family: ModelFamily, name: string, d: number): HfLinearTarget {
  const m = BLOCK.exec(name);
  if (!m) unknown(name, family);
  const [, i, group, leaf] = m;
  if (family === 'llama') {
    const hfLeaf = { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj', gate: 'gate_proj', up: 'up_proj', down: 'down_proj' }[leaf!];
    if (!hfLeaf) unknown(name, family);
    return { path: `model.layers.${i}.${group === 'attn' ? 'self_attn' : 'mlp'}.${hfLeaf}` };
  }
  const qkv = ['q', 'k', 'v'].indexOf(leaf!);
  if (group === 'attn' && qkv >= 0) return { path: `transformer.h.${i}.attn.c_attn`, fused: { offset: qkv * d, size: d, total: 3 * d } };
  if (group === 'attn' && leaf === 'o') return { path: `transformer.h.${i}.attn.c_proj` };
  if (group === 'mlp' && leaf === 'up') return { path: `transformer.h.${i}.mlp.c_fc` };
  if (group === 'mlp' && leaf === 'down') return { path: `transformer.h.${i}.mlp.c_proj` };
  return unknown(name, family);
}

/**
 * A path for methods whose factors cannot be packed into a fused module (LoHa, LoKr, VeRA, Houlsby):
 * GPT-2's q/k/v become `transformer.h.{i}.attn.{q,k,v}_proj`, which HF GPT-2 does not have; such files
 * load back here but not into HF PEFT on a GPT-2 checkpoint. Llama paths are the real ones.
 */
export function hfLinearUnfused(family: ModelFamily, name: string, d: number): string {
  const t = hfLinear(family, name, d);
  if (!t.fused) return t.path;
  return `${t.path.replace(/\.c_attn$/, '')}.${name.split('.').pop()}_proj`;
}

export function hfNorm(family: ModelFamily, name: string): string {
  if (name === 'ln_f') return family === 'llama' ? 'model.norm' : 'transformer.ln_f';
  const m = NORM.exec(name);
  if (!m) unknown(name, family);
  const [, i, which] = m;
  if (family === 'llama') return `model.layers.${i}.${which === 'ln1' ? 'input_layernorm' : 'post_attention_layernorm'}`;
  return `transformer.h.${i}.${which === 'ln1' ? 'ln_1' : 'ln_2'}`;
}

export function hfEmbeddings(family: ModelFamily): string {
  return family === 'llama' ? 'model.embed_tokens' : 'transformer.wte';
}

/**
 * target_modules for adapter_config.json: HF leaf names (q_proj, c_attn) where the leaf picks out
 * exactly the targeted modules, otherwise the full paths (PEFT matches both by suffix).
 */
export function hfTargetModules(targetedPaths: string[], allPaths: string[]): string[] {
  const targeted = new Set(targetedPaths);
  const leaf = (p: string) => p.split('.').pop()!;
  const out = new Set<string>();
  for (const p of targeted) {
    const sameLeaf = allPaths.filter((q) => leaf(q) === leaf(p));
    out.add(sameLeaf.every((q) => targeted.has(q)) ? leaf(p) : p);
  }
  return [...out].sort();
}
