// `pnpm bench --grid <name|file>`: expand, skip finished runs, run the rest on a worker pool.
// Interrupted grids (Ctrl-C, kill -9) resume with the same command: finished records are valid
// files named by run id, anything else is redone.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRecords } from '@peft-bench/results/record/read';
import { removeStaleTempFiles } from '@peft-bench/results/record/store';
import { findRecord, finishedRuns, plannedBackend } from '../grid/plan.ts';
import { runPool, type JobResult, type PoolJob } from '../grid/pool.ts';
import { atCpuPace, estimateGrid, estimateRunSeconds, formatDuration, paceRatio, remainingWallSeconds, timingOf, type CpuPace, type Timing } from '../grid/estimate.ts';
import { cpuModel } from '../run/provenance.ts';
import type { ResolvedRun } from '../run/resolve.ts';
import { InputError } from '../run/resolve.ts';
import { formatNumber } from './output.ts';

export interface GridCommandOptions {
  gridName: string;
  outDir: string;
  workers: number;
  threads: number;
  backend: string | undefined;
  dataDir: string | undefined;
  adapterRoot: string;
  json: boolean;
  dryRun: boolean;
  /** 'fused': compatible runs train together in one worker (run/fused.ts). */
  mode?: 'single' | 'fused';
  /** More directories whose finished records count (e.g. the checkout's results/ when --out is elsewhere). */
  finishedIn: string[];
  /** `i/n`: run only the runs of shard i (1-based) of n. */
  shard: { index: number; count: number } | null;
  /** Print the CI matrix of shards that still have unfinished runs, and exit. */
  plan: { shards: number } | null;
  /** Seconds per run to assume when no record has been measured yet. */
  perRunSeconds: number | null;
  /** Start no run estimated to end more than this many seconds after the grid started (the rest wait for next time). */
  timeLimit?: number | null;
  /** Experiment blocks marked `first`: their runs go before all others (the pool keeps them ahead). */
  headExperiments?: string[];
}

export function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) {
    throw new InputError(`Invalid --shard "${text}": expected i/n with 1 <= i <= n, e.g. 3/8.`);
  }
  return { index, count };
}

/** Stable shard of a run (from its id or group hash), so the plan and every shard job agree without talking. */
export function shardOf(key: string, count: number): number {
  return (parseInt(key.slice(0, 8), 16) % count) + 1;
}

