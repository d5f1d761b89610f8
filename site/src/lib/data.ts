// The site's only data source: run records in results/ (repo root), read and aggregated once per build.
// PEFT_BENCH_RESULTS overrides the directory (the tests point it at fixtures). Bad files are printed with
// their path and reason and skipped, never fatal.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readRecords } from '@peft-bench/results/record/read';
import { aggregate, type Aggregated } from '@peft-bench/results/aggregate/index';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { setMethodOrder } from './charts.ts';
import { shortenLabels } from './labels.ts';

export interface SiteData {
  resultsDir: string;
  records: RunRecord[];
  agg: Aggregated;
}

function repoRoot(): string {
  let dir = process.cwd();
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

function resultsDir(): string {
  const override = process.env.PEFT_BENCH_RESULTS;
  if (override) {
    // Relative to where the command was typed (pnpm runs scripts inside site/ but keeps INIT_CWD).
    return isAbsolute(override) ? override : resolve(process.env.INIT_CWD ?? process.cwd(), override);
  }
  return join(repoRoot(), 'results');
}

let cached: Promise<SiteData> | null = null;

export function loadSiteData(): Promise<SiteData> {
  cached ??= (async () => {
    const dir = resultsDir();
    const { records, problems } = await readRecords(dir);
    console.log(`[peft-bench] ${records.length} run records from ${dir}`);
    for (const p of problems) console.warn(`[peft-bench] skipped ${p.path}: ${p.message}`);
    const agg = shortenLabels(aggregate(records, problems));
    setMethodOrder(agg.methods.map((m) => m.id));
    return { resultsDir: dir, records, agg };
  })();
  return cached;
}
