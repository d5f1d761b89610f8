// Exports of the aggregated data: one JSON document and flat CSV tables (csv-stringify), for the site's
// download page and `pnpm bench aggregate --out`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Aggregated } from './aggregate.ts';

export type CsvTable = 'leaderboard' | 'configurations' | 'runs' | 'pareto' | 'rank' | 'stability';
export const CSV_TABLES: readonly CsvTable[] = ['leaderboard', 'configurations', 'runs', 'pareto', 'rank', 'stability'];

type Row = Record<string, string | number | boolean | null>;

function rowsFor(agg: Aggregated, table: CsvTable): Row[] {
  switch (table) {
    case 'leaderboard':
      return agg.methodTask.map((m) => ({
        method: m.method, family: m.family, task: m.task, task_family: m.taskFamily,
        metric: agg.tasks.find((t) => t.id === m.task)?.primaryMetric ?? null,
        mean: m.best?.mean ?? null, std: m.best?.std ?? null, n: m.best?.n ?? 0,
        ci95_lo: m.ci95?.[0] ?? null, ci95_hi: m.ci95?.[1] ?? null, interval: m.intervalKind,
        valid_mean: m.validMean, selected_on: m.selectedOn, n_configs: m.nConfigs,
        best_config: m.bestConfigLabel, best_lr: m.bestLr, trainable: m.bestTrainable,
        is_best: m.isBest, tied_with_best: m.tiedWithBest,
      }));
    case 'configurations':
      return agg.groups.map((g) => ({
        method: g.method, family: g.family, task: g.task, config: g.configLabel, rank: g.rank, lr: g.lr,
        mean: g.stats.mean, std: g.stats.std, n: g.stats.n, min: g.stats.min, max: g.stats.max, valid_mean: g.validStats.mean, derived: g.derived,
        ok: g.counts.ok, diverged: g.counts.diverged, failed: g.counts.failed,
        trainable: g.params.trainable, total_params: g.params.total, trainable_share: g.params.share,
        adapter_bytes: g.params.adapterBytes, optimizer_state_bytes: g.params.optimizerStateBytes,
        train_seconds: g.cost.trainSeconds, eval_seconds: g.cost.evalSeconds, tokens_per_s: g.cost.tokensPerS,
        peak_memory_bytes: g.cost.peakMemoryBytes, forgetting: g.forgetting, loss_spikes: g.lossSpikes.total,
        config_json: g.configKey,
      }));
    case 'runs':
      return agg.runs.map((r) => ({
        run_id: r.runId, status: r.status, reason: r.reason, method: r.method, task: r.task, seed: r.seed,
        rank: r.rank, lr: r.lr, config: r.configLabel, primary: r.primary, trainable: r.trainable,
        train_seconds: r.trainSeconds, started_at: r.startedAt,
      }));
    case 'pareto':
      return agg.pareto.map((p) => ({
        task: p.task, method: p.method, config: p.configLabel, trainable: p.trainable, mean: p.mean, std: p.std,
        n: p.n, frontier: p.frontier,
      }));
    case 'rank':
      return agg.rankCurves.map((p) => ({
        method: p.method, series: p.series, task: p.task, task_family: p.taskFamily, rank: p.rank, config: p.configLabel,
        mean: p.mean, std: p.std, n: p.n, diverged: p.diverged, runs: p.runs,
      }));
    case 'stability':
      return agg.methodTask.map((m) => ({
        method: m.method, task: m.task, seed_std: m.seedStd, best_lr: m.bestLr, lr_grid_size: m.lrGrid.length,
        lr_near_best_share: m.lrNearBestShare, runs: m.runs, ok: m.ok, diverged: m.diverged, failed: m.failed,
        divergence_rate: m.divergenceRate, loss_spikes: m.lossSpikes.total,
      }));
  }
}

/** One table as CSV text with a header row. Unknown table names are rejected with the valid ones. */
export function toCsv(agg: Aggregated, table: CsvTable = 'leaderboard'): string {
  if (!CSV_TABLES.includes(table)) {
    throw new Error(`Unknown CSV table "${String(table)}". Valid tables: ${CSV_TABLES.join(', ')}.`);
  }
  const rows = rowsFor(agg, table);
  if (rows.length === 0) return '';
  return stringify(rows, { header: true, cast: { boolean: (v) => (v ? 'true' : 'false') } });
}

/** The whole aggregate as pretty JSON (stable: aggregation output is deterministic). */
export function toJson(agg: Aggregated): string {
  return JSON.stringify(agg, null, 2) + '\n';
}

/** Writes aggregated.json and one CSV per table into `outDir`; returns the paths written. */
export async function writeAggregated(agg: Aggregated, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const jsonPath = join(outDir, 'aggregated.json');
  await writeFile(jsonPath, toJson(agg));
  written.push(jsonPath);
  for (const table of CSV_TABLES) {
    const path = join(outDir, `${table}.csv`);
    await writeFile(path, toCsv(agg, table));
    written.push(path);
  }
  return written;
}
