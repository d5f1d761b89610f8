// The leaderboard as data (`pnpm bench report --json`) and as a Markdown table: per task and method, the
// configuration chosen on valid, its test mean with a 95% interval, how many configurations were searched,
// and whether it is the best or statistically tied with it.
import type { Aggregated, MethodTaskSummary } from './aggregate.ts';
import { defaultRank, isBaseline, methodInfo } from '../methods.ts';
import { separationMarkdown } from './separation.ts';

export interface LeaderboardCell {
  mean: number | null;
  ci95: [number, number] | null;
  /** 'paired-bootstrap' over test examples and seeds, or 'seeds-only' (records without per-example scores). */
  interval: 'paired-bootstrap' | 'seeds-only' | null;
  seeds: number;
  sd: number | null;
  n_configs: number;
  selected_on: 'valid';
  valid_mean: number | null;
  config: string | null;
  /** Parameter accounting: what it trains, what it stores (adapter bytes on disk), what it adds to the deployed model. */
  trainable: number | null;
  /** Mean steps to the best checkpoint on valid (converge protocol; null for fixed-step records). */
  steps_to_best: number | null;
  adapter_bytes: number | null;
  added_at_inference: number | null;
  is_best: boolean;
  tied_with_best: boolean;
  baseline: boolean;
}

export function leaderboardCell(row: MethodTaskSummary): LeaderboardCell {
  return {
    mean: row.best?.mean ?? null,
    ci95: row.ci95,
    interval: row.intervalKind,
    seeds: row.best?.n ?? 0,
    sd: row.best?.std ?? null,
    n_configs: row.nConfigs,
    selected_on: row.selectedOn,
    valid_mean: row.validMean,
    config: row.bestConfigLabel,
    trainable: row.bestTrainable,
    steps_to_best: row.bestStepsToBest,
    adapter_bytes: row.bestParams?.adapterBytes ?? null,
    added_at_inference: row.bestParams?.addedAtInference ?? null,
    is_best: row.isBest,
    tied_with_best: row.tiedWithBest,
    baseline: isBaseline(row.method),
  };
}

/** A method at its documented defaults: no configuration search (`n_configs` 1, nothing selected). */
export interface DefaultsCellJson {
  mean: number | null;
  ci95: [number, number] | null;
  interval: 'paired-bootstrap' | 'seeds-only' | null;
  seeds: number;
  sd: number | null;
  config: string;
  trainable: number;
  adapter_bytes: number;
  added_at_inference: number | null;
  baseline: boolean;
}

/** `defaults.<task>.<method>` -> cell: each method at its default configuration and rank, lr factor 1. */
export function defaultsJson(agg: Aggregated): Record<string, Record<string, DefaultsCellJson>> {
  const out: Record<string, Record<string, DefaultsCellJson>> = {};
  for (const task of agg.tasks) {
    out[task.id] = {};
    for (const d of agg.defaults.filter((x) => x.task === task.id)) {
      out[task.id]![d.method] = {
        mean: d.stats.mean, ci95: d.ci95, interval: d.intervalKind, seeds: d.stats.n, sd: d.stats.std,
        config: d.configLabel, trainable: d.trainable, adapter_bytes: d.params.adapterBytes,
        added_at_inference: d.params.addedAtInference, baseline: isBaseline(d.method),
      };
    }
  }
  return out;
}

/** `leaderboard.<task>.<method>` -> cell. */
export function leaderboardJson(agg: Aggregated): Record<string, Record<string, LeaderboardCell>> {
  const out: Record<string, Record<string, LeaderboardCell>> = {};
  for (const task of agg.tasks) {
    out[task.id] = {};
    // Methods with only post-hoc (derived) configurations have no selected configuration: their rows live in their study.
    for (const row of agg.methodTask.filter((r) => r.task === task.id && r.bestConfigKey !== null)) out[task.id]![row.method] = leaderboardCell(row);
  }
  return out;
}

