// Each method's default learning rate under a protocol, chosen on the validation split from a
// learning-rate search (packages/bench/grids/leaderboard-lr.yaml: x0.25, x1 and x4 of the declared
// rate at one rank, seed 0). Per task the factors are ranked by the primary metric on valid (a
// diverged or failed run ranks last); the factor with the best mean rank over the tasks is chosen,
// ties going to the factor nearest x1. The test split is never read. One rule for both readers:
// `pnpm bench choose-lr` builds the trials from the grid's planned runs, the site from the records
// alone (lrChoicesFromRecords).
import type { RunRecord } from '../record/schema.ts';
import { declaredLr, equivalentVersions, lrSearchPlan, methodInfo, type LrSearchPlan } from '../methods.ts';
import { protocolOf } from './aggregate.ts';
import { canonicalJson } from './stats.ts';

/** One search run: its factor of the declared rate and, when finished, its validation score. */
export interface LrTrial {
  method: string;
  task: string;
  factor: number;
  lr: number;
  /** The primary metric on valid; -Infinity for a diverged or failed run; null when not run yet. */
  valid: number | null;
  status: string;
}

export interface LrChoice {
  method: string;
  /** `<protocol>/<model>`. */
  scope: string;
  factors: number[];
  tasks: string[];
  /** task -> factor -> valid score (null: not finished; -Infinity: diverged). */
  valid: Record<string, Record<string, number | null>>;
  finished: number;
  planned: number;
  /** factor -> mean rank over tasks (1 = best); only when every run finished. */
  meanRank: Record<string, number> | null;
  chosen: { factor: number; lr: number } | null;
}

/** Average ranks (1 = best, ties share) of `scores`, higher is better. */
export function ranks(scores: number[]): number[] {
  return scores.map((s) => {
    const better = scores.filter((x) => x > s).length;
    const equal = scores.filter((x) => x === s).length;
    return better + (equal + 1) / 2;
  });
}

/** The method's choice from its trials (all tasks x factors of the search). */
export function chooseFactor(method: string, scope: string, trials: LrTrial[], lrOf: (factor: number) => number): LrChoice {
  const factors = [...new Set(trials.map((t) => t.factor))].sort((a, b) => a - b);
  const tasks = [...new Set(trials.map((t) => t.task))].sort();
  const valid: LrChoice['valid'] = {};
  for (const t of trials) (valid[t.task] ??= {})[String(t.factor)] = t.valid;
  const finished = trials.filter((t) => t.valid !== null).length;
  const choice: LrChoice = { method, scope, factors, tasks, valid, finished, planned: trials.length, meanRank: null, chosen: null };
  if (finished < trials.length || factors.length < 2) return choice;
  const sum = new Map<number, number>(factors.map((f) => [f, 0]));
  for (const task of tasks) {
    const scores = factors.map((f) => valid[task]![String(f)]!);
    ranks(scores).forEach((r, i) => sum.set(factors[i]!, sum.get(factors[i]!)! + r));
  }
  choice.meanRank = Object.fromEntries(factors.map((f) => [String(f), sum.get(f)! / tasks.length]));
  const best = [...factors].sort((a, b) => sum.get(a)! - sum.get(b)! || Math.abs(Math.log(a)) - Math.abs(Math.log(b)) || a - b)[0]!;
  choice.chosen = { factor: best, lr: lrOf(best) };
  return choice;
}

