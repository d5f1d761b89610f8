// `pnpm bench aggregate`: records -> aggregated JSON + CSV tables (the aggregation module).
import * as fs from 'node:fs';
import { aggregateDir, writeAggregated } from '../aggregate/index.ts';

export async function aggregateCommand(options: { results: string; out: string; json?: boolean }): Promise<number> {
  if (!fs.existsSync(options.results) || !fs.statSync(options.results).isDirectory()) {
    process.stderr.write(`--results ${options.results} is not a directory: give the directory holding the run records (default results/).\n`);
    return 2;
  }
  const aggregated = await aggregateDir(options.results);
  const written = await writeAggregated(aggregated, options.out);
  const problems = (aggregated as unknown as { problems?: { path: string; message: string }[] }).problems ?? [];
  for (const problem of problems) process.stderr.write(`skipped ${problem.path}: ${problem.message}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ written, problems })}\n`);
  } else {
    process.stdout.write(`Wrote:\n${written.map((file) => `  ${file}`).join('\n')}\n`);
  }
  return 0;
}
