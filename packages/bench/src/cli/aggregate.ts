// `pnpm bench aggregate`: records -> aggregated JSON + CSV tables (the aggregation module).
import * as fs from 'node:fs';
import { aggregateDir, writeAggregated } from '@peft-bench/results/aggregate/index';

type Aggregated = Awaited<ReturnType<typeof aggregateDir>>;

/**
 * Aggregates the records in `results`, printing each unreadable record to stderr, or returns
 * null after saying why when `results` is not a directory. Shared by `aggregate` and `report`.
 */
export async function aggregateResults(results: string): Promise<Aggregated | null> {
  if (!fs.existsSync(results) || !fs.statSync(results).isDirectory()) {
    process.stderr.write(`--results ${results} is not a directory: give the directory holding the run records (default results/).\n`);
    return null;
  }
  const aggregated = await aggregateDir(results);
  for (const problem of aggregated.problems) process.stderr.write(`skipped ${problem.path}: ${problem.message}\n`);
  return aggregated;
}

export async function aggregateCommand(options: { results: string; out: string; json?: boolean }): Promise<number> {
  const aggregated = await aggregateResults(options.results);
  if (!aggregated) return 2;
  const written = await writeAggregated(aggregated, options.out);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ written, problems: aggregated.problems })}\n`);
  } else {
    process.stdout.write(`Wrote:\n${written.map((file) => `  ${file}`).join('\n')}\n`);
  }
  return 0;
}
