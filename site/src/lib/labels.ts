// Short configuration labels. The aggregate labels a configuration by every field that varies across a method's
// runs, and task settings differ between tasks, so every label carried all of them ("task.calendar=1, ..."). A
// reader compares configurations within one task: a field belongs in the label only if it takes more than one
// value among one method's configurations on the same task. Computed from the data, nothing hard-coded.
import type { Aggregated, ConfigGroup } from '@peft-bench/results/aggregate/index';
import { shortLabels } from '@peft-bench/results/aggregate/index';
import { methodInfo } from '@peft-bench/results/methods';
import { study } from '@peft-bench/results/studies';

const complementMethod = study('complement').methods!.complement;

/** Fields given first in labels, because they are what readers compare. */
const LABEL_ORDER = ['r', 'rank', 'n', 'bottleneck', 'num_virtual_tokens', 'lr'];

/** Per method: the fields that take more than one value among its configurations of one task (any task). */
export function varyingKeys(groups: readonly ConfigGroup[]): Map<string, string[]> {
  const byMethodTask = new Map<string, ConfigGroup[]>();
  for (const g of groups) {
    const k = `${g.method}\u0000${g.task}`;
    byMethodTask.set(k, [...(byMethodTask.get(k) ?? []), g]);
  }
  const out = new Map<string, Set<string>>();
  for (const gs of byMethodTask.values()) {
    const set = out.get(gs[0].method) ?? new Set<string>();
    out.set(gs[0].method, set);
    const keys = new Set(gs.flatMap((g) => Object.keys(g.config)));
    for (const k of keys) {
      const values = new Set(gs.map((g) => (k in g.config ? JSON.stringify(g.config[k]) : '\u0000absent')));
      if (values.size > 1) set.add(k);
    }
  }
  const order = (k: string) => (LABEL_ORDER.includes(k) ? LABEL_ORDER.indexOf(k) : LABEL_ORDER.length);
  return new Map([...out].map(([m, set]) => [m, [...set].sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0))]));
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

/**
 * Rewrites every configuration label in the aggregate (groups, runs, curves, Pareto points, best configs,
 * complement rows, and the methods' varying fields) to the short form, so pages and CSV downloads agree.
 */
export function shortenLabels(agg: Aggregated): Aggregated {
  const varying = varyingKeys(agg.groups);
  const byKey = new Map<string, string>();
  const oldToNew = new Map<string, string>();
  const gk = (method: string, task: string, configKey: string) => `${method}\u0000${task}\u0000${configKey}`;
  for (const gs of groupBy(agg.groups, (g) => gk(g.method, g.task, '')).values()) {
    const labels = shortLabels(gs.map((g) => ({ key: g.configKey, config: g.config, atProtocol: g.atProtocol })), varying.get(gs[0]!.method) ?? []);
    for (const g of gs) {
      const label = labels.get(g.configKey)!;
      byKey.set(gk(g.method, g.task, g.configKey), label);
      oldToNew.set(gk(g.method, g.task, g.configLabel), label);
      g.configLabel = label;
    }
  }
  for (const r of agg.runs) r.configLabel = byKey.get(gk(r.method, r.task, r.configKey)) ?? r.configLabel;
  for (const p of agg.rankCurves) p.configLabel = byKey.get(gk(p.method, p.task, p.configKey)) ?? p.configLabel;
  for (const p of agg.pareto) p.configLabel = byKey.get(gk(p.method, p.task, p.configKey)) ?? p.configLabel;
  for (const m of agg.methodTask) {
    if (m.bestConfigKey !== null) m.bestConfigLabel = byKey.get(gk(m.method, m.task, m.bestConfigKey)) ?? m.bestConfigLabel;
  }
  for (const row of agg.complement) {
    for (const c of row.complement) c.configLabel = oldToNew.get(gk(complementMethod, row.task, c.configLabel)) ?? c.configLabel;
  }
  for (const m of agg.methods) m.varyingFields = varying.get(m.id) ?? [];
  return agg;
}

/**
 * The config field `--rank` sets for a method: from its definition (methods.json), else (a method no longer
 * registered) found from its records: the field equal to the rank in every ranked group.
 */
export function rankFieldOf(groups: readonly ConfigGroup[], method: string): string | null {
  const info = methodInfo(method);
  if (info) return info.rankParam;
  const ranked = groups.filter((g) => g.method === method && g.rank !== null);
  if (ranked.length === 0) return null;
  const keys = Object.keys(ranked[0].config).filter((k) => ranked.every((g) => g.config[k] === g.rank));
  return keys.find((k) => k !== 'rank') ?? keys[0] ?? null;
}

/** What one unit of a method's rank is ('rank r', 'bottleneck size'), for axis titles and captions. */
export function rankMeaningOf(groups: readonly ConfigGroup[], method: string): string {
  return methodInfo(method)?.rankMeaning ?? rankFieldOf(groups, method) ?? 'rank';
}

/** "r=8", "n=256", "bottleneck=64": a method's rank with the name of the field it sets (cached per method). */
export function rankTagger(groups: readonly ConfigGroup[]): (method: string, rank: number) => string {
  const fields = new Map<string, string>();
  return (method, rank) => {
    if (!fields.has(method)) fields.set(method, rankFieldOf(groups, method) ?? 'r');
    const f = fields.get(method)!;
    return `${f === 'rank' ? 'r' : f}=${rank}`;
  };
}
