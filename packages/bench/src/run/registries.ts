// The real catalogue: methods from packages/methods, tasks from packages/core, models from
// models.ts. Everything the CLI checks before a run comes through here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKEND_CHOICES } from '@peft-bench/core/backend/index';
import { checkpointHash } from '@peft-bench/core/checkpoint/checkpoint';
import { resolveModelConfig, type ModelConfig } from '@peft-bench/core/model/config';
import { getTask, knobDefaults, knobDescriptions, parseKnobs, TASKS } from '@peft-bench/core/tasks/index';
import { ByteTokenizer } from '@peft-bench/core/tokenizer/index';
import { loadRegistry, withRank, type Registry } from '@peft-bench/methods/registry';
import type { Catalog, MethodEntry, ModelEntry, ResolvedModel, TaskEntry } from './catalog.ts';
import { checkpointMissingMessage, findModelDef, MODELS, randomModelHash, safetensorsParamCount, type ModelDef } from './models.ts';

export function backendChoices(): string[] {
  return [...BACKEND_CHOICES];
}

/** `--set` values from the CLI are strings; grid values are typed. The registry coerces strings by field type. */
function asSetString(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function methodEntries(registry: Registry): MethodEntry[] {
  return registry.list().map((info) => ({
    ...info,
    resolveConfig(rank, set) {
      const sets = Object.fromEntries(Object.entries(set).map(([key, value]) => [key, asSetString(value)]));
      return withRank(registry.get(info.id), rank, sets) as Record<string, unknown>;
    },
  }));
}

function taskEntries(): TaskEntry[] {
  return Object.values(TASKS).map((task) => {
    const defaults = knobDefaults(task.knobs);
    const descriptions = knobDescriptions(task.knobs);
    return {
      id: task.id,
      title: task.title,
      tier: task.tier,
      family: task.family,
      metrics: task.metrics.map((metric) => ({ ...metric })),
      primaryMetric: task.primaryMetric,
      knobs: Object.keys(descriptions).map((name) => ({ name, default: defaults[name] ?? null, description: descriptions[name] ?? '' })),
      resolveKnobs: (knobs) => {
        const parsed = parseKnobs(task.id, task.knobs, knobs) as Record<string, unknown>;
        // Drop knobs left undefined ("all records") so the spec's JSON has no holes.
        return Object.fromEntries(Object.entries(parsed).filter(([, value]) => value !== undefined));
      },
    };
  });
}

export function isOurCheckpoint(dir: string): boolean {
  try {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { format?: unknown };
    return typeof config.format === 'string' && config.format.startsWith('peft-bench/');
  } catch {
    return false;
  }
}

async function resolveModelDef(def: ModelDef): Promise<ResolvedModel> {
  if (def.kind === 'random') {
    const vocabSize = new ByteTokenizer().vocabSize;
    // Counted from the config: creating the model here would need a backend before the run picks one.
    const params = configParamCount(resolveModelConfig({ ...def.random.config, vocabSize }));
    return { id: def.id, hash: randomModelHash(def.random, vocabSize), params, source: def.id };
  }
  const weights = path.join(def.dir, 'model.safetensors');
  if (!fs.existsSync(path.join(def.dir, 'config.json')) || !fs.existsSync(weights)) throw new Error(checkpointMissingMessage(def));
  const hash = await checkpointHash(def.dir);
  const registered = MODELS.some((model) => model.id === def.id);
  return { id: registered ? def.id : `${def.id}@${hash.slice(0, 8)}`, hash, params: safetensorsParamCount(weights), source: registered ? def.id : def.dir };
}

/** Parameters of a model with this config (the runner checks it against the built model). */
export function configParamCount(c: ModelConfig): number {
  const kv = c.nKvHead * (c.d / c.nHead);
  const gpt2 = c.family === 'gpt2';
  const attention = c.d * c.d * 2 + c.d * kv * 2 + (gpt2 ? 2 * c.d + 2 * kv : 0);
  const mlp = (gpt2 ? 2 : 3) * c.d * c.mlpHidden + (gpt2 ? c.mlpHidden + c.d : 0);
  const norms = (gpt2 ? 4 : 2) * c.d;
  const embeddings = c.vocabSize * c.d * (c.tieEmbeddings ? 1 : 2) + (gpt2 ? c.maxSeq * c.d : 0);
  return c.nLayer * (attention + mlp + norms) + embeddings + (gpt2 ? 2 : 1) * c.d;
}

let catalogPromise: Promise<Catalog> | null = null;

export function loadCatalog(): Promise<Catalog> {
  catalogPromise ??= (async () => {
    const registry = await loadRegistry();
    const methods = methodEntries(registry);
    const tasks = taskEntries();
    const models: ModelEntry[] = MODELS.map((def) => ({ id: def.id, description: def.description, dir: def.kind === 'checkpoint' ? def.dir : null }));
    const resolved = new Map<string, ResolvedModel>();
    return {
      methods: () => methods,
      tasks: () => tasks,
      models: () => models,
      async resolveModel(idOrDir: string) {
        let model = resolved.get(idOrDir);
        if (!model) {
          model = await resolveModelDef(findModelDef(idOrDir));
          resolved.set(idOrDir, model);
        }
        return model;
      },
    };
  })();
  return catalogPromise;
}

export { getTask };
