// Wall-time estimates for a grid from measured per-run times: finished records of the same model
// (same method and task where there are some), scaled by step count; during a grid the pool's own
// measurements replace them.
import type { RunRecord } from '@peft-bench/results/record/schema';
import type { ResolvedRun } from '../run/resolve.ts';

export interface Timing {
  model: string;
  method: string;
  task: string;
  steps: number;
  seconds: number;
}

export function timingOf(record: RunRecord): Timing | null {
  if (record.status === 'failed') return null;
  const seconds = record.cost.train_seconds + record.cost.eval_seconds;
  if (!(seconds > 0)) return null;
  return { model: record.model.id, method: record.method.id, task: record.task.id, steps: record.training.steps, seconds };
}

/** Seconds for one run: the mean of the closest matching measurements, scaled by steps (+ a fixed share for eval). */
export function estimateRunSeconds(run: ResolvedRun, timings: Timing[]): number | null {
  const model = timings.filter((t) => t.model === run.spec.model.id);
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