const fmt = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(3));

/** "**0.612** [0.58, 0.64] ·5": best in bold, ties marked ≈, the number of configurations searched after the dot. */
function markdownCell(c: LeaderboardCell | undefined): string {
  if (!c || c.mean === null) return '—';
  const value = c.is_best ? `**${fmt(c.mean)}**` : c.tied_with_best ? `≈${fmt(c.mean)}` : fmt(c.mean);
  const ci = c.ci95 ? ` [${fmt(c.ci95[0])}, ${fmt(c.ci95[1])}]${c.interval === 'seeds-only' ? '†' : ''}` : '';
  return `${value}${ci} ·${c.n_configs}`;
}

export function leaderboardMarkdown(agg: Aggregated): string {
  const board = leaderboardJson(agg);
  const methods = [...new Set(agg.methodTask.filter((r) => r.bestConfigKey !== null).map((r) => r.method))].sort((a, b) =>
    Number(isBaseline(b)) - Number(isBaseline(a)) || (a < b ? -1 : a > b ? 1 : 0));
  const header = `| method | ${agg.tasks.map((t) => `${t.id} (${t.primaryMetric})`).join(' | ')} |`;
  const rule = `|---|${agg.tasks.map(() => '---:').join('|')}|`;
  const rows = methods.map((m) => `| ${isBaseline(m) ? `${m} (reference)` : m} | ${agg.tasks.map((t) => markdownCell(board[t.id]?.[m])).join(' | ')} |`);
  return [
    '## Leaderboard',
    '',
    'Each method at the configuration chosen by its mean primary metric on the validation split, reported on the test split: mean over seeds, '
      + '95% interval in brackets (a paired bootstrap over test examples and seeds where the records carry per-example scores; † marks a t '
      + 'interval over seed means, for records without them), and after the dot the number of configurations searched. Best non-reference '
      + 'method in bold; ≈ marks methods tied with the best (by the paired bootstrap of the difference where both carry per-example scores, '
      + 'else by overlapping intervals).',
    '',
    header,
    rule,
    ...rows,
    '',
    separationMarkdown(agg),
    parametersMarkdown(agg),
  ].join('\n');
}

const int = (v: number | null) => (v === null ? '—' : v.toLocaleString('en-US'));

/** Parameter accounting per method at its documented defaults: what it trains, stores and adds at inference. */
export function parametersMarkdown(agg: Aggregated): string {
  const byMethod = new Map<string, Aggregated['defaults'][number]>();
  for (const d of agg.defaults) if (!byMethod.has(d.method)) byMethod.set(d.method, d);
  const rows = [...byMethod.values()].sort((a, b) => a.params.trainable - b.params.trainable || (a.method < b.method ? -1 : 1))
    .map((d) => `| ${d.method} | ${d.configLabel} | ${int(d.params.trainable)} | ${int(d.params.adapterBytes)} | ${int(d.params.addedAtInference)} |`);
  // Methods with runs in this scope but none at their documented defaults (a grid that sweeps other ranks).
  const missing = [...new Set(agg.methodTask.map((r) => r.method))].filter((m) => !byMethod.has(m)).sort()
    .map((m) => {
      const rank = defaultRank(m);
      return rank === null ? m : `${m} (${methodInfo(m)!.rankParam}=${rank})`;
    });
  return [
    '## Parameters',
    '',
    'Each method at its documented defaults: what it trains, what it stores (adapter bytes on disk) and what it adds to the deployed '
      + 'model (0 when the update merges into the base weights or tunes them in place; extra modules or tokens otherwise).',
    '',
    '| method | configuration | trains | stores (bytes) | adds at inference |',
    '|---|---|---:|---:|---:|',
    ...rows,
    '',
    ...(missing.length > 0 ? [`No runs at their documented defaults in this scope: ${missing.join(', ')}; the leaderboard above has them at the configuration chosen on valid.`, ''] : []),
  ].join('\n');
}
