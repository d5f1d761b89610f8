// A study is one question the benchmark answers, in one folder (packages/results/studies/<id>/):
//   grid.yaml  the experiment blocks it needs, by grid name (the grids with `studies: true` take them);
//              or, instead, `grid` in its definition naming a grid file of packages/bench/grids/ that
//              holds its runs
//   index.ts   defineStudy({...}): its section of the report and the site's Questions page (tables
//              built from the aggregate), and where the site charts it.
// The registry (index.ts beside this file) lists the folders; a test checks that it lists every one.
import { groupCandidate, type Aggregated, type ConfigGroup, type SeedStats, type TaskInfo } from '../src/aggregate/aggregate.ts';
import { canonicalJson } from '../src/aggregate/stats.ts';
import type { Direction } from '../src/aggregate/metrics.ts';
import { declaredLr, defaultLr, defaultScopeIds, methodInfo } from '../src/methods.ts';
import { LEGACY_PROTOCOL } from '../src/record/schema.ts';
import { selectOnValid } from '../src/stats/selection.ts';

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
  /**
   * The grid file (packages/bench/grids/<name>.yaml) that holds this study's runs, and the experiment
   * blocks of it that do (all of them when none are named), for a study whose runs are defined there
   * rather than in a grid.yaml of its own.
   */
  grid?: { name: string; experiments?: string[] };
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

/** What groupCell's divergence wording means, for a note under a table that uses it. */
export const DIVERGED_NOTE = '"diverged (k of n)": every run of that configuration diverged, so it has no score; "k diverged" beside a score: the score is the mean of the runs that did not.';

/** A configuration's cell that also says how its runs diverged: "diverged (3 of 3)" where every one did, "0.440 (1), 2 diverged" beside a score. */
export function groupCell(g: ConfigGroup | undefined): string {
  if (!g || g.counts.diverged === 0) return cell(g?.stats);
  return g.stats.mean === null ? `diverged (${g.counts.diverged} of ${g.counts.total})` : `${cell(g.stats)}, ${g.counts.diverged} diverged`;
}

/** One protocol on one base model (the ids of an aggregate's scope). */
export interface ScopeIds {
  protocol: string;
  model: string;
}

/** Another scope's aggregate, or null when the records hold none of it: supplied by whoever builds the context. */
export type AggregateOf = (scope: ScopeIds) => Aggregated | null;

