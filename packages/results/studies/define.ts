// A study is one question the benchmark answers, in one folder (packages/results/studies/<id>/):
//   grid.yaml  the experiment blocks it needs, by grid name (the grids with `studies: true` take them)
//   index.ts   defineStudy({...}): its section of the report and the site's Questions page (tables
//              built from the aggregate), and where the site charts it.
// The registry (index.ts beside this file) lists the folders; a test checks that it lists every one.
import type { Aggregated, ConfigGroup, SeedStats, TaskInfo } from '../src/aggregate/aggregate.ts';
import { defaultLr } from '../src/methods.ts';

export interface FindingsTable {
  title?: string;
  headers: string[];
  rows: string[][];
  note?: string;
}

export interface StudyChart {
  /** Site page (relative path without extension) and fragment where the study is charted. */
  page: string;
  anchor: string;
  label: string;
  /** A sentence under the chart's heading on that page. */
  caption?: string;
}

export interface Study {
  /** The folder name; the anchor of its section. */
  id: string;
  /** Its place in the report (the question's number). */
  order: number;
  title: string;
  intro?: string;
  /** Said instead of tables when no run answers the question yet. */
  empty: string;
  /** Methods that belong to this study only (left out of the general rank tables), by role. */
  methods?: Record<string, string>;
  chart?: StudyChart;
  tables(ctx: StudyContext): FindingsTable[];
}

export function defineStudy(study: Study): Study {
  if (!/^[a-z][a-z0-9-]*$/.test(study.id)) throw new Error(`defineStudy('${study.id}'): id must be lowercase letters, digits and '-'`);
  if (!study.title.trim() || !study.empty.trim()) throw new Error(`defineStudy('${study.id}'): title and empty are required`);
  return study;
}

export const num = (v: number | null, digits = 3) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
export const int = (v: number) => v.toLocaleString('en-US');

/** "0.095 ± 0.012 (3)": mean ± sample std over seeds (seeds). */
export function cell(stats: Pick<SeedStats, 'n' | 'mean' | 'std'> | null | undefined): string {
  if (!stats || stats.mean === null) return '—';
  return stats.n > 1 ? `${num(stats.mean)} ± ${num(stats.std)} (${stats.n})` : `${num(stats.mean)} (1)`;
}

/** What every study's tables are built from: the aggregate and lookups into it. */
export interface StudyContext {
  agg: Aggregated;
  tasks: TaskInfo[];
  /** Methods some study claims for itself (its `methods`): left out of the general tables. */
  ownMethods: ReadonlySet<string>;
  groupsOf(method: string, task: string): ConfigGroup[];
  /** The group at a rank on a rank-curve series (the method's main configuration unless a series is named). */
  rankGroup(method: string, task: string, rank: number, series?: string): ConfigGroup | undefined;
  /** A method's configuration at its default learning rate, else (records made with other defaults) the one with the most seeds. */
  atDefaultLr(groups: ConfigGroup[]): ConfigGroup | undefined;
  /** The cell of a method without a rank on a task (its default-lr configuration). */
  ref(method: string, task: string): string;
  /** Trainable parameters of the first configuration of a method that matches. */
  trainable(method: string, pick?: (g: ConfigGroup) => boolean): string;
  taskHead(t: TaskInfo): string;
}

export function studyContext(agg: Aggregated, ownMethods: ReadonlySet<string>): StudyContext {
  const groupsOf = (method: string, task: string) => agg.groups.filter((g) => g.method === method && g.task === task);
  const atDefaultLr = (gs: ConfigGroup[]) => {
    const bySeeds = [...gs].sort((a, b) => b.stats.n - a.stats.n);
    return bySeeds.find((g) => {
      const lr = defaultLr(String(g.config.model ?? 'naive').split('@')[0]!, g.method, agg.scope?.protocol);
      return Math.abs(g.lr - lr) <= 1e-6 * lr;
    }) ?? bySeeds[0];
  };
  return {
    agg,
    tasks: agg.tasks,
    ownMethods,
    groupsOf,
    rankGroup(method, task, rank, series = method) {
      const p = agg.rankCurves.find((x) => x.series === series && x.task === task && x.rank === rank);
      return p && agg.groups.find((g) => g.method === method && g.task === task && g.configKey === p.configKey);
    },
    atDefaultLr,
    ref: (method, task) => cell(atDefaultLr(groupsOf(method, task))?.stats),
    trainable(method, pick = () => true) {
      const g = agg.groups.find((x) => x.method === method && pick(x));
      return g ? int(g.params.trainable) : '—';
    },
    taskHead: (t) => `${t.id} (${t.primaryMetric})`,
  };
}
