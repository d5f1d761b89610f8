// The leaderboard as data (`pnpm bench report --json`) and as a Markdown table: per task and method, the
// configuration chosen on valid, its test mean with a 95% interval, how many configurations were searched,
// and whether it is the best or statistically tied with it.
import type { Aggregated, MethodTaskSummary } from './aggregate.ts';
import { BASELINE_METHODS } from './aggregate.ts';

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
  trainable: number | null;
  /** Mean steps to the best checkpoint on valid (converge protocol; null for fixed-step records). */
  steps_to_best: number | null;
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
    is_best: row.isBest,
    tied_with_best: row.tiedWithBest,
    baseline: BASELINE_METHODS.includes(row.method),
  };
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
  const ci = c.ci95 ? ` [${fmt(c.ci95[0])}, ${fmt(c.ci95[1])}]` : '';
  return `${value}${ci} ·${c.n_configs}`;
}

export function leaderboardMarkdown(agg: Aggregated): string {
  const board = leaderboardJson(agg);
  const methods = [...new Set(agg.methodTask.filter((r) => r.bestConfigKey !== null).map((r) => r.method))].sort((a, b) =>
    Number(BASELINE_METHODS.includes(b)) - Number(BASELINE_METHODS.includes(a)) || (a < b ? -1 : a > b ? 1 : 0));
  const header = `| method | ${agg.tasks.map((t) => `${t.id} (${t.primaryMetric})`).join(' | ')} |`;
  const rule = `|---|${agg.tasks.map(() => '---:').join('|')}|`;
  const rows = methods.map((m) => `| ${BASELINE_METHODS.includes(m) ? `${m} (reference)` : m} | ${agg.tasks.map((t) => markdownCell(board[t.id]?.[m])).join(' | ')} |`);
  return [
    '## Leaderboard',
    '',
    'Each method at the configuration chosen by its mean primary metric on the validation split, reported on the test split: mean over seeds, '
      + '95% interval in brackets (a t interval over seed means where records carry no per-example scores), and after the dot the number of '
      + 'configurations searched. Best non-reference method in bold; ≈ marks methods whose interval overlaps the best.',
    '',
    header,
    rule,
    ...rows,
    '',
  ].join('\n');
}
