// The method registry's node-free half: the Registry of loaded methods, their descriptions, and
// `--rank` / `--set` handling. registry.ts finds and imports the method folders (Node); a browser
// bundle builds a Registry from the folders it imports itself.
import { fieldSchemas, describeAllowed, parseConfig } from './validate.ts';
import type { MethodInfo } from '@peft-bench/results/method-info';
import type { Config, Method } from './types.ts';

export type { MethodInfo, HyperparameterInfo } from '@peft-bench/results/method-info';

export class Registry {
  private readonly byId: Map<string, Method>;
  constructor(methods: Method[]) {
    this.byId = new Map(methods.map((m) => [m.id, m]));
  }

  ids(): string[] {
    return [...this.byId.keys()].sort();
  }

  /** The method with this id; an unknown id throws listing the valid ones. */
  get(id: string): Method {
    const m = this.byId.get(id);
    if (!m) throw new Error(`unknown method '${id}'; valid methods are ${this.ids().join(', ')}`);
    return m;
  }

  all(): Method[] {
    return this.ids().map((id) => this.byId.get(id)!);
  }

  /** For `pnpm bench --list --json`. */
  list(): MethodInfo[] {
    return this.all().map(methodInfo);
  }
}

/** The kind (the `kind` literal of its schema) of what a method's analysis reports, or null. */
function analysisKind(m: Method): string | null {
  if (!m.analysis) return null;
  const kind = (m.analysis as unknown as { shape?: { kind?: { value?: unknown } } }).shape?.kind?.value;
  if (typeof kind !== 'string') throw new Error(`method '${m.id}': its analysis schema has no literal 'kind'`);
  return kind;
}

export function methodInfo(m: Method): MethodInfo {
  const fields = fieldSchemas(m.hyperparameters);
  return {
    id: m.id,
    title: m.title,
    family: m.family,
    paper: m.paper,
    description: m.description,
    rankParam: m.rankParam,
    rankMeaning: m.rankMeaning ?? null,
    baseline: m.baseline ?? false,
    lrScale: m.lrScale ?? 1,
    atInference: m.atInference,
    analysis: analysisKind(m),
    modelFamilies: [...(m.modelFamilies ?? ['gpt2', 'llama'])],
    hyperparameters: Object.entries(fields).map(([name, f]) => ({
      name,
      type: f.anyOf ? f.anyOf.map((a) => a.type).join('|') : Array.isArray(f.type) ? f.type.join('|') : String(f.type ?? (f.enum ? typeof f.enum[0] : 'any')),
      default: f.default,
      description: f.description ?? '',
      allowed: describeAllowed(f),
      ...(f.minimum !== undefined ? { minimum: f.minimum } : {}),
      ...(f.maximum !== undefined ? { maximum: f.maximum } : {}),
      ...(f.enum ? { enum: f.enum } : {}),
    })),
  };
}

function coerce(methodId: string, key: string, raw: string, f: { type?: string | string[]; enum?: unknown[]; anyOf?: unknown[] }): unknown {
  // A field that takes a list or one string (target_modules) is read as a list.
  const listOrString = (f.anyOf as { type?: string }[] | undefined)?.some((option) => option.type === 'array');
  const t = listOrString ? 'array' : Array.isArray(f.type) ? f.type[0] : f.type;
  const bad = (what: string) => new Error(`method '${methodId}': --set ${key}=${raw}: ${what}; allowed: ${describeAllowed(f as never)}`);
  if (raw === 'null') return null;
  if (t === 'integer' || t === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw bad('not a number');
    return n;
  }
  if (t === 'boolean') {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw bad('expected true or false');
  }
  if (t === 'array') {
    const s = raw.trim();
    if (s.startsWith('[')) {
      try {
        return JSON.parse(s);
      } catch {
        throw bad('not valid JSON');
      }
    }
    return s === '' ? [] : s.split(',').map((x) => x.trim());
  }
  if (f.enum && f.enum.every((e) => typeof e === 'number')) return Number(raw);
  return raw;
}

/**
 * The validated config for `--rank <rank>` and `--set key=value ...`: strings are coerced by the
 * field's type (numbers, true/false, comma-separated or JSON lists); a rank for a method without
 * one, or an unknown field, throws a clear message.
 */
export function withRank(method: Method, rank: number | null | undefined, sets: Record<string, string> = {}): Config {
  const fields = fieldSchemas(method.hyperparameters);
  const config: Config = {};
  for (const [key, raw] of Object.entries(sets)) {
    const f = fields[key];
    if (!f) throw new Error(`method '${method.id}': unknown hyperparameter '${key}' in --set; valid fields are ${Object.keys(fields).join(', ')}`);
    config[key] = coerce(method.id, key, raw, f);
  }
  if (rank != null) {
    if (method.rankParam === null) {
      throw new Error(`method '${method.id}' takes no rank: drop --rank (its hyperparameters are ${Object.keys(fields).join(', ') || 'none'})`);
    }
    if (method.rankParam in sets) {
      throw new Error(`method '${method.id}': --rank sets '${method.rankParam}', which --set also sets; use one of them`);
    }
    config[method.rankParam] = rank;
  }
  return parseConfig(method.id, method.hyperparameters, config) as Config;
}
