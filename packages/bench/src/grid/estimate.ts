// Wall-time estimates for a grid from measured per-run times: finished records of the same model
// (same method and task where there are some), scaled by step count; during a grid the pool's own
// measurements replace them.
import { LEGACY_PROTOCOL, RENAMED_MODELS, type RunRecord } from '@peft-bench/results/record/schema';
import type { ResolvedRun } from '../run/resolve.ts';

export interface Timing {
  /** The model as records are read (fixed-300 records' `default` is `naive`). */
  model: string;
  protocol?: string;
  method: string;
  task: string;
  steps: number;
  seconds: number;
}

export function timingOf(record: RunRecord): Timing | null {
  if (record.status === 'failed') return null;
  const seconds = record.cost.train_seconds + record.cost.eval_seconds;
  if (!(seconds > 0)) return null;
  return { model: record.model.id, protocol: record.protocol ?? LEGACY_PROTOCOL, method: record.method.id, task: record.task.id, steps: record.training.steps, seconds };
}

/** A run's model and protocol as its record will be read (a fixed-300 spec states no protocol and the old model name). */
function scopeOfRun(run: ResolvedRun): { model: string; protocol: string } {
  const protocol = run.spec.protocol ?? LEGACY_PROTOCOL;
  return { protocol, model: run.spec.protocol === undefined ? (RENAMED_MODELS[run.spec.model.id] ?? run.spec.model.id) : run.spec.model.id };
}

/** Seconds for one run: the mean of the closest matching measurements, scaled by steps (+ a fixed share for eval). */
export function estimateRunSeconds(run: ResolvedRun, timings: Timing[]): number | null {
  // Runs of the same model under the same protocol (a converge run's length is its own), else of the model.
  const scope = scopeOfRun(run);
  const sameModel = timings.filter((t) => t.model === scope.model || t.model === run.spec.model.id);
  const sameProtocol = sameModel.filter((t) => (t.protocol ?? LEGACY_PROTOCOL) === scope.protocol);
  const model = sameProtocol.length > 0 ? sameProtocol : sameModel;
  const candidates = [
    model.filter((t) => t.method === run.spec.method.id && t.task === run.spec.task.id),
    model.filter((t) => t.task === run.spec.task.id),
    model.filter((t) => t.method === run.spec.method.id),
    model,
  ];
  const chosen = candidates.find((list) => list.length > 0);
  if (!chosen) return null;
  // Training time scales with steps; about a fifth of a typical run is fixed cost (load, eval).
  const scaled = chosen.map((t) => t.seconds * (0.2 + 0.8 * (t.steps > 0 ? run.spec.training.steps / t.steps : 1)));
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
