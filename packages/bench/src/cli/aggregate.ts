// `pnpm bench aggregate`: records -> aggregated JSON + CSV tables (the aggregation module).
import * as fs from 'node:fs';
import { aggregate, readRecords, writeAggregated, type Aggregated } from '@peft-bench/results/aggregate/index';
import type { RunRecord } from '@peft-bench/results/record/schema';

/**
 * Aggregates the records in `results`, printing each unreadable record to stderr, or returns
 * null after saying why when `results` is not a directory. Shared by `aggregate` and `report`.
 */
export async function aggregateResults(results: string, want: ScopeOptions = {}): Promise<(Aggregated & { allRecords: RunRecord[] }) | null> {
  if (!fs.existsSync(results) || !fs.statSync(results).isDirectory()) {
    process.stderr.write(`--results ${results} is not a directory: give the directory holding the run records (default results/).\n`);
    return null;
  }
  const { records, problems } = await readRecords(results);
  // Every record read (all scopes), for views over other models; not part of the written aggregate.
  const aggregated = Object.defineProperty(aggregate(records, problems, want), 'allRecords', { value: records, enumerable: false }) as Aggregated & { allRecords: RunRecord[] };
  for (const problem of aggregated.problems) process.stderr.write(`skipped ${problem.path}: ${problem.message}\n`);
  if (aggregated.scope === null && aggregated.scopes.length > 0) {
    const valid = aggregated.scopes.map((s) => `--protocol ${s.protocol} --model ${s.model} (${s.runs} runs)`).join('; ');
    process.stderr.write(`No records in ${results} for${want.protocol ? ` --protocol ${want.protocol}` : ''}${want.model ? ` --model ${want.model}` : ''}. The records hold: ${valid}.\n`);
    return null;
  }
  const others = aggregated.scopes.filter((s) => s.protocol !== aggregated.scope?.protocol || s.model !== aggregated.scope?.model || s.modelHash !== aggregated.scope?.modelHash);
  if (aggregated.scope && others.length > 0) {
    process.stderr.write(
      `aggregating protocol ${aggregated.scope.protocol} on model ${aggregated.scope.model} (${aggregated.recordCount} runs); not pooled with: ${others.map((s) => `${s.protocol} on ${s.model} (${s.runs})`).join(', ')} (--protocol, --model)\n`,
    );
  }
  return aggregated;
}

/** Which records to aggregate: one protocol on one model (default: see defaultScope in the results package). */
export interface ScopeOptions {
  protocol?: string;
  model?: string;
}

export async function aggregateCommand(options: { results: string; out: string; json?: boolean } & ScopeOptions): Promise<number> {
  const aggregated = await aggregateResults(options.results, { protocol: options.protocol, model: options.model });
  if (!aggregated) return 2;
  const written = await writeAggregated(aggregated, options.out);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ written, problems: aggregated.problems })}\n`);
  } else {
    process.stdout.write(`Wrote:\n${written.map((file) => `  ${file}`).join('\n')}\n`);
  }
  return 0;
}
