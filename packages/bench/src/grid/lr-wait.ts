// Runs that wait for a learning rate to be chosen. A grid that names an `lr_search` grid runs a method
// at its default rate only once `pnpm bench choose-lr --write` has chosen that rate from the search's
// runs: made before, at the declared rate, such a run would be made again at the chosen one (the rate
// is part of its id). Never waiting: the search's own runs, runs at an explicit rate or at a factor
// (factors multiply the declared rate), and methods the search does not tune (the frozen base).
import { LEGACY_PROTOCOL } from '@peft-bench/results/record/schema';
import type { ChosenLrFile } from '../run/defaults.ts';
import type { ResolvedRun } from '../run/resolve.ts';
import type { RunRequest } from './grid.ts';

const scopeOf = (run: ResolvedRun) => `${run.spec.protocol ?? LEGACY_PROTOCOL}/${run.spec.model.id}`;

/** `runs[i]` is `requests[i]` resolved. */
export function waitingForLr(
  runs: readonly ResolvedRun[],
  requests: readonly RunRequest[],
  searchRuns: readonly ResolvedRun[],
  chosen: ChosenLrFile['chosen'],
): { waiting: ResolvedRun[]; methods: string[] } {
  const searchIds = new Set(searchRuns.map((run) => run.runId));
  const tuned = new Set(searchRuns.map((run) => `${scopeOf(run)}|${run.spec.method.id}`));
  const waiting = runs.filter((run, i) => {
    const request = requests[i]!;
    if (request.lr !== null || (request.lrFactor ?? 1) !== 1 || searchIds.has(run.runId)) return false;
    const scope = scopeOf(run);
    return tuned.has(`${scope}|${run.spec.method.id}`) && chosen[scope]?.[run.spec.method.id] === undefined;
  });
  return { waiting, methods: [...new Set(waiting.map((run) => run.spec.method.id))].sort() };
}
