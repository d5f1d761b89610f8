// Wall-time estimates for a grid from measured throughput. A run's training time is its tokens
// (steps x batch x the task's mean padded row length, measured in finished records of the task)
// over the training tokens/s measured for the method (same configuration, else same rank, where there are records), plus the
// evaluation and setup seconds measured for the method on the task (else for the task). Pace is the
// median measured: the same configuration's runs trained up to 2x apart on one machine as the other
// worker's run and the host changed, and backtested (`pnpm bench estimate-check`) the fastest pace
// underestimated the grid's runs by a quarter to a third, the median by 0-17%. A method
// whose records never trained (the frozen base) costs those alone. Where records lack those figures, the mean time of
// the closest matching records scaled by steps is used. Only records of the run's model and protocol
// count (a converge run's length is its own: its steps are the median steps taken by finished converge
// runs of the method and task at the same learning rate, configuration and batch size, else at the same rate, else at any, else of the task, else the maximum). During a grid the pool's own pace replaces it.
import { canonicalJson } from '@peft-bench/results/record/run-id';
import { LEGACY_PROTOCOL, RENAMED_MODELS, type RunRecord } from '@peft-bench/results/record/schema';
import type { ResolvedRun } from '../run/resolve.ts';

export interface Timing {
  /** fixed-300 or converge (records that state none are fixed-300). */
  protocol?: string;
  model: string;
  method: string;
  task: string;
  steps: number;
  /** Train + eval seconds. */
  seconds: number;
  rank?: number | null;
  /** The method's whole config (canonical JSON): at one rank, LoRA on q,v trains twice as fast as on every linear layer. */
  config?: string;
  /** Learning rate: a converge run's length depends on it (a low rate may run to the maximum). */
  lr?: number;
  batch?: number;
  trainSeconds?: number;
  evalSeconds?: number;
  /** Wall time of the run outside training and evaluation (loading, data), from its start and finish times. */
  setupSeconds?: number;
  tokensPerS?: number;
  /** The CPU the record was made on (provenance.cpu): machines of one kind differ in speed. */
  cpu?: string;
}

export function timingOf(record: RunRecord): Timing | null {
  if (record.status === 'failed') return null;
  const seconds = record.cost.train_seconds + record.cost.eval_seconds;
  if (!(seconds > 0)) return null;
  const wall = (Date.parse(record.provenance.finished_at) - Date.parse(record.provenance.started_at)) / 1000;
  return {
    model: record.model.id,
    protocol: record.protocol ?? LEGACY_PROTOCOL,
    method: record.method.id,
    task: record.task.id,
    // Steps taken (early stopping ends converge runs before their maximum).
    steps: record.convergence?.steps ?? record.training.steps,
    seconds,
    rank: record.method.rank ?? null,
    config: canonicalJson(record.method.config),
    lr: record.training.lr,
    batch: record.training.batch_size,
    trainSeconds: record.cost.train_seconds,
    evalSeconds: record.cost.eval_seconds,
    setupSeconds: Number.isFinite(wall) ? Math.max(0, wall - seconds) : undefined,
    tokensPerS: record.cost.tokens_per_s,
    cpu: record.provenance.cpu,
  };
}