/** What every study's tables are built from: the aggregate and lookups into it. */
export interface StudyContext {
  agg: Aggregated;
  /** The aggregate of another scope (a study comparing two base models reads both). */
  aggregateOf: AggregateOf;
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

/** Without a lookup, a context knows only its own scope. */
const onlyOwnScope = (agg: Aggregated): AggregateOf => (s) => (agg.scope && agg.scope.protocol === s.protocol && agg.scope.model === s.model ? agg : null);

export function studyContext(agg: Aggregated, ownMethods: ReadonlySet<string>, aggregateOf: AggregateOf = onlyOwnScope(agg)): StudyContext {
  const groupsOf = (method: string, task: string) => agg.groups.filter((g) => g.method === method && g.task === task);
  const atDefaultLr = (gs: ConfigGroup[]) => {
    const bySeeds = [...gs].sort((a, b) => b.stats.n - a.stats.n);
    return bySeeds.find((g) => {
      const lr = defaultLr(String(g.config.model ?? 'naive').split('@')[0]!, g.method, agg.scope?.protocol ?? LEGACY_PROTOCOL);
      return Math.abs(g.lr - lr) <= 1e-6 * lr;
    }) ?? bySeeds[0];
  };
  return {
    agg,
    aggregateOf,
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

/**
 * A configuration a study asks for: a method at a rank (its rank hyperparameter; the default rank when
 * none is given) with the hyperparameters in `set`, every other hyperparameter at its default.
 */
export interface StudyConfig {
  label: string;
  method: string;
  rank?: number;
  set?: Record<string, unknown>;
}

/** The protocol a study reads another scope under: the aggregate's, else the bench's default. */
export const scopeProtocol = (agg: Aggregated): string => agg.scope?.protocol ?? defaultScopeIds().protocol;

/**
 * The configurations of `agg` on `task` that are `want`, at any learning rate and training settings
 * (post-hoc configurations left out). A method no longer registered is matched by method and rank only.
 */
export function groupsAt(agg: Aggregated, want: StudyConfig, task: string): ConfigGroup[] {
  const info = methodInfo(want.method);
  return agg.groups.filter((g) => {
    if (g.method !== want.method || g.task !== task || g.derived) return false;
    if (want.rank !== undefined && g.rank !== want.rank) return false;
    return (info?.hyperparameters ?? []).every((h) => {
      if (want.rank !== undefined && h.name === info!.rankParam) return true;
      const expected = want.set && h.name in want.set ? want.set[h.name] : h.default;
      return canonicalJson(g.config[h.name] ?? null) === canonicalJson(expected ?? null);
    });
  });
}

/**
 * A group's learning rate as a multiple of its method's rate for its model and the scope's protocol:
 * the default (methods.ts defaultLr: the rate chosen on valid where there is one, what a run without a
 * factor gets), or the declared one (declaredLr: what a grid's `lr_factors` multiply).
 */
export function lrFactorOf(agg: Aggregated, g: ConfigGroup, of: 'default' | 'declared' = 'default'): number {
  return g.lr / (of === 'default' ? defaultLr : declaredLr)(String(g.config.model ?? '').split('@')[0]!, g.method, scopeProtocol(agg));
}

/** Groups at a multiple of their method's rate; a configuration that trains nothing (the frozen base) has no rate to hold and is at every one. */
export const atLrFactor = (agg: Aggregated, factor: number, of: 'default' | 'declared' = 'default') => (g: ConfigGroup) =>
  g.params.trainable === 0 || Math.abs(lrFactorOf(agg, g, of) - factor) <= 1e-6 * factor;

/** The training settings a configuration's group records (the configuration key's training fields). */
export const TRAINING_FIELDS = ['steps', 'batch_size', 'micro_batch_size', 'schedule', 'warmup_steps', 'weight_decay', 'grad_clip', 'max_seq_len'] as const;

/**
 * Whether a group trains with the scope's usual settings: each training field at the value most of the
 * scope's runs use (a study that changes the batch or the steps is then told apart from the rest).
 */
export function typicalTraining(agg: Aggregated): (g: ConfigGroup) => boolean {
  const modal = new Map<string, string>();
  for (const field of TRAINING_FIELDS) {
    const votes = new Map<string, number>();
    for (const g of agg.groups) votes.set(canonicalJson(g.config[field] ?? null), (votes.get(canonicalJson(g.config[field] ?? null)) ?? 0) + g.counts.total);
    const top = [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))[0];
    if (top) modal.set(field, top[0]);
  }
  return (g) => TRAINING_FIELDS.every((f) => !modal.has(f) || canonicalJson(g.config[f] ?? null) === modal.get(f));
}

/**
 * One of several groups of one configuration (records with other task knobs, say): the best on valid,
 * as the rest of the report chooses; where none has a validation score (every run diverged), the one
 * with the most runs, so its runs are still counted.
 */
export function chooseGroup(groups: readonly ConfigGroup[], direction: Direction): ConfigGroup | undefined {
  const chosen = selectOnValid(groups.map(groupCandidate), direction);
  return chosen?.chosen.item ?? [...groups].sort((a, b) => b.counts.total - a.counts.total)[0];
}

/** The tasks of several aggregates, each once, in the order of the first that has it. */
export function tasksOf(...aggs: (Aggregated | null)[]): TaskInfo[] {
  const out = new Map<string, TaskInfo>();
  for (const a of aggs) for (const t of a?.tasks ?? []) if (!out.has(t.id)) out.set(t.id, t);
  return [...out.values()];
}

/** "x4 (0.02)": a learning-rate factor and the rate. */
export const lrLabel = (factor: number, lr?: number) => `x${Number(factor.toPrecision(3))}${lr === undefined ? '' : ` (${Number(lr.toPrecision(3))})`}`;