export async function gridCommand(runs: ResolvedRun[], options: GridCommandOptions): Promise<number> {
  const say = (text: string) => {
    if (!options.json) process.stderr.write(`${text}\n`);
  };
  const emit = (value: Record<string, unknown>) => {
    if (options.json) process.stdout.write(`${JSON.stringify(value)}\n`);
  };
  removeStaleTempFiles(options.outDir);
  // Failed runs and runs diverged on another backend are redone; see grid/plan.ts.
  const needed = new Set(runs.flatMap((run) => run.dependsOn));
  const finishedIds = await finishedRuns(runs, {
    dirs: [options.outDir, ...options.finishedIn],
    adapterRoot: options.adapterRoot,
    backend: () => plannedBackend(options.backend),
  });
  const finished = runs.filter((run) => finishedIds.has(run.runId));
  // What the finished runs took, start to finish of each record: with the estimate for the rest, the grid's whole cost.
  const finishedSeconds = finished.reduce((sum, run) => {
    const record = [run.runId, ...(run.equivalentIds ?? [])].map((id) => findRecord([options.outDir, ...options.finishedIn], id)).find((r) => r !== null);
    const seconds = record ? (Date.parse(record.provenance.finished_at) - Date.parse(record.provenance.started_at)) / 1000 : NaN;
    return Number.isFinite(seconds) && seconds > 0 ? sum + seconds : sum;
  }, 0);
  let todo = runs.filter((run) => !finishedIds.has(run.runId));

  // Runs linked by adapter references share a task, seed and model: keep each such group in one
  // shard so a run never waits for an adapter made on another machine.
  const shardKey = (run: ResolvedRun) =>
    run.dependsOn.length > 0 || needed.has(run.runId)
      ? createHash('sha256').update(`${run.spec.task.id}|${run.spec.seed}|${run.spec.model.hash}`).digest('hex')
      : run.runId;
  if (options.plan) {
    const shards = new Set(todo.map((run) => shardOf(shardKey(run), options.plan!.shards)));
    const include = [...shards].sort((a, b) => a - b).map((i) => ({ shard: `${i}/${options.plan!.shards}` }));
    process.stdout.write(`${JSON.stringify({ include })}\n`);
    return 0;
  }
  if (options.shard) todo = todo.filter((run) => shardOf(shardKey(run), options.shard!.count) === options.shard!.index);

  const measured: Timing[] = [];
  for (const dir of [options.outDir, ...options.finishedIn]) {
    if (existsSync(dir)) measured.push(...(await readRecords(dir)).records.map(timingOf).filter((t): t is Timing => t !== null));
  }
  // The records' timings at this CPU's pace, where enough configurations were measured on it and elsewhere.
  const { timings: onThisCpu, pace } = atCpuPace(measured, cpuModel());
  const estimate = estimateFor(todo, onThisCpu, measured, pace, options);
  const perExperiment = new Map<string, { total: number; finished: number }>();
  for (const run of runs) {
    const entry = perExperiment.get(run.experiment) ?? { total: 0, finished: 0 };
    entry.total += 1;
    if (finishedIds.has(run.runId)) entry.finished += 1;
    perExperiment.set(run.experiment, entry);
  }
  say(
    `grid ${options.gridName}: ${runs.length} runs, ${finished.length} already finished` +
      `${finished.length ? ` (they took ${(finishedSeconds / 3600).toFixed(1)} run-hours, ${formatDuration(finishedSeconds / options.workers)} shared by ${options.workers} worker(s))` : ''}` +
      `, ${todo.length} to run` +
      `${options.shard ? ` in shard ${options.shard.index}/${options.shard.count}` : ''} on ${options.workers} worker(s) x ${options.threads} thread(s)` +
      `; estimated wall time ${estimate ? formatDuration(estimate.wall) : 'unknown (no measured runs yet; pass --per-run-seconds)'}` +
      `${estimate?.basis ? ` (${estimate.basis})` : ''}` +
      `${options.timeLimit ? `; runs estimated to end after ${formatDuration(options.timeLimit)} are left for next time` : ''}`,
  );
  for (const [name, entry] of perExperiment) say(`  ${name}: ${entry.total} runs, ${entry.finished} finished`);
  emit({
    event: 'plan',
    grid: options.gridName,
    runs: runs.length,
    finished: finished.length,
    // Start to finish of the finished runs' records, summed.
    finished_run_seconds: finishedSeconds,
    todo: todo.length,
    workers: options.workers,
    estimated_wall_seconds: estimate?.wall ?? null,
    estimated_cpu_seconds: estimate?.total ?? null,
    // This CPU's pace against the records' (records made elsewhere count `slower` times as long), or null.
    cpu_pace: estimate?.pace ?? null,
    experiments: Object.fromEntries(perExperiment),
    ...(options.dryRun ? { run_list: runs.map((run) => ({ run_id: run.runId, label: run.label, experiment: run.experiment, finished: finishedIds.has(run.runId) })) } : {}),
  });
  if (options.dryRun || todo.length === 0) return 0;

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    say('\ninterrupted: stopping the workers; finished runs are kept, the runs in flight will be redone next time (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const started = Date.now();
  // Each run's estimate at this CPU's pace (as the plan's), and its expected seconds on one worker for
  // --time-limit: that estimate, else --per-run-seconds.
  const runEstimates = new Map(todo.map((run) => [run.runId, estimateRunSeconds(run, onThisCpu)]));
  const perRunSeconds = (runId: string) => runEstimates.get(runId) ?? options.perRunSeconds;
  const pids = new Map<string, number>();
  let completed = 0;
  let remainingEstimate = estimate?.total ?? null;
  const finishedTimes: { seconds: number; estimated: number | null }[] = [];
  const heads = new Set(options.headExperiments ?? []);
  const jobs: PoolJob[] = todo.map((run) => ({
    runId: run.runId,
    spec: run.spec,
    meta: run.meta,
    label: run.label,
    modelSource: run.modelSource,
    keepAdapter: run.keepAdapters,
    dependsOn: run.dependsOn,
    head: heads.has(run.experiment),
  }));
  const summary = await runPool(jobs, {
    workers: options.workers,
    mode: options.mode ?? 'single',
    worker: {
      outDir: options.outDir,
      backend: options.backend,
      threads: options.threads,
      dataDir: options.dataDir,
      adapterRoot: options.adapterRoot,
      keepAdapter: false,
    },
    signal: controller.signal,
    ...(options.timeLimit
      ? {
          deadline: {
            at: started + options.timeLimit * 1000,
            // Scaled by how the finished runs compared with their estimates, once there are some.
            seconds: (job: PoolJob) => {
              const seconds = perRunSeconds(job.runId);
              return seconds === null ? null : seconds * (paceRatio(finishedTimes) ?? 1);
            },
          },
        }
      : {}),
    events: {
      onStart(job, pid, backend) {
        pids.set(job.runId, pid);
        say(`  start ${job.label} (run ${job.runId}) on worker ${pid}, backend ${backend}`);
        emit({ event: 'start', run_id: job.runId, label: job.label, worker_pid: pid, backend });
      },
      onProgress(job, progress) {
        // One line when training begins (not per step): enough to follow a grid from a script.
        if (progress.phase === 'train' && progress.step === 1) emit({ event: 'training', run_id: job.runId, worker_pid: pids.get(job.runId) ?? null });
      },
      onFinish(result: JobResult) {
        completed += 1;
        const runEstimate = runEstimates.get(result.job.runId) ?? null;
        if (remainingEstimate !== null) remainingEstimate = Math.max(0, remainingEstimate - (runEstimate ?? 0));
        // A diverged or failed run stops early: it says nothing of the machine's pace.
        if (result.status === 'ok') finishedTimes.push({ seconds: result.seconds, estimated: runEstimate });
        const elapsed = (Date.now() - started) / 1000;
        // The estimate of what is left, corrected by how the finished runs compared with theirs; without
        // estimates, the pool's own pace.
        const eta =
          (remainingEstimate !== null ? remainingWallSeconds(remainingEstimate, finishedTimes, options.workers) : null) ??
          (elapsed / completed) * (todo.length - completed);
        const score = result.status === 'ok' ? formatNumber(result.primary) : `${result.status}: ${firstLine(result.reason)}`;
        // The estimate beside the time taken, and the load it was taken under, so the estimator can be checked.
        const estimated = perRunSeconds(result.job.runId);
        const load = os.loadavg()[0]!;
        say(
          `[${completed}/${todo.length}] ${result.job.label}: ${score} (${result.seconds.toFixed(0)} s` +
            `${estimated !== null ? `, estimated ${estimated.toFixed(0)} s` : ''}, load ${load.toFixed(1)}) ETA ${formatDuration(eta)}`,
        );
        emit({ event: 'finish', run_id: result.job.runId, status: result.status, reason: result.reason, primary: result.primary, path: result.path, seconds: result.seconds, estimated_seconds: estimated, load_average: load });
      },
      onCrash(job, description, retrying) {
        say(`  ${job.label}: ${description}; ${retrying ? 'retrying it' : 'recording it as failed'}`);
        emit({ event: 'crash', run_id: job.runId, description, retrying });
      },
    },
  });
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);
  const failed = summary.results.filter((r) => r.status === 'failed').length;
  const diverged = summary.results.filter((r) => r.status === 'diverged').length;
  say(
    `${summary.interrupted ? 'stopped' : 'done'}: ${summary.results.length} runs finished (${failed} failed, ${diverged} diverged) in ${formatDuration((Date.now() - started) / 1000)}` +
      `${summary.interrupted ? `; ${summary.unfinished.length} not finished: run the same command again to resume` : ''}` +
      `${!summary.interrupted && summary.deferred.length ? `; ${summary.deferred.length} left for next time (estimated to end after the --time-limit of ${formatDuration(options.timeLimit ?? 0)}): run the same command again` : ''}`,
  );
  emit({ event: 'summary', finished: summary.results.length, failed, diverged, interrupted: summary.interrupted, unfinished: summary.unfinished.length, deferred: summary.deferred.length });
  if (summary.interrupted) return 130;
  return failed > 0 ? 1 : 0;
}

