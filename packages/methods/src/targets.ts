// Which modules a method targets, as HF PEFT's target_modules: an entry matches a module whose
// name equals it or ends with `.<entry>` ('q' -> blocks.*.attn.q); an entry with regex characters
// must match the whole name; 'all-linear' is every linear. HF Llama names (q_proj, ...) are
// accepted as synonyms.
import { z } from 'zod';
import type { Linear, Norm } from '@peft-bench/core/model/modules';
import type { Model } from './types.ts';

const HF_SYNONYMS: Record<string, string> = {
  q_proj: 'q', k_proj: 'k', v_proj: 'v', o_proj: 'o', gate_proj: 'gate', up_proj: 'up', down_proj: 'down',
  input_layernorm: 'ln1', post_attention_layernorm: 'ln2', norm: 'ln_f',
};
const REGEX_CHARS = /[\\^$*+?()[\]{}|]/;

function matcher(entry: string): (name: string) => boolean {
  const key = HF_SYNONYMS[entry] ?? entry;
  if (REGEX_CHARS.test(key)) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${key})$`);
    } catch (e) {
      throw new Error(`target_modules: '${entry}' is not a valid regular expression (${(e as Error).message})`);
    }
    return (name) => re.test(name);
  }
  return (name) => name === key || name.endsWith(`.${key}`);
}

function resolve<M extends { name: string }>(methodId: string, kind: string, all: M[], patterns: readonly string[]): M[] {
  if (patterns.length === 0) throw new Error(`method '${methodId}': target_modules is empty; list at least one ${kind} module`);
  if (patterns.includes('all-linear') && kind === 'linear') return all;
  const chosen = new Set<string>();
  for (const p of patterns) {
    const test = matcher(p);
    const hits = all.filter((m) => test(m.name));
    if (hits.length === 0) {
      const shortNames = [...new Set(all.map((m) => m.name.split('.').pop()!))];
      throw new Error(
        `method '${methodId}': target_modules entry '${p}' matches no ${kind} module; ` +
          `${kind} modules are ${shortNames.join(', ')} (e.g. ${all.slice(0, 3).map((m) => m.name).join(', ')})` +
          (kind === 'linear' ? ", or use 'all-linear'" : ''),
      );
    }
    for (const m of hits) chosen.add(m.name);
  }
  return all.filter((m) => chosen.has(m.name));
}

export function resolveLinears(methodId: string, model: Model, patterns: readonly string[]): Linear[] {
  return resolve(methodId, 'linear', model.linears(), patterns);
}

export function resolveNorms(methodId: string, model: Model, patterns: readonly string[]): Norm[] {
  return resolve(methodId, 'norm', model.norms(), patterns);
}

/**
 * The `target_modules` hyperparameter of a method that adapts linears: a list of names and regexes,
 * or one string as HF PEFT also takes it (`all-linear`, or names separated by commas).
 */
export function linearTargets(defaults: string[], description = "Linears to adapt (suffix, regex or 'all-linear').") {
  return z
    .union([z.array(z.string().min(1)), z.string().min(1)])
    .default(defaults)
    .transform((value) => (typeof value === 'string' ? value.split(',').map((name) => name.trim()).filter(Boolean) : value))
    .describe(description);
}

/**
 * Low-rank methods adapt every linear layer by default, as current practice does (HF PEFT's
 * `target_modules="all-linear"`, QLoRA, "LoRA Without Regret"); q,v only (the LoRA paper's choice)
 * stays available as `target_modules: [q, v]`.
 */
export const ALL_LINEAR = ['all-linear'];
/** The LoRA paper's targets: the attention query and value projections. */
export const QV = ['q', 'v'];
