// How good is the grid's wall-time estimate? Each run record started at or after a moment is estimated
// as `--dry-run` would have estimated it then: from the records started before that moment only, at the
// pace of the CPU the run was made on, and compared with the wall time it took (start to finish).
import type { RunRecord } from '@peft-bench/results/record/schema';
import type { ResolvedRun } from '../run/resolve.ts';
import { atCpuPace, estimateRunSeconds, timingOf, type Timing } from './estimate.ts';

export interface CheckedRun {
  runId: string;
  label: string;
  startedAt: string;
  took: number;
  estimated: number;
}

export interface EstimateCheck {
  /** Records made before `since` that the estimates come from. */
  basis: number;
  runs: CheckedRun[];
  /** Runs after the moment that nothing before it could estimate (no record of their model). */
  unestimated: number;
  took: number;
  estimated: number;
  /** Quartiles of took / estimated over the runs. */
  quartiles: [number, number, number] | null;
  /** Runs that took between 1/1.5 and 1.5 times their estimate. */
  within1_5: number;
}

function quantile(sorted: number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** A record's spec as the estimate reads it (the parts it looks at). */
function asRun(record: RunRecord): ResolvedRun {
  const spec = {
    protocol: record.protocol,
    model: { id: record.model.id, hash: record.model.hash },
    method: { id: record.method.id, rank: record.method.rank ?? null, config: record.method.config },
    task: { id: record.task.id, config: record.task.config },
    seed: record.seed,
    training: record.training,
  };
  return { spec, runId: record.run_id } as unknown as ResolvedRun;
}

/** Wall seconds from a record's start to its finish, or null when its times do not say. */
function wallSeconds(record: RunRecord): number | null {
  const seconds = (Date.parse(record.provenance.finished_at) - Date.parse(record.provenance.started_at)) / 1000;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

/** Backtest the estimate on the records started at or after `since` (and before `until`, ISO times), from those started before `since`. */
export function checkEstimates(records: readonly RunRecord[], since: string, filter: (r: RunRecord) => boolean = () => true, until?: string): EstimateCheck {
  const sinceMs = Date.parse(since);
  const untilMs = until === undefined ? Infinity : Date.parse(until);
  const started = (r: RunRecord) => Date.parse(r.provenance.started_at);
  const measured = records.filter((r) => started(r) < sinceMs).map(timingOf).filter((t): t is Timing => t !== null);
  const after = records.filter((r) => started(r) >= sinceMs && started(r) < untilMs && r.status !== 'failed' && filter(r)).sort((a, b) => started(a) - started(b));
  const runs: CheckedRun[] = [];
  let unestimated = 0;
  for (const record of after) {
    const took = wallSeconds(record);
    if (took === null) continue;
    // As the grid does on the machine it runs on: the records at that CPU's pace, where enough configurations say it.
    const estimated = estimateRunSeconds(asRun(record), record.provenance.cpu ? atCpuPace(measured, record.provenance.cpu).timings : measured);
    if (estimated === null) {
      unestimated += 1;
      continue;
    }
    const rank = record.method.rank === null || record.method.rank === undefined ? '' : ` r=${record.method.rank}`;
    runs.push({ runId: record.run_id, label: `${record.method.id}${rank} on ${record.task.id} seed ${record.seed} lr ${record.training.lr}`, startedAt: record.provenance.started_at, took, estimated });
  }
  const ratios = runs.map((r) => r.took / r.estimated).sort((a, b) => a - b);
  return {
    basis: measured.length,
    runs,
    unestimated,
    took: runs.reduce((s, r) => s + r.took, 0),
    estimated: runs.reduce((s, r) => s + r.estimated, 0),
    quartiles: ratios.length > 0 ? [quantile(ratios, 0.25), quantile(ratios, 0.5), quantile(ratios, 0.75)] : null,
    within1_5: ratios.filter((x) => x >= 1 / 1.5 && x <= 1.5).length,
  };
}
