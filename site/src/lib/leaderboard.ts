// Leaderboard rows: one per method, one cell per task holding the configurations that are best under some
// trainable-parameter budget (best first), so the page can re-pick the best configuration under a budget.
import type { Aggregated, TaskInfo } from '@peft-bench/bench/aggregate/index';
import { paretoCandidates, type BoardRow, type BoardTask, type Cand } from './board.ts';

export type { Cand as Candidate };

export function leaderboardRows(agg: Aggregated): BoardRow[] {
  const direction = new Map(agg.tasks.map((t) => [t.id, t.direction]));
  return agg.methods.map((m) => {
    const cells: Record<string, Cand[]> = {};
    for (const task of agg.tasks) {
      const dir = direction.get(task.id);
      const all = agg.groups
        .filter((g) => g.method === m.id && g.task === task.id && g.stats.mean !== null)
        .map((g) => {
          const mean = g.stats.mean as number;
          const std = g.stats.std ?? 0;
          return { l: g.configLabel, p: g.params.trainable, m: mean, s: std, n: g.stats.n, lo: mean - std, hi: mean + std };
        })
        // best first; ties: fewer parameters first
        .sort((a, b) => (dir === 'lower' ? a.m - b.m : b.m - a.m) || a.p - b.p);
      cells[task.id] = paretoCandidates(all);
    }
    const mt = agg.methodTask.filter((x) => x.method === m.id);
    return {
      method: m.id, family: m.family, ref: m.isBaseline, title: m.title ?? m.id, cells,
      ok: mt.reduce((s, x) => s + x.ok, 0), runs: mt.reduce((s, x) => s + x.runs, 0),
    };
  });
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
