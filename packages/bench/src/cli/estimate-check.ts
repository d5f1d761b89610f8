// `pnpm bench estimate-check --since <time>`: how the grid's wall-time estimate (`--dry-run`, the
// ETA, `--time-limit`) compared with what the runs started since then took (grid/estimate-check.ts).
import { readRecords } from '@peft-bench/results/record/read';
import { LEGACY_PROTOCOL, type RunRecord } from '@peft-bench/results/record/schema';
import { checkEstimates } from '../grid/estimate-check.ts';
import { formatDuration } from '../grid/estimate.ts';
import { InputError } from '../run/resolve.ts';
import { reportError } from './errors.ts';
import { parseUtcTime } from './values.ts';

export interface EstimateCheckFlags {
  since: string;
  until?: string;
  results: string;
  protocol?: string;
  model?: string;
  runs?: boolean;
  json?: boolean;
}

export async function estimateCheckCommand(flags: EstimateCheckFlags): Promise<number> {
  try {
    const since = parseUtcTime('--since', flags.since);
    const until = flags.until === undefined ? undefined : parseUtcTime('--until', flags.until);
    const { records } = await readRecords(flags.results);
    if (records.length === 0) throw new InputError(`No run records in ${flags.results}.`);
    const protocols = [...new Set(records.map((r) => r.protocol ?? LEGACY_PROTOCOL))].sort();
    const models = [...new Set(records.map((r) => r.model.id))].sort();
    if (flags.protocol && !protocols.includes(flags.protocol)) throw new InputError(`No records of protocol "${flags.protocol}" in ${flags.results}: it holds ${protocols.join(', ')}.`);
    if (flags.model && !models.includes(flags.model)) throw new InputError(`No records on model "${flags.model}" in ${flags.results}: it holds ${models.join(', ')}.`);
    const keep = (r: RunRecord) => (!flags.protocol || (r.protocol ?? LEGACY_PROTOCOL) === flags.protocol) && (!flags.model || r.model.id === flags.model);
    const check = checkEstimates(records, since, keep, until);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ since, until: until ?? null, ...check }, null, 2)}\n`);
      return 0;
    }
    const scope = [flags.protocol, flags.model && `on ${flags.model}`].filter(Boolean).join(' ');
    const out: string[] = [`Runs${scope ? ` (${scope})` : ''} started since ${since}${until ? ` and before ${until}` : ''}, estimated as \`--dry-run\` would have then, from the ${check.basis} records started before then:`];
    if (flags.runs) {
      for (const r of check.runs) out.push(`  ${r.startedAt.slice(0, 16)}  ${r.label}: took ${r.took.toFixed(0)} s, estimated ${r.estimated.toFixed(0)} s (${(r.took / r.estimated).toFixed(2)}x)`);
    }
    if (check.runs.length === 0) {
      out.push('  none.');
    } else {
      const [q1, q2, q3] = check.quartiles!;
      out.push(
        `  ${check.runs.length} runs: took ${formatDuration(check.took)} (${check.took.toFixed(0)} s), estimated ${formatDuration(check.estimated)} (${check.estimated.toFixed(0)} s): ${(check.took / check.estimated).toFixed(2)}x`,
        `  took / estimated per run: quartiles ${q1.toFixed(2)}, ${q2.toFixed(2)}, ${q3.toFixed(2)}; within 1.5x either way: ${check.within1_5} of ${check.runs.length}`,
      );
    }
    if (check.unestimated > 0) out.push(`  ${check.unestimated} runs had no earlier record of their model to estimate from.`);
    out.push('Wall time from start to finish of each run: runs that shared the cores with other jobs took longer than the estimate, which assumes the grid has the machine to itself.');
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } catch (error) {
    return reportError(error);
  }
}
