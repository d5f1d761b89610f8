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

/** The requests at a method's default rate (no rate, no factor): the only ones a choice changes. */
export function defaultRateRequests<R extends Pick<RunRequest, 'lr' | 'lrFactor'>>(requests: readonly R[]): R[] {
  return requests.filter((request) => request.lr === null && request.lrFactor === null);
}

/**
 * Of `runs`, those that wait: among `defaultRateRuns` (the default-rate requests resolved), the runs of
 * methods the search tunes in their scope, whose rate is not chosen there, that are not search runs.
 */
export function waitingForLr(
  runs: readonly ResolvedRun[],
  defaultRateRuns: readonly ResolvedRun[],
  searchRuns: readonly ResolvedRun[],
  chosen: ChosenLrFile['chosen'],
): { waiting: ResolvedRun[]; methods: string[] } {
  const searchIds = new Set(searchRuns.map((run) => run.runId));
  const tuned = new Set(searchRuns.map((run) => `${scopeOf(run)}|${run.spec.method.id}`));
  const waitingIds = new Set(
    defaultRateRuns
      .filter((run) => !searchIds.has(run.runId) && tuned.has(`${scopeOf(run)}|${run.spec.method.id}`) && chosen[scopeOf(run)]?.[run.spec.method.id] === undefined)
      .map((run) => run.runId),
  );
  const waiting = runs.filter((run) => waitingIds.has(run.runId));
  return { waiting, methods: [...new Set(waiting.map((run) => run.spec.method.id))].sort() };
}
