// The downloadable files of the build (data/...): their bodies, used by the endpoint that writes them and by
// the Data page that lists them with their sizes.
import { CSV_TABLES, toCsv, toJson, type Aggregated, type CsvTable } from '@peft-bench/results/aggregate/index';
import { repoFile } from '../consts.ts';
import type { RunRow } from './runs-view.ts';

export const SCHEMAS = {
  record: repoFile('packages/results/src/record/schema.ts'),
  aggregate: repoFile('packages/results/src/aggregate/aggregate.ts'),
  csv: repoFile('packages/results/src/aggregate/export.ts'),
};

/** Per run: the columns the Runs page searches, sorts and pages through (fetched when that page opens). */
export const RUN_COLUMNS = ['runId', 'scope', 'status', 'reason', 'method', 'task', 'seed', 'rank', 'lr', 'configLabel', 'primary', 'trainSeconds'] as const;

export const DOWNLOAD_FILES = ['aggregated.json', ...CSV_TABLES.map((t) => `${t}.csv`), 'runs.json'];

/** The aggregated files cover `agg` (the default scope); runs.json lists `runs`, the runs of every scope. */
export function downloadBody(agg: Aggregated, file: string, runs: readonly RunRow[]): string {
  if (file === 'aggregated.json') {
    // Paths of skipped files are made relative to results/ so the build does not leak local directories. The
    // per-run analysis pass-through (about 30 kB a run) stays in the records, so the full grid's download is
    // megabytes rather than tens of them; the seed-averaged subspace and overlap matrices are kept.
    const { analysis: _perRun, ...aggregates } = agg;
    const shareable = { ...aggregates, problems: agg.problems.map((p) => ({ ...p, path: p.path.split('/').slice(-1)[0] })) };
    return toJson(shareable as Aggregated);
  }
  if (file === 'runs.json') {
    // Column names once, then one array per run: a third of the size of an array of objects.
    return JSON.stringify({ columns: RUN_COLUMNS, rows: runs.map((r) => RUN_COLUMNS.map((c) => r[c])) });
  }
  return toCsv(agg, file.replace(/\.csv$/, '') as CsvTable);
}

export const byteSize = (text: string) => Buffer.byteLength(text, 'utf8');
