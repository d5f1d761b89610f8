// Run requests (from CLI flags or a grid) -> fully resolved run specs, checked against the
// registries BEFORE any training starts: an unknown method or task lists the valid ones, a rank
// the method does not take or a bad hyperparameter names the field.
import type { RunRequest } from '../grid/grid.ts';
import type { Catalog, MethodEntry, ResolvedModel, TaskEntry } from './catalog.ts';
import { DEFAULT_PROTOCOL, declaredLr, defaultLr, isProtocol, LEGACY_MODEL_IDS, LEGACY_PROTOCOL, protocolMethodDefaults, PROTOCOLS, taskKnobDefaults, trainingDefaults } from './defaults.ts';
import type { RunMeta } from './meta.ts';
import { describeSpec, runIdOf, type RunSpec, type TrainingSettings } from './spec.ts';

/** Bad input from the user: printed as one paragraph, exit code 2, nothing written. */
export class InputError extends Error {
  override name = 'InputError';
}

export interface ResolvedRun {
  runId: string;
  spec: RunSpec;
  meta: RunMeta;
  label: string;
  experiment: string;
  keepAdapters: boolean;
  /** Registered model id or checkpoint directory to load. */
  modelSource: string;
  /** Runs whose kept adapters this run reads (`run:<id>` in its config); they run first. */
  dependsOn: string[];
  /** The same run's ids under code versions declared equivalent (grid/equivalence.ts): their records count as finished. */
  equivalentIds?: string[];
}

/**
 * A `set` value that names another run's adapter, e.g. in a grid:
 *   small_adapter: { adapter_of: { method: lora, rank: 8 } }
 * = the kept adapter of that method's run on the same task, seed, model and task knobs.
 */
interface AdapterOf {
  method: string;
  rank?: number | null;
  lr_factor?: number;
  set?: Record<string, unknown>;
  training?: RunRequest['training'];
}

function adapterOf(value: unknown): AdapterOf | null {
  if (value === null || typeof value !== 'object' || !('adapter_of' in value)) return null;
  const ref = (value as { adapter_of: unknown }).adapter_of;
  if (ref === null || typeof ref !== 'object' || typeof (ref as AdapterOf).method !== 'string') {
    throw new InputError(`Invalid adapter reference ${JSON.stringify(value)}: expected { adapter_of: { method: <id>, rank: <n> } }.`);
  }
  return ref as AdapterOf;
}

export function findMethod(catalog: Catalog, id: string): MethodEntry {
  const methods = catalog.methods();
  const method = methods.find((entry) => entry.id === id);
  if (!method) {
    throw new InputError(`Unknown method "${id}". Valid methods: ${methods.map((entry) => entry.id).join(', ')}. See \`pnpm bench --list\`.`);
  }
  return method;
}

export function findTask(catalog: Catalog, id: string): TaskEntry {
  const tasks = catalog.tasks();
  const task = tasks.find((entry) => entry.id === id);
  if (!task) {
    throw new InputError(`Unknown task "${id}". Valid tasks: ${tasks.map((entry) => entry.id).join(', ')}. See \`pnpm bench --list\`.`);
  }
  return task;
}

function checkTraining(training: TrainingSettings): void {
  const problems: string[] = [];
  const positiveInt = (name: keyof TrainingSettings, allowZero = false) => {
    const value = training[name] as number;
    if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) problems.push(`${name}=${value} must be a${allowZero ? ' non-negative' : ' positive'} integer`);
  };
  positiveInt('steps', true);
  positiveInt('batch_size');
  positiveInt('micro_batch_size');
  positiveInt('warmup_steps', true);
  positiveInt('max_seq_len');
  positiveInt('eval_every', true);
  if (!(training.lr > 0 && Number.isFinite(training.lr))) problems.push(`lr=${training.lr} must be a positive number`);
  if (training.micro_batch_size > training.batch_size || training.batch_size % training.micro_batch_size !== 0) {
    problems.push(`micro_batch_size=${training.micro_batch_size} must divide batch_size=${training.batch_size}`);
  }
  if (!['constant', 'linear', 'cosine'].includes(training.schedule)) problems.push(`schedule="${training.schedule}" must be one of constant, linear, cosine`);
  if (training.grad_clip !== null && !(training.grad_clip > 0)) problems.push(`grad_clip=${training.grad_clip} must be positive or null`);
  if (training.patience !== undefined) {
    positiveInt('patience');
    if (training.eval_every === 0) problems.push(`patience=${training.patience} needs validation during training: eval_every must be positive`);
    const threshold = training.min_rel_improvement;
    if (threshold === undefined || !(threshold >= 0 && threshold < 1)) problems.push(`min_rel_improvement=${threshold} must be in [0, 1) with patience`);
  } else if (training.min_rel_improvement !== undefined) problems.push('min_rel_improvement is set without patience');
  if (problems.length > 0) throw new InputError(`Invalid training settings: ${problems.join('; ')}.`);
}

/**
 * Resolves every request, dropping duplicates (same run id). Throws InputError on the first bad
 * request, before anything has run.
 */
