// `pnpm bench grid-speed`: trained runs per hour on a fixed sample of the leaderboard grid, the figure
// that matters for running the grid. The sample is deterministic and independent of the code version
// (run ids change with the code; the sample is chosen from the grid's requests): SAMPLE_CELLS cells
// (method x task x seed, the unit a grid worker can group) drawn with a seeded shuffle, and up to
// RUNS_PER_CELL of each cell's runs (its ranks and learning rates), until SAMPLE_RUNS runs. Runs that
// read another run's adapter or do not train are left out of the draw. Records go to a scratch
// directory (never results/); the figures are printed and written beside them as speed.json.
// Modes: baseline (each run alone, nothing kept between runs: how grids ran before fused runs and
// worker caches), single (each run alone; workers keep task splits between runs of a task and
// seed), fused (compatible runs train together, run/fused.ts). Besides wall time it reports the
// workers' CPU seconds: on a machine shared with other jobs wall time follows the load, while CPU
// seconds per run, and the runs/hour they imply on that many idle cores, move far less.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { uniformStream } from '@peft-bench/core/model/rng';
import { resolveGridRuns } from '../grid/resolve-grid.ts';
import { runPool, type JobResult, type PoolJob } from '../grid/pool.ts';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { loadRecordFile } from '@peft-bench/results/record/store';
import { codeVersion } from '../run/code-version.ts';
import { InputError, type ResolvedRun } from '../run/resolve.ts';
import { defaultWorkers, reportError } from './errors.ts';
import { parsePositiveInt } from './values.ts';

export const SAMPLE_RUNS = 40;
export const RUNS_PER_CELL = 4;
export const SAMPLE_SEED = 20261202;

export interface GridSpeedFlags {
  grid: string;
  out?: string;
  workers?: string;
  mode: string;
  runs?: string;
  seed?: string;
  json?: boolean;
  dryRun?: boolean;
  /** Comma-separated method ids: only the sample's runs of these methods (the sample itself is unchanged). */
  only?: string;
}

export type ExecutionMode = 'baseline' | 'single' | 'fused';

/** The cell a run belongs to: runs of one cell share the method, task, seed and model. */
export function cellOf(run: Pick<ResolvedRun, 'spec'>): string {
  return `${run.spec.method.id}|${run.spec.task.id}|${run.spec.seed}|${run.spec.model.id}`;
}

/**
 * The fixed sample: cells in a seeded order, up to RUNS_PER_CELL runs of each (in a seeded order
 * within the cell), until `count` runs. Everything keys on the spec's content minus the code
 * version, so the same runs are drawn before and after a code change.
 */
