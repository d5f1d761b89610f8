// Our module names -> Hugging Face module paths, for adapter files in the HF PEFT layout. The
// mapping itself is core's (checkpoint/hf.ts, shared with checkpoint loading):
//   llama: blocks.0.attn.q -> model.layers.0.self_attn.q_proj, blocks.0.ln1 -> model.layers.0.input_layernorm, ln_f -> model.norm
//   gpt2:  blocks.0.attn.{q,k,v} -> transformer.h.0.attn.c_attn (one fused module: rows 0..d, d..2d, 2d..3d of
//          its output), attn.o -> attn.c_proj, mlp.up -> mlp.c_fc, mlp.down -> mlp.c_proj, ln1 -> ln_1, ln_f -> transformer.ln_f
import type { ModelConfig } from '@peft-bench/core/model/config';
import { hfModulePath } from '@peft-bench/core/checkpoint/hf';

export interface HfLinearTarget {
  /** HF module path, e.g. model.layers.0.self_attn.q_proj. */
  path: string;
  /** Set when our module is a slice of the output rows of a fused HF module (GPT-2 c_attn). */
  fused?: { offset: number; size: number; total: number };
}

/** HF path of a linear (and, for GPT-2's q/k/v, its slice of the fused c_attn output). */
export function hfLinear(config: ModelConfig, name: string): HfLinearTarget {
  const ref = hfModulePath(config, name);
  if (!ref.fused) return { path: ref.path };
  const size = config.d; // GPT-2 has no grouped-query attention: q, k, v are each d wide
  return { path: ref.path, fused: { offset: ref.fused.index * size, size, total: ref.fused.parts * size } };
}

/**
 * A path for methods whose per-module tensors cannot be packed into a fused module (LoHa, LoKr,
 * VeRA, Houlsby): GPT-2's q/k/v become `transformer.h.{i}.attn.{q,k,v}_proj`, which HF GPT-2 does
 * not have; such files load back here but not into HF PEFT on a GPT-2 checkpoint. Other paths are HF's.
 */
export function hfLinearUnfused(config: ModelConfig, name: string): string {
  const t = hfLinear(config, name);
  if (!t.fused) return t.path;
  return `${t.path.replace(/\.c_attn$/, '')}.${name.split('.').pop()}_proj`;
}

export function hfNorm(config: ModelConfig, name: string): string {
  return hfModulePath(config, name).path;
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