function median(values: number[]): number | null {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Over the first candidate set with any value of `pick`, the smallest (`best: 'min'`) or largest. */
function firstBest(sets: Timing[][], pick: (t: Timing) => number | undefined, best: 'min' | 'max'): number | null {
  for (const set of sets) {
    const values = set.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (values.length > 0) return best === 'min' ? Math.min(...values) : Math.max(...values);
  }
  return null;
}

/** The first non-empty list of `pick` over the candidate sets, as a median. */
function firstMedian(sets: Timing[][], pick: (t: Timing) => number | undefined): number | null {
  for (const set of sets) {
    const value = median(set.map(pick).filter((v): v is number => v !== undefined));
    if (value !== null) return value;
  }
  return null;
}

/** Seconds for one run from measured throughput (see the file comment); null when nothing of the model was measured. */
/** A run's model and protocol as its record will be read (a fixed-300 spec states no protocol and the old model name). */
function scopeOfRun(run: ResolvedRun): { model: string; protocol: string } {
  const protocol = run.spec.protocol ?? LEGACY_PROTOCOL;
  return { protocol, model: run.spec.protocol === undefined ? (RENAMED_MODELS[run.spec.model.id] ?? run.spec.model.id) : run.spec.model.id };
}

export function estimateRunSeconds(run: ResolvedRun, timings: Timing[]): number | null {
  const spec = run.spec;
  const scope = scopeOfRun(run);
  const sameModel = timings.filter((t) => t.model === scope.model || t.model === spec.model.id);
  const sameProtocol = sameModel.filter((t) => (t.protocol ?? LEGACY_PROTOCOL) === scope.protocol);
  const model = sameProtocol.length > 0 ? sameProtocol : sameModel;
  if (model.length === 0) return null;
  const task = model.filter((t) => t.task === spec.task.id);
  const method = model.filter((t) => t.method === spec.method.id);
  const sameRank = method.filter((t) => (t.rank ?? null) === spec.method.rank);
  const configKey = spec.method.config ? canonicalJson(spec.method.config) : undefined;
  const sameConfig = method.filter((t) => configKey !== undefined && t.config === configKey);
  const trained = (t: Timing) => t.steps > 0 && (t.trainSeconds ?? 0) > 0 && (t.tokensPerS ?? 0) > 0 && (t.batch ?? 0) > 0;
  // Tokens per row of this task (padded as the trainer pads), and the method's tokens/s.
  const rowTokens = firstMedian([task.filter(trained), model.filter(trained)], (t) => (t.tokensPerS! * t.trainSeconds!) / (t.steps * t.batch!));
  const methodTask = method.filter((t) => t.task === spec.task.id);
  // The task's row lengths move tokens/s too (shorter rows, smaller matrix products): its own records first.
  const onTask = (list: Timing[]) => list.filter((t) => t.task === spec.task.id && trained(t));
  const tokensPerS = firstMedian([onTask(sameConfig), onTask(sameRank), onTask(method), sameConfig.filter(trained), sameRank.filter(trained), method.filter(trained), model.filter(trained)], (t) => t.tokensPerS);
  // Evaluation time grows with the checks an early-stopped run makes, so the median, not the fastest.
  const evalSeconds = firstMedian([methodTask, task, model], (t) => t.evalSeconds);
  const setupSeconds = firstBest([methodTask, task, model], (t) => t.setupSeconds, 'min') ?? 0;
  // Early stopping: the steps such runs took, never more than this run's maximum.
  const early = spec.training.patience !== undefined && sameProtocol.length > 0;
  // Steps depend on the rate, the batch size (the batch-size study's runs at the same rate) and the
  // configuration (rank, targets): the closest match that has runs.
  const sameLr = methodTask.filter((t) => t.lr !== undefined && Math.abs(t.lr - spec.training.lr) <= 1e-9 * spec.training.lr);
  const sameBatch = (list: Timing[]) => list.filter((t) => t.batch === undefined || t.batch === spec.training.batch_size);
  const sameLrConfig = sameLr.filter((t) => configKey !== undefined && t.config === configKey);
  const taken = early ? firstMedian([sameBatch(sameLrConfig), sameBatch(sameLr), sameLr, sameBatch(methodTask), methodTask, task], (t) => t.steps) : null;
  const steps = Math.min(spec.training.steps, taken ?? spec.training.steps);
  // A method measured never to train (the frozen base) costs its evaluation alone, whatever its steps say.
  const trainsNothing = method.length > 0 && method.every((t) => t.trainSeconds === 0);
  if (rowTokens !== null && tokensPerS !== null && evalSeconds !== null) {
    const train = steps > 0 && !trainsNothing ? (steps * spec.training.batch_size * rowTokens) / tokensPerS : 0;
    return train + evalSeconds + setupSeconds;
  }
  const candidates = [model.filter((t) => t.method === spec.method.id && t.task === spec.task.id), task, method, model];
  const chosen = candidates.find((list) => list.length > 0)!;
  // Training time scales with steps; about a fifth of a typical run is fixed cost (load, eval).
  const scaled = chosen.map((t) => t.seconds * (0.2 + 0.8 * (t.steps > 0 ? steps / t.steps : 1)));
  return scaled.reduce((a, b) => a + b, 0) / scaled.length;
}

export interface GridEstimate {
  /** Sum of per-run estimates (one core's worth of work). */
  totalSeconds: number;
  /** Wall time on `workers` parallel workers. */
  wallSeconds: number;
  /** Runs with no measurement to go by (estimated with the mean of the others). */
  unmeasured: number;
}

export function estimateGrid(runs: ResolvedRun[], timings: Timing[], workers: number): GridEstimate | null {
  const perRun = runs.map((run) => estimateRunSeconds(run, timings));
  const known = perRun.filter((s): s is number => s !== null);
  if (known.length === 0) return runs.length === 0 ? { totalSeconds: 0, wallSeconds: 0, unmeasured: 0 } : null;
  const mean = known.reduce((a, b) => a + b, 0) / known.length;
  const totalSeconds = perRun.reduce<number>((sum, s) => sum + (s ?? mean), 0);
  return { totalSeconds, wallSeconds: totalSeconds / Math.max(1, Math.min(workers, runs.length)), unmeasured: perRun.length - known.length };
}

/** Fewer configurations than this measured on both CPUs and the machine factor is not applied. */
const MIN_CPU_CONFIGURATIONS = 3;

export interface CpuPace {
  cpu: string;
  /** Median over the configurations measured on both: fastest tokens/s elsewhere over fastest on `cpu`. */
  slower: number;
  /** Configurations (model, protocol, method, rank, task) with records on `cpu` and on another CPU. */
  configurations: number;
}

/**
 * How much slower `cpu` trains than the CPUs the other records were made on, from the configurations
 * measured on both. Null when no configuration was measured on both.
 */
export function cpuPace(timings: readonly Timing[], cpu: string): CpuPace | null {
  const here = new Map<string, number>();
  const elsewhere = new Map<string, number>();
  for (const t of timings) {
    if (!(t.tokensPerS! > 0) || !(t.trainSeconds! > 0) || t.cpu === undefined) continue;
    const key = [t.model, t.protocol ?? LEGACY_PROTOCOL, t.method, t.rank ?? '', t.task].join('|');
    const into = t.cpu === cpu ? here : elsewhere;
    into.set(key, Math.max(into.get(key) ?? 0, t.tokensPerS!));
  }
  const ratios = [...here].filter(([key]) => elsewhere.has(key)).map(([key, pace]) => elsewhere.get(key)! / pace);
  const slower = median(ratios);
  return slower === null ? null : { cpu, slower, configurations: ratios.length };
}

/** The timings at `cpu`'s pace (onCpu) where enough configurations were measured on it and elsewhere, else as they are. */
export function atCpuPace(timings: Timing[], cpu: string): { timings: Timing[]; pace: CpuPace | null } {
  const pace = cpuPace(timings, cpu);
  return pace !== null && pace.configurations >= MIN_CPU_CONFIGURATIONS ? { timings: onCpu(timings, pace), pace } : { timings, pace: null };
}

/**
 * The timings as if measured on `pace.cpu`: those made elsewhere (or on an unstated CPU) take `slower`
 * times as long. The estimate takes the median pace measured over every CPU's records, so without this a
 * run on a slower CPU would be estimated partly at a faster CPU's pace, and one on the fastest CPU gets its own records' pace
 * (scaling the finished estimate instead would count this CPU's speed twice).
 */
export function onCpu(timings: readonly Timing[], pace: CpuPace): Timing[] {
  const k = pace.slower;
  const scale = (v: number | undefined) => (v === undefined ? undefined : v * k);
  return timings.map((t) =>
    t.cpu === pace.cpu
      ? t
      : {
          ...t,
          seconds: t.seconds * k,
          trainSeconds: scale(t.trainSeconds),
          evalSeconds: scale(t.evalSeconds),
          setupSeconds: scale(t.setupSeconds),
          tokensPerS: t.tokensPerS === undefined ? undefined : t.tokensPerS / k,
        },
  );
}

/**
 * How long the finished runs of a running grid took against their estimates (this machine may be slower
 * or busier than the one the records came from); null when none had an estimate.
 */
export function paceRatio(finished: readonly { seconds: number; estimated: number | null }[]): number | null {
  let taken = 0;
  let estimated = 0;
  for (const run of finished) {
    if (run.estimated === null || !(run.estimated > 0)) continue;
    taken += run.seconds;
    estimated += run.estimated;
  }
  return estimated > 0 ? taken / estimated : null;
}

/**
 * Wall seconds left in a running grid: the estimates of the runs not yet finished, scaled by the
 * finished runs' pace ratio, shared by the workers. Runs differ twentyfold in cost (a 3,000-step DoRA
 * run against a frozen model's evaluation), so the pace of the first few runs alone misleads. Null when
 * no finished run had an estimate.
 */
export function remainingWallSeconds(leftEstimate: number, finished: readonly { seconds: number; estimated: number | null }[], workers: number): number | null {
  const ratio = paceRatio(finished);
  return ratio === null ? null : (leftEstimate * ratio) / Math.max(1, workers);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}
