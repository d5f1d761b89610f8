// Leaderboard rows: one per method, one cell per task holding the configurations that are chosen under some
// trainable-parameter budget, so the page can re-pick under a budget. The choice is made on the validation
// split (never on test) and the cell reports the test score, as `pnpm bench report` does. Post-hoc (derived)
// configurations are left out: they live in their studies.
import { groupCandidate, isLeaderboardCandidate, type Aggregated, type ConfigGroup, type TaskInfo } from '@peft-bench/results/aggregate/index';
import { paretoCandidates, type BoardRow, type BoardTask, type Cand } from './board.ts';
import { compareOnValid } from '@peft-bench/results/stats/selection';

export type { Cand as Candidate };

export function leaderboardRows(agg: Aggregated): BoardRow[] {
  const direction = new Map(agg.tasks.map((t) => [t.id, t.direction]));
  return agg.methods.map((m) => {
    const cells: Record<string, Cand[]> = {};
    const searched: Record<string, number[]> = {};
    for (const task of agg.tasks) {
      const lower = direction.get(task.id) === 'lower';
      const groups = agg.groups.filter((g) => g.method === m.id && g.task === task.id && g.stats.mean !== null && isLeaderboardCandidate(g) && g.validStats.mean !== null);
      const all = groups
        .map(groupCandidate)
        // chosen first, in the report's order (selectOnValid): the most seeds, then best on valid, ties to the smaller key
        .sort(compareOnValid(lower ? 'lower' : 'higher'))
        .map((x) => candidate(x.item));
      cells[task.id] = paretoCandidates(all);
      searched[task.id] = groups.map((g) => g.params.trainable);
    }
    const mt = agg.methodTask.filter((x) => x.method === m.id);
    const defaults: Record<string, Cand | null> = {};
    for (const task of agg.tasks) {
      const d = agg.defaults.find((x) => x.method === m.id && x.task === task.id);
      const g = d && agg.groups.find((x) => x.method === m.id && x.task === task.id && x.configKey === d.configKey);
      defaults[task.id] = g ? candidate(g) : null;
    }
    return {
      method: m.id, family: m.family, ref: m.isBaseline, title: m.title ?? m.id, cells, searched, defaults,
      ok: mt.reduce((s, x) => s + x.ok, 0), runs: mt.reduce((s, x) => s + x.runs, 0),
    };
  });
}

/** A configuration as a cell shows it: its test mean, spread and 95% interval (and which kind of interval). */
function candidate(g: ConfigGroup): Cand {
  const mean = g.stats.mean as number;
  return {
    l: g.configLabel, p: g.params.trainable, m: mean, s: g.stats.std ?? 0, n: g.stats.n,
    lo: g.ci95?.[0] ?? mean, hi: g.ci95?.[1] ?? mean, b: g.intervalKind === 'paired-bootstrap' ? 1 : 0,
  };
}

export function boardTasks(agg: Aggregated): BoardTask[] {
  const { simple, reasoning } = tasksByFamily(agg.tasks);
  return [...simple, ...reasoning].map((t) => ({ id: t.id, family: t.family, direction: t.direction }));
}

/** Budget choices: powers of ten between the smallest and largest non-zero trainable counts. */
export function budgetChoices(agg: Aggregated): number[] {
  const counts = agg.groups.map((g) => g.params.trainable).filter((p) => p > 0);
  if (counts.length === 0) return [];
  const lo = Math.ceil(Math.log10(Math.min(...counts)));
  const hi = Math.ceil(Math.log10(Math.max(...counts)));
  const out: number[] = [];
  for (let k = lo; k < hi; k++) out.push(10 ** k);
  return out;
}

export function tasksByFamily(tasks: TaskInfo[]): { simple: TaskInfo[]; reasoning: TaskInfo[] } {
  return { simple: tasks.filter((t) => t.family === 'simple'), reasoning: tasks.filter((t) => t.family === 'reasoning') };
}
