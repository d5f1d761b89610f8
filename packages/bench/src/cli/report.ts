// `pnpm bench report`: the records as Markdown tables, one section per question (the aggregation's report).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { aggregate, aggregateLookup, defaultsJson, discriminabilityByTask, findings, findingsMarkdown, leaderboardJson, leaderboardMarkdown, otherScopes, scopeMarkdown, taskSeparation, CALIBRATION_RULE, type Aggregated } from '@peft-bench/results/aggregate/index';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { aggregateResults, type ScopeOptions } from './aggregate.ts';

export async function reportCommand(options: { results: string; out?: string; json?: boolean } & ScopeOptions): Promise<number> {
  const aggregated = await aggregateResults(options.results, { protocol: options.protocol, model: options.model });
  if (!aggregated) return 2;
  // Studies comparing two scopes (naive against base) read the other one from the same records.
  const aggregateOf = aggregateLookup(aggregated.allRecords, [], aggregated);
  const text = options.json
    ? `${JSON.stringify({ scope: aggregated.scope, records: aggregated.recordCount, other_scopes: otherScopes(aggregated), leaderboard: leaderboardJson(aggregated), defaults: defaultsJson(aggregated), discriminability: discriminabilityByModel(aggregated, aggregated.allRecords), calibration: calibrationJson(aggregated), questions: findings(aggregated, aggregateOf) }, null, 2)}\n`
    : `${scopeMarkdown(aggregated)}\n${leaderboardMarkdown(aggregated)}\n${findingsMarkdown(aggregated, aggregateOf)}`;
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

/**
 * `discriminability.<model>.<task>`: for every model with records under the report's protocol, how
 * well its tasks separate the parameter-efficient methods (aggregate/aggregate.ts discriminabilityByTask).
 */
function discriminabilityByModel(aggregated: Aggregated, records: RunRecord[]): Record<string, ReturnType<typeof discriminabilityByTask>> {
  const out: Record<string, ReturnType<typeof discriminabilityByTask>> = {};
  const protocol = aggregated.scope?.protocol;
  for (const scope of aggregated.scopes.filter((s) => s.protocol === protocol)) {
    const same = scope.model === aggregated.scope?.model && scope.modelHash === aggregated.scope?.modelHash;
    // One model id may have several checkpoints (rebuilt weights): the one with the most records speaks for it.
    if (out[scope.model]) continue;
    out[scope.model] = discriminabilityByTask(same ? aggregated : aggregate(records, [], scope));
  }
  return out;
}

/** `calibration.<task>`: full fine-tuning against the frozen base under the calibration rule (aggregate/separation.ts). */
function calibrationJson(aggregated: Aggregated) {
  const out: Record<string, { frozen: number | null; full: number | null; gain: number | null; calibrated: boolean | null; off: string | null; rule: { min_gain: number; max_full: number } }> = {};
  for (const s of taskSeparation(aggregated)) out[s.task] = { frozen: s.frozen, full: s.full, gain: s.gain, calibrated: s.calibrated, off: s.off, rule: { min_gain: CALIBRATION_RULE.minGain, max_full: CALIBRATION_RULE.maxFull } };
  return out;
}