function firstLine(text: string | null): string {
  return (text ?? '').split('\n')[0]!.slice(0, 160);
}

/** The plan's estimate from `timings` (already at this CPU's pace), and the sentence that says where it came from. */
function estimateFor(
  runs: ResolvedRun[],
  timings: Timing[],
  asMeasured: Timing[],
  pace: CpuPace | null,
  options: GridCommandOptions,
): { wall: number; total: number; basis: string; pace: CpuPace | null } | null {
  const workers = Math.max(1, options.workers);
  const measured = estimateGrid(runs, timings, workers);
  if (measured) {
    const sources = `${timings.length} finished runs in ${[options.outDir, ...options.finishedIn].join(', ')}${measured.unmeasured ? `, ${measured.unmeasured} runs without a close match` : ''}`;
    const anywhere = pace ? estimateGrid(runs, asMeasured, workers) : null;
    const onThisCpu = pace
      ? `; records made on other CPUs taken at this CPU's pace, ${pace.cpu}: the ${pace.configurations} configurations measured on it and on another CPU trained ${pace.slower >= 1 ? `${pace.slower.toFixed(2)}x slower` : `${(1 / pace.slower).toFixed(2)}x faster`} here (median)${anywhere ? `; ${formatDuration(anywhere.wallSeconds)} with every record at its own CPU's pace` : ''}`
      : '';
    return {
      wall: measured.wallSeconds,
      total: measured.totalSeconds,
      basis: `from the training tokens/s, tokens per row, evaluation and setup seconds of ${sources}${onThisCpu}`,
      pace,
    };
  }
  if (options.perRunSeconds !== null) {
    const total = options.perRunSeconds * runs.length;
    return { wall: total / Math.min(workers, Math.max(1, runs.length)), total, basis: `assuming ${options.perRunSeconds} s per run`, pace: null };
  }
  return null;
}
