// `pnpm bench --method lora --rank 64`: resolve and check every run first, then run them one by
// one in this process with a progress bar each, then print a summary table and the record paths.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunRequest } from '../grid/grid.ts';
import { finishedRecord } from '../grid/plan.ts';
import { removeStaleTempFiles } from '@peft-bench/results/record/store';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { executeRun } from '../run/execute.ts';
import { DEFAULT_MAX_EXCLUDED, describeDataReport, precheckRuns, type PrecheckResult } from '../run/precheck.ts';
import type { ResolvedRun } from '../run/resolve.ts';
import { formatCount, formatNumber, RunBar, table } from './output.ts';

export interface RunCommandOptions {
  /** Print what would run (run ids, finished or not, data counts) and run nothing. */
  dryRun?: boolean;
  /** Largest share of a split the length policy may exclude (default DEFAULT_MAX_EXCLUDED). */
  maxExcluded?: number;
  outDir: string;
  backend: string | undefined;
  threads: number;
  dataDir: string | undefined;
  adapterRoot: string;
  json: boolean;
  force: boolean;
}

export function singleRequests(input: {
  method: string;
  rank: number | null;
  tasks: string[];
  seeds: number[];
  lr: number | null;
  set: Record<string, unknown>;
  training: RunRequest['training'];
  taskConfig: Record<string, unknown>;
  model: string | null;
  protocol?: string | null;
  keepAdapters: boolean;
}): RunRequest[] {
  const requests: RunRequest[] = [];
  for (const task of input.tasks) {
    for (const seed of input.seeds) {
      requests.push({
        experiment: 'cli',
        method: input.method,
        rank: input.rank,
        task,
        seed,
        lr: input.lr,
        lrFactor: null,
        set: input.set,
        training: input.training,
        taskConfig: input.taskConfig,
        model: input.model,
        protocol: input.protocol ?? null,
        keepAdapters: input.keepAdapters,
      });
    }
  }
  return requests;
}

export async function runCommand(runs: ResolvedRun[], options: RunCommandOptions): Promise<number> {
  const say = (text: string) => {
    if (!options.json) process.stderr.write(`${text}\n`);
  };
  // Every check first (exit 2, nothing written, when one fails); then the runs.
  const checked = await precheckRuns(runs, { ...options, maxExcluded: options.maxExcluded ?? DEFAULT_MAX_EXCLUDED });
  for (const note of checked.notes) process.stderr.write(`${note}\n`);
  if (options.dryRun) return dryRun(runs, options, checked);
  removeStaleTempFiles(options.outDir);
  const done: { run: ResolvedRun; record: RunRecord; path: string; reused: boolean }[] = [];
  for (const [index, run] of runs.entries()) {
    const prefix = `[${index + 1}/${runs.length}] ${run.label}`;
    const existing = options.force ? null : await finishedRecord(options.outDir, run.runId, options.backend, run.equivalentIds);
    if (existing) {
      // The record may be one made under a code version checked equivalent: name its own file.
      const file = path.join(options.outDir, `${existing.run_id}.json`);
      if (!options.json) process.stderr.write(`${prefix}: already finished (${file}); --force runs it again\n`);
      done.push({ run, record: existing, path: file, reused: true });
      if (options.json) process.stdout.write(`${JSON.stringify({ event: 'run', reused: true, path: file, record: existing })}\n`);
      continue;
    }
    say(`${prefix} (run ${run.runId})`);
    const data = checked.data.get(run.runId);
    if (data) say(`  ${describeDataReport(data)}`);
    const bar = new RunBar(`${run.spec.task.id} s${run.spec.seed}`, options.json);
    try {
      const outcome = await executeRun(
        { runId: run.runId, spec: run.spec, meta: run.meta, modelSource: run.modelSource },
        { ...options, keepAdapter: run.keepAdapters },
        {
          onBackend: (backend) => {
            if (!options.json) process.stderr.write(`  backend: ${backend}\n`);
          },
          onProgress: (progress) => bar.update(progress),
        },
      );
      bar.stop();
      done.push({ run, record: outcome.record, path: outcome.path, reused: false });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ event: 'run', reused: false, path: outcome.path, record: outcome.record })}\n`);
      } else {
        const status = outcome.record.status === 'ok' ? '' : ` (${outcome.record.status}: ${outcome.record.reason})`;
        process.stderr.write(`  ${outcome.record.task.primary_metric} ${formatNumber(outcome.record.metrics.primary)}${status}\n`);
      }
    } finally {
      bar.stop();
    }
  }
  const summary = done.map(({ record, path: file, reused }) => ({
    run_id: record.run_id,
    task: record.task.id,
    seed: record.seed,
    status: record.status,
    reason: record.reason,
    metric: record.task.primary_metric,
    score: record.metrics.primary,
    trainable_params: record.params.trainable,
    seconds: record.cost.train_seconds + record.cost.eval_seconds,
    path: file,
    reused,
  }));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ event: 'summary', runs: summary })}\n`);
  } else {
    const rows = summary.map((row) => [
      row.task,
      String(row.seed),
      row.metric,
      row.status === 'ok' ? formatNumber(row.score) : `${row.status}`,
      formatCount(row.trainable_params),
      `${row.seconds.toFixed(1)} s`,
    ]);
    process.stdout.write(`\n${table(['task', 'seed', 'metric', 'score', 'trainable', 'time'], rows)}\n\nRecords:\n`);
    for (const row of summary) process.stdout.write(`  ${row.path}${row.reused ? ' (already there)' : ''}\n`);
  }
  return done.some(({ record }) => record.status === 'failed') ? 1 : 0;
}

/** --dry-run: each run's label, id and whether a record already exists; nothing runs or is written. */
async function dryRun(runs: ResolvedRun[], options: RunCommandOptions, checked: PrecheckResult): Promise<number> {
  const rows = await Promise.all(runs.map(async (run) => {
    const finished = !options.force && (await finishedRecord(options.outDir, run.runId, options.backend, run.equivalentIds)) !== null;
    return { run, finished, data: checked.data.get(run.runId) ?? null };
  }));
  if (options.json) {
    for (const { run, finished, data } of rows) {
      process.stdout.write(`${JSON.stringify({ event: 'plan', run_id: run.runId, label: run.label, finished, spec: run.spec, examples: data })}\n`);
    }
    process.stdout.write(`${JSON.stringify({ event: 'summary', runs: rows.length, finished: rows.filter((row) => row.finished).length, dry_run: true })}\n`);
    return 0;
  }
  process.stdout.write(
    `${table(['run id', 'run', 'status'], rows.map(({ run, finished }) => [run.runId, run.label, finished ? 'finished (skipped)' : 'would run']))}\n`,
  );
  for (const { data } of rows) if (data) process.stdout.write(`  ${describeDataReport(data)}\n`);
  const todo = rows.filter((row) => !row.finished).length;
  process.stdout.write(`\n${rows.length} run(s), ${rows.length - todo} finished, ${todo} would run; backend ${checked.backend.name}. Dry run: nothing trained or written.\n`);
  return 0;
}

/** The --data-dir check: it must be a readable directory. */
export function checkDataDir(dir: string): string | null {
  try {
    const stat = fs.statSync(dir);
    if (!stat.isDirectory()) return `--data-dir ${dir} is not a directory`;
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK);
    return null;
  } catch (error) {
    return `--data-dir ${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
}
