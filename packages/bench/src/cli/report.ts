// `pnpm bench report`: the records as Markdown tables, one section per question (the aggregation's report).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultsJson, findingsMarkdown, leaderboardJson, leaderboardMarkdown } from '@peft-bench/results/aggregate/index';
import { aggregateResults, type ScopeOptions } from './aggregate.ts';

export async function reportCommand(options: { results: string; out?: string; json?: boolean } & ScopeOptions): Promise<number> {
  const aggregated = await aggregateResults(options.results, { protocol: options.protocol, model: options.model });
  if (!aggregated) return 2;
  const text = options.json
    ? `${JSON.stringify({ scope: aggregated.scope, records: aggregated.recordCount, leaderboard: leaderboardJson(aggregated), defaults: defaultsJson(aggregated) }, null, 2)}\n`
    : `${leaderboardMarkdown(aggregated)}\n${findingsMarkdown(aggregated)}`;
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
