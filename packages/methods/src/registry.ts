// The method registry, built from the folders of packages/methods at runtime: every
// `packages/methods/<id>/index.ts` that default-exports defineMethod(...) is a method. Adding a
// method is adding a folder.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fieldSchemas, describeAllowed, parseConfig } from './validate.ts';
import type { MethodInfo } from '@peft-bench/results/method-info';
import type { Config, Method } from './types.ts';

/** packages/methods */
export const METHODS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NOT_METHODS = new Set(['src', 'test', 'scripts', 'node_modules']);

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

/** Method folders under `root`: those holding an index.ts. */
export function methodFolders(root = METHODS_ROOT): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !NOT_METHODS.has(e.name) && !e.name.startsWith('.'))
    .filter((e) => existsSync(join(root, e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

const cache = new Map<string, Promise<Registry>>();

/** Imports every method folder; a folder whose default export is not a method, or whose id differs from its name, throws. */
export function loadRegistry(root = METHODS_ROOT): Promise<Registry> {
  let r = cache.get(root);
  if (!r) {
    r = (async () => {
      const methods: Method[] = [];
      for (const folder of methodFolders(root)) {
        const file = join(root, folder, 'index.ts');
        const mod = (await import(pathToFileURL(file).href)) as { default?: Method };
        const m = mod.default;
        if (!m || m.kind !== 'peft-bench-method') {
          throw new Error(`${file}: must \`export default defineMethod({...})\``);
        }
        if (m.id !== folder) throw new Error(`${file}: method id '${m.id}' must equal its folder name '${folder}'`);
        methods.push(m);
      }
      return new Registry(methods);
    })();
    cache.set(root, r);
    r.catch(() => cache.delete(root));
  }
  return r;
}

export async function getMethod(id: string): Promise<Method> {
  return (await loadRegistry()).get(id);
}

export async function listMethods(): Promise<MethodInfo[]> {
  return (await loadRegistry()).list();
}

function coerce(methodId: string, key: string, raw: string, f: { type?: string | string[]; enum?: unknown[]; anyOf?: unknown[] }): unknown {
  const t = Array.isArray(f.type) ? f.type[0] : f.type;
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