export function sampleRuns(runs: ResolvedRun[], count: number, seed: number): ResolvedRun[] {
  const eligible = runs.filter((run) => run.dependsOn.length === 0 && run.spec.training.steps > 0);
  const key = (run: ResolvedRun) => `${run.spec.method.rank ?? '-'}|${run.spec.training.lr}|${JSON.stringify(run.spec.method.config)}`;
  const cells = new Map<string, ResolvedRun[]>();
  for (const run of eligible) {
    const list = cells.get(cellOf(run)) ?? [];
    list.push(run);
    cells.set(cellOf(run), list);
  }
  const random = uniformStream(seed >>> 0);
  const shuffle = <T>(items: T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  const picked: ResolvedRun[] = [];
  for (const cell of shuffle([...cells.keys()].sort())) {
    const members = shuffle(cells.get(cell)!.sort((a, b) => key(a).localeCompare(key(b))));
    for (const run of members.slice(0, RUNS_PER_CELL)) {
      if (picked.length < count) picked.push(run);
    }
    if (picked.length >= count) break;
  }
  return picked;
}

function load(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ');
}

function parseMode(text: string): ExecutionMode {
  if (text === 'baseline' || text === 'single' || text === 'fused') return text;
  throw new InputError(
    `Invalid --mode "${text}": expected baseline (each run alone, no caches between runs), single (each run alone, workers keep task splits) or fused (compatible runs of a cell train together in one worker).`,
  );
}

export async function gridSpeedCommand(flags: GridSpeedFlags): Promise<number> {
  try {
    const mode = parseMode(flags.mode);
    const count = flags.runs !== undefined ? parsePositiveInt('--runs', flags.runs) : SAMPLE_RUNS;
    const seed = flags.seed !== undefined ? parsePositiveInt('--seed', flags.seed) : SAMPLE_SEED;
    const workers = flags.workers !== undefined ? parsePositiveInt('--workers', flags.workers) : defaultWorkers();
    const { grid, catalog, runs } = await resolveGridRuns(flags.grid);
    const methods = catalog.methods().map((method) => ({ id: method.id, rankParam: method.rankParam }));
    const drawn = sampleRuns(runs, count, seed);
    const only = flags.only === undefined ? null : new Set(flags.only.split(',').map((id) => id.trim()).filter(Boolean));
    if (only) {
      const unknown = [...only].filter((id) => !methods.some((m) => m.id === id));
      if (unknown.length) throw new InputError(`--only: unknown method(s) ${unknown.join(', ')}. Valid methods: ${methods.map((m) => m.id).join(', ')}.`);
    }
    const sample = only ? drawn.filter((run) => only.has(run.spec.method.id)) : drawn;
    const say = (text: string) => {
      if (!flags.json) process.stderr.write(`${text}\n`);
    };
    const composition = new Map<string, number>();
    for (const run of sample) composition.set(run.spec.method.id, (composition.get(run.spec.method.id) ?? 0) + 1);
    say(
      `grid-speed: ${sample.length} runs of grid ${grid.name} (sample seed ${seed}: cells of method x task x seed, up to ${RUNS_PER_CELL} runs each), ` +
        `mode ${mode}, ${workers} worker(s) x 1 thread${only ? `; only its runs of ${[...only].join(', ')} (${sample.length} of ${drawn.length})` : ''}`,
    );
    say(`  methods: ${[...composition].map(([id, n]) => `${id} ${n}`).join(', ')}`);
    if (flags.dryRun) {
      for (const run of sample) say(`  ${run.label}`);
      return 0;
    }
    const outDir = path.resolve(flags.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'peft-grid-speed-')));
    if (path.resolve(outDir) === path.resolve('results')) throw new InputError('--out must be a scratch directory, not results/.');
    fs.mkdirSync(outDir, { recursive: true });
    const loadBefore = load();
    say(`  scratch dir ${outDir}; load average before: ${loadBefore}`);
    const jobs: PoolJob[] = sample.map((run) => ({
      runId: run.runId,
      spec: run.spec,
      meta: run.meta,
      label: run.label,
      modelSource: run.modelSource,
      keepAdapter: false,
      dependsOn: [],
    }));
    // Workers inherit the environment: baseline turns their caches off.
    if (mode === 'baseline') process.env.PEFT_BENCH_SETUP_CACHE = 'off';
    const started = performance.now();
    const results: JobResult[] = [];
    // Stopped early (Ctrl-C, SIGTERM): the figures of the runs finished so far are still reported, marked interrupted.
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const summary = await runPool(jobs, {
      workers,
      mode,
      signal: controller.signal,
      worker: { outDir, backend: undefined, threads: 1, dataDir: process.env.PEFT_BENCH_DATA_DIR, adapterRoot: path.join(outDir, '.adapters'), keepAdapter: false },
      events: {
        onFinish(result) {
          results.push(result);
          say(`  [${results.length}/${sample.length}] ${result.job.label}: ${result.status} (${result.seconds.toFixed(1)} s)`);
        },
      },
    });
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    const wall = (performance.now() - started) / 1000;
    const loadAfter = load();
    const rows = results.map((result) => {
      // Read and verified by the results package, as every other reader does.
      const loaded = result.path ? loadRecordFile(result.path) : null;
      const record: RunRecord | null = loaded?.ok ? loaded.record : null;
      const train = record?.cost.train_seconds ?? 0;
      const evalSeconds = record?.cost.eval_seconds ?? 0;
      const execution = (record?.provenance as { execution?: { mode: string; group_size: number } } | undefined)?.execution;
      return {
        run_id: result.job.runId,
        label: result.job.label,
        status: result.status,
        mode: execution?.mode ?? 'single',
        group_size: execution?.group_size ?? 1,
        seconds: result.seconds,
        cpu_seconds: result.cpuSeconds ?? null,
        train_seconds: train,
        eval_seconds: evalSeconds,
        setup_seconds: Math.max(0, result.seconds - train - evalSeconds),
        peak_rss_mib: (record?.cost.peak_memory_bytes ?? 0) / 2 ** 20,
        primary: record?.metrics.primary ?? null,
      };
    });
    const sum = (pick: (row: (typeof rows)[number]) => number) => rows.reduce((a, row) => a + pick(row), 0);
    const cpuTotal = sum((r) => r.cpu_seconds ?? 0);
    const report = {
      grid: grid.name,
      sample_seed: seed,
      only: only ? [...only] : null,
      runs: rows.length,
      mode,
      workers,
      wall_seconds: wall,
      runs_per_hour: (rows.length / wall) * 3600,
      cpu_seconds: cpuTotal,
      mean_cpu_seconds: cpuTotal / Math.max(1, rows.length),
      /** Runs per hour on `workers` idle cores, from the CPU seconds the runs took. */
      cpu_runs_per_hour: cpuTotal > 0 ? (rows.length / cpuTotal) * 3600 * workers : null,
      mean_train_seconds: sum((r) => r.train_seconds) / Math.max(1, rows.length),
      mean_eval_seconds: sum((r) => r.eval_seconds) / Math.max(1, rows.length),
      mean_setup_seconds: sum((r) => r.setup_seconds) / Math.max(1, rows.length),
      max_peak_rss_mib: Math.max(0, ...rows.map((r) => r.peak_rss_mib)),
      load_before: loadBefore,
      load_after: loadAfter,
      failed: rows.filter((r) => r.status === 'failed').length,
      interrupted: summary.interrupted,
      code_version: codeVersion(sample[0]?.spec.method.id ?? 'lora'),
      out_dir: outDir,
      per_run: rows,
    };
    fs.writeFileSync(path.join(outDir, 'speed.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      say('\n| run | mode (group) | status | train s | eval s | setup s | CPU s | peak RSS MiB |');
      say('|---|---|---|---:|---:|---:|---:|---:|');
      for (const r of rows) {
        say(
          `| ${r.label} | ${r.mode} (${r.group_size}) | ${r.status} | ${r.train_seconds.toFixed(1)} | ${r.eval_seconds.toFixed(1)} | ${r.setup_seconds.toFixed(1)} | ` +
            `${r.cpu_seconds === null ? '?' : r.cpu_seconds.toFixed(1)} | ${r.peak_rss_mib.toFixed(0)} |`,
        );
      }
      say(
        `\n${summary.interrupted ? `interrupted: ${rows.length} of ${sample.length}` : rows.length} runs in ${wall.toFixed(0)} s wall on ${workers} worker(s), mode ${mode}: ${report.runs_per_hour.toFixed(1)} runs/hour; ` +
          `per run mean train ${report.mean_train_seconds.toFixed(1)} s, eval ${report.mean_eval_seconds.toFixed(1)} s, setup ${report.mean_setup_seconds.toFixed(1)} s; ` +
          `${cpuTotal.toFixed(0)} CPU s (${report.mean_cpu_seconds.toFixed(1)} per run: ${report.cpu_runs_per_hour?.toFixed(1) ?? '?'} runs/hour on ${workers} idle core(s)); ` +
          `peak RSS ${report.max_peak_rss_mib.toFixed(0)} MiB; load average before ${loadBefore}, after ${loadAfter}; ${report.failed} failed`,
      );
    }
    return report.failed > 0 ? 1 : 0;
  } catch (error) {
    return reportError(error);
  }
}
