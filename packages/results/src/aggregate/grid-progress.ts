// How much of a grid is recorded: its runs are named by run key (the run id without the code version,
// record/verify.ts runKeyOf), so a run recorded under an earlier code version counts once, and a failed run
// does not count (the grid runs it again).
import type { RunSummary } from './aggregate.ts';

export function recordedGridRuns(runs: readonly Pick<RunSummary, 'runKey' | 'status'>[], runKeys: readonly string[]): number {
  const wanted = new Set(runKeys);
  return new Set(runs.filter((r) => r.status !== 'failed' && wanted.has(r.runKey)).map((r) => r.runKey)).size;
}
