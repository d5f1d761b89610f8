// `pnpm bench report`: the records as Markdown tables, one section per question (the aggregation's report).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { aggregateDir, findingsMarkdown } from '../aggregate/index.ts';

export async function reportCommand(options: { results: string; out?: string }): Promise<number> {
  if (!fs.existsSync(options.results) || !fs.statSync(options.results).isDirectory()) {
    process.stderr.write(`--results ${options.results} is not a directory: give the directory holding the run records (default results/).\n`);
    return 2;
  }
  const aggregated = await aggregateDir(options.results);
  for (const problem of aggregated.problems) process.stderr.write(`skipped ${problem.path}: ${problem.message}\n`);
  const text = findingsMarkdown(aggregated);
  if (!options.out) {
    process.stdout.write(text);
    return 0;
  }
  // Written whole, then renamed, so an interrupted run never leaves half a report.
  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  const tmp = `${options.out}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, options.out);
  process.stdout.write(`Wrote ${options.out}\n`);
  return 0;
}