export async function resolveRequests(
  requests: RunRequest[],
  catalog: Catalog,
  /** The code version of each run: one string for all, or per method (run/code-version.ts). */
  options: { codeVersion: string | ((methodId: string) => string); defaultModel: string },
): Promise<ResolvedRun[]> {
  const models = new Map<string, ResolvedModel>();
  const resolveModel = async (idOrDir: string): Promise<ResolvedModel> => {
    let model = models.get(idOrDir);
    if (!model) {
      try {
        model = await catalog.resolveModel(idOrDir);
      } catch (error) {
        throw new InputError((error as Error).message);
      }
      models.set(idOrDir, model);
    }
    return model;
  };
  const seen = new Map<string, ResolvedRun>();
  const runs: ResolvedRun[] = [];
  const resolveOne = async (request: RunRequest): Promise<ResolvedRun> => {
    // Adapter references first: the referenced runs are resolved (and listed) before this one.
    const dependsOn: string[] = [];
    const set: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(request.set)) {
      const ref = adapterOf(value);
      if (!ref) {
        set[key] = value;
        continue;
      }
      const dependency = await resolveOne({
        ...request,
        method: ref.method,
        rank: ref.rank ?? null,
        lr: null,
        lrFactor: ref.lr_factor ?? null,
        set: ref.set ?? {},
        training: ref.training ?? {},
        keepAdapters: true,
      });
      set[key] = `run:${dependency.runId}`;
      dependsOn.push(dependency.runId);
    }
    const method = findMethod(catalog, request.method);
    const task = findTask(catalog, request.task);
    if (request.rank !== null && method.rankParam === null) {
      throw new InputError(
        `Method "${method.id}" takes no rank (it has no rank-like hyperparameter), but rank ${request.rank} was given. Drop --rank for it; methods that take a rank: ${catalog
          .methods()
          .filter((entry) => entry.rankParam !== null)
          .map((entry) => `${entry.id} (${entry.rankParam})`)
          .join(', ')}.`,
      );
    }
    const protocol = request.protocol ?? DEFAULT_PROTOCOL;
    if (!isProtocol(protocol)) throw new InputError(`Unknown protocol "${protocol}". Valid protocols: ${PROTOCOLS.join(', ')} (see run/defaults.ts).`);
    let config: Record<string, unknown>;
    try {
      config = method.resolveConfig(request.rank, { ...protocolMethodDefaults(protocol, method.id), ...set });
    } catch (error) {
      throw new InputError(`Invalid configuration for method "${method.id}": ${(error as Error).message}`);
    }
    const model = await resolveModel(request.model ?? options.defaultModel);
    let knobs: Record<string, unknown>;
    try {
      knobs = task.resolveKnobs({ ...taskKnobDefaults(model.id, protocol, task.tier, task.id), ...request.taskConfig });
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    const training: TrainingSettings = {
      ...trainingDefaults(model.id, protocol, task.id),
      // Rounded so 2e-3 x 0.05 is 1e-4, not 1.0000000000000002e-4, in records and labels. A factor
      // multiplies the declared rate; without one, the rate chosen on valid applies where there is one.
      lr: request.lr ?? Number((request.lrFactor == null ? defaultLr(model.id, method, protocol) : declaredLr(model.id, method, protocol) * request.lrFactor).toPrecision(6)),
      ...request.training,
    };
    if (protocol === LEGACY_PROTOCOL && training.patience !== undefined) {
      throw new InputError(`Invalid training settings: patience=${training.patience} is early stopping, which the ${LEGACY_PROTOCOL} protocol does not use; use --protocol converge.`);
    }
    checkTraining(training);
    const rank = method.rankParam === null ? null : ((request.rank ?? config[method.rankParam]) as number | null);
    const spec: RunSpec = {
      method: { id: method.id, config, rank: typeof rank === 'number' ? rank : null },
      task: { id: task.id, config: knobs },
      // fixed-300 specs name the naive checkpoint as their runs did (`default`), so their run ids stay.
      model: { id: protocol === LEGACY_PROTOCOL ? (LEGACY_MODEL_IDS[model.id] ?? model.id) : model.id, hash: model.hash },
      seed: request.seed,
      training,
      ...(protocol === LEGACY_PROTOCOL ? {} : { protocol }),
      code_version: typeof options.codeVersion === 'function' ? options.codeVersion(method.id) : options.codeVersion,
    };
    const runId = runIdOf(spec);
    const earlier = seen.get(runId);
    if (earlier) {
      // The same run asked for twice (e.g. a rank sweep and a block that keeps adapters): run once, keep if either asks.
      earlier.keepAdapters ||= request.keepAdapters;
      return earlier;
    }
    const run: ResolvedRun = {
      runId,
      spec,
      meta: {
        method: { family: method.family, title: method.title, paper: method.paper, description: method.description },
        task: { tier: task.tier, family: task.family, primary_metric: task.primaryMetric },
        model: { params: model.params },
      },
      label: describeSpec(spec),
      experiment: request.experiment,
      keepAdapters: request.keepAdapters,
      modelSource: model.source,
      dependsOn,
    };
    seen.set(runId, run);
    runs.push(run);
    return run;
  };
  for (const request of requests) await resolveOne(request);
  return runs;
}
