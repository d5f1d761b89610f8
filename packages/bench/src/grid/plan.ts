// Which runs are already finished, so a grid (or a shard of it, or a single run) does only new work.
// Finished = a verified record (record/verify.ts) in the output directory or in a --finished-in
// directory that counts as finished (record/store.ts countsAsFinished: ok; diverged on the backend
// that would run it again; never failed). A run whose kept adapter an unfinished run needs is only
// finished if the adapter is there too.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { countsAsFinished, readVerified } from '@peft-bench/results/record/store';
import type { RunRecord } from '@peft-bench/results/record/schema';

export interface PlannedRun {
  runId: string;
  dependsOn: string[];
  /** Ids of the same run under code versions declared equivalent; a verified record under one counts. */
  equivalentIds?: string[];
}

export interface FinishedQuery {
  /** Directories holding finished records: the output directory first, then any --finished-in. */
  dirs: string[];
  /** Where kept adapters live (`<adapterRoot>/<run_id>/`). */
  adapterRoot: string;
  /** The backend a rerun would use; called only when a diverged record has to be judged. */
  backend: () => Promise<string>;
}

/** The verified record for a run id in the first directory that has one, or null. */
export function findRecord(dirs: readonly string[], runId: string): RunRecord | null {
  for (const dir of dirs) {
    const record = readVerified(dir, runId);
    if (record) return record;
  }
  return null;
}

/** The ids of the runs that need not run again. */
export async function finishedRuns(runs: readonly PlannedRun[], query: FinishedQuery): Promise<Set<string>> {
  let backend: string | null = null;
  const finished = new Set<string>();
  for (const run of runs) {
    const record = [run.runId, ...(run.equivalentIds ?? [])].map((id) => findRecord(query.dirs, id)).find((r) => r !== null) ?? null;
    if (!record) continue;
    if (record.status === 'diverged') backend ??= await query.backend();
    if (countsAsFinished(record, backend)) finished.add(run.runId);
  }
  // Adapters: a finished run whose adapter is missing must rerun if an unfinished run reads it; that
  // rerun may in turn need its own dependencies' adapters, hence the loop.
  const byId = new Map(runs.map((run) => [run.runId, run]));
  for (;;) {
    const needed = new Set(runs.filter((run) => !finished.has(run.runId)).flatMap((run) => run.dependsOn));
    const missing = [...needed].filter((id) => finished.has(id) && byId.has(id) && !existsSync(path.join(query.adapterRoot, id)));
    if (missing.length === 0) return finished;
    for (const id of missing) finished.delete(id);
  }
}

/**
 * The backend a run would use: the one asked for (flag or PEFT_BENCH_BACKEND), else the one `auto`
 * picks here (this initialises it, so it is only asked when a diverged record must be judged).
 */
export async function plannedBackend(requested: string | undefined): Promise<string> {
  const name = requested ?? process.env.PEFT_BENCH_BACKEND;
  if (name && name !== 'auto') return name;
  const { initBackend } = await import('@peft-bench/core/backend/index');
  return (await initBackend({ backend: 'auto', threads: 1 })).name;
}

/** A single run's finished record in `dir`, or null (a failed run, or one diverged on another backend, is not finished). */
export async function finishedRecord(dir: string, runId: string, requestedBackend: string | undefined, equivalentIds: readonly string[] = []): Promise<RunRecord | null> {
  const record = [runId, ...equivalentIds].map((id) => readVerified(dir, id)).find((r) => r !== null) ?? null;
  if (!record) return null;
  const backend = record.status === 'diverged' ? await plannedBackend(requestedBackend) : null;
  return countsAsFinished(record, backend) ? record : null;
}