/** What a finished search run counts as: its primary metric on valid, -Infinity when it diverged or failed. */
export function trialScore(record: RunRecord): number {
  if (record.status !== 'ok') return Number.NEGATIVE_INFINITY;
  const value = record.metrics.valid[record.task.primary_metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : Number.NEGATIVE_INFINITY;
}

/** A record's learning rate as a multiple of its method's declared rate (4 significant digits, as grids state factors). */
export function lrFactorOf(record: RunRecord): number {
  return Number((record.training.lr / declaredLr(record.model.id, record.method.id, protocolOf(record))).toPrecision(4));
}

/** Whether the record's method config is the method's defaults, its rank aside. */
function defaultConfig(record: RunRecord): boolean {
  const info = methodInfo(record.method.id);
  if (!info) return false;
  return info.hyperparameters.every((h) => h.name === info.rankParam || canonicalJson(record.method.config[h.name] ?? null) === canonicalJson(h.default ?? null));
}

/** Training settings but the learning rate, and the task's knobs: what a study that changes them differs in. */
const settingsKey = (r: RunRecord) => canonicalJson({ training: { ...r.training, lr: null }, task: r.task.config });

/**
 * The search's choices from the records alone, for readers that cannot resolve grids (the site).
 * A method's search trials are its records in the plan's scope (protocol and model, and `modelHash`
 * when given) at the plan's seeds, tasks and the method's search rank, with its default config and
 * the settings most of the scope's runs of that task use, at a planned factor of its declared rate,
 * under the method's current code version (that of its latest run); of a spec recorded twice the
 * latest finished counts. Every
 * method of the plan gets a choice, its unrun trials null; none when `scope` is not the plan's.
 */
export function lrChoicesFromRecords(
  records: readonly RunRecord[],
  scope: { protocol: string; model: string; modelHash?: string },
  plan: LrSearchPlan | null = lrSearchPlan(),
): LrChoice[] {
  if (!plan || scope.protocol !== plan.protocol || scope.model !== plan.model) return [];
  const inScope = records.filter((r) => protocolOf(r) === plan.protocol && r.model.id === plan.model && (scope.modelHash === undefined || r.model.hash === scope.modelHash));
  // The usual settings of each task: those most of the scope's runs of it use.
  const votes = new Map<string, Map<string, number>>();
  for (const r of inScope) {
    const byKey = votes.get(r.task.id) ?? votes.set(r.task.id, new Map()).get(r.task.id)!;
    byKey.set(settingsKey(r), (byKey.get(settingsKey(r)) ?? 0) + 1);
  }
  const usual = new Map([...votes].map(([task, byKey]) => [task, [...byKey].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0]]));
  // Each method's current code version: that of its latest finished run. A run of an older one is
  // another spec (the grid runs it again) unless checked equivalent, as the command, which looks up the
  // current spec's run id and its equivalent ids, sees it.
  const latest = new Map<string, RunRecord>();
  for (const r of inScope) {
    const kept = latest.get(r.method.id);
    if (!kept || r.provenance.finished_at > kept.provenance.finished_at) latest.set(r.method.id, r);
  }
  // A record made under a version checked equivalent to the current one (methods.json code_equivalence) counts.
  const accepted = new Map([...latest].map(([method, r]) => [method, new Set([r.code_version, ...equivalentVersions(method, r.code_version)])]));
  const sameCode = (method: string, version: string): boolean => accepted.get(method)!.has(version);
  const found = new Map<string, RunRecord>();
  for (const r of inScope) {
    const rank = plan.ranks[r.method.id];
    if (rank === undefined || r.method.rank !== rank || !plan.seeds.includes(r.seed) || !plan.tasks.includes(r.task.id)) continue;
    if (!sameCode(r.method.id, r.code_version)) continue;
    const factor = lrFactorOf(r);
    if (!plan.factors.includes(factor) || !defaultConfig(r) || settingsKey(r) !== usual.get(r.task.id)) continue;
    const key = `${r.method.id}\0${r.task.id}\0${r.seed}\0${factor}`;
    const kept = found.get(key);
    if (!kept || r.provenance.finished_at > kept.provenance.finished_at) found.set(key, r);
  }
  const scopeName = `${plan.protocol}/${plan.model}`;
  return Object.keys(plan.ranks).sort().map((method) => {
    const lrOf = (factor: number) => Number((declaredLr(plan.model, method, plan.protocol) * factor).toPrecision(6));
    const trials: LrTrial[] = plan.tasks.flatMap((task) => plan.seeds.flatMap((seed) => plan.factors.map((factor) => {
      const r = found.get(`${method}\0${task}\0${seed}\0${factor}`);
      return { method, task, factor, lr: r?.training.lr ?? lrOf(factor), valid: r ? trialScore(r) : null, status: r?.status ?? 'not run' };
    })));
    const byFactor = new Map(trials.map((t) => [t.factor, t.lr]));
    return chooseFactor(method, scopeName, trials, (f) => byFactor.get(f)!);
  });
}
