// Leaderboard rows: one per method, one cell per task holding every configuration that has an ok run,
// best first, so the page can re-pick the best configuration under a trainable-parameter budget.
import type { Aggregated, TaskInfo } from '@peft-bench/bench/aggregate/index';

export interface Candidate {
  /** config label */
  l: string;
  /** trainable parameters */
  p: number;
  m: number;
  s: number;
  n: number;
}

export interface LeaderboardRow {
  method: string;
  family: string;
  isBaseline: boolean;
  title: string | null;
  cells: Record<string, Candidate[]>;
  ok: number;
  runs: number;
}

export function leaderboardRows(agg: Aggregated): LeaderboardRow[] {
  const direction = new Map(agg.tasks.map((t) => [t.id, t.direction]));
  return agg.methods.map((m) => {
    const cells: Record<string, Candidate[]> = {};
    for (const task of agg.tasks) {
      const dir = direction.get(task.id);
      cells[task.id] = agg.groups
        .filter((g) => g.method === m.id && g.task === task.id && g.stats.mean !== null)
        .map((g) => ({ l: g.configLabel, p: g.params.trainable, m: g.stats.mean as number, s: g.stats.std as number, n: g.stats.n }))
        // best first; ties: fewer parameters first
        .sort((a, b) => (dir === 'lower' ? a.m - b.m : b.m - a.m) || a.p - b.p);
    }
    const mt = agg.methodTask.filter((x) => x.method === m.id);
    return {
      method: m.id, family: m.family, isBaseline: m.isBaseline, title: m.title, cells,
      ok: mt.reduce((s, x) => s + x.ok, 0), runs: mt.reduce((s, x) => s + x.runs, 0),
    };
  });
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
