// The root command's action: --list, --grid, or single runs. Everything is resolved and checked
// first; only then does anything train.
import * as path from 'node:path';
import { expandGrid, findGridFile, loadGrid, selectExperiments } from '../grid/grid.ts';
import { codeVersion } from '../run/code-version.ts';
import { attachEquivalentIds } from '../grid/equivalence.ts';
import { readChosenLr, SMOKE_OVERRIDES, SMOKE_TASK_KNOBS } from '../run/defaults.ts';
import { defaultRateRequests, waitingForLr } from '../grid/lr-wait.ts';
import { resolveGridRuns } from '../grid/resolve-grid.ts';
import { loadCatalog, backendChoices } from '../run/registries.ts';
import { DEFAULT_MAX_EXCLUDED, precheckRuns } from '../run/precheck.ts';
import { findMethod, findTask, InputError, resolveRequests } from '../run/resolve.ts';
import type { TrainingSettings } from '../run/spec.ts';
import { defaultWorkers, reportError } from './errors.ts';
import { gridCommand, parseShard } from './grid-command.ts';
import { listCommand } from './list.ts';
import { checkDataDir, runCommand, singleRequests } from './run-command.ts';
import { numericKnobs, parseDuration, parseIdList, parsePositiveInt, parsePositiveNumber, parseSeeds, parseSets } from './values.ts';

export interface MainOptions {
  method?: string;
  rank?: string;
  task?: string;
  seeds: string;
  lr?: string;
  steps?: string;
  batch?: string;
  microBatch?: string;
  model: string;
  protocol?: string;
  dataDir?: string;
  set: string[];
  knob: string[];
  out: string;
  backend?: string;
  threads?: string;
  json?: boolean;
  list?: boolean;
  force?: boolean;
  smoke?: boolean;
  keepAdapters?: string;
  grid?: string;
  workers?: string;
  fused?: boolean;
  dryRun?: boolean;
  /** With --grid: run the runs that wait for a chosen learning rate at the declared rates instead. */
  declaredLr?: boolean;
  maxExcluded?: string;
  perRunSeconds?: string;
  /** With --grid: start no run estimated to end after this long (e.g. 2h30m). */
  timeLimit?: string;
  finishedIn?: string[];
  /** With --grid: only these experiment blocks (comma-separated). */
  experiments?: string;
  shard?: string;
  plan?: boolean;
  shards?: string;
}

export async function mainCommand(options: MainOptions): Promise<number> {
  try {
    return await main(options);
  } catch (error) {
    return reportError(error);
  }
}

function checkBackend(name: string | undefined): void {
  if (name === undefined) return;
  const choices = backendChoices();
  if (!choices.includes(name)) {
    throw new InputError(`Unknown backend "${name}". Valid backends: ${choices.join(', ')} (default: the fastest one available here).`);
  }
}

function trainingOverrides(options: MainOptions): Partial<TrainingSettings> {
  const out: Partial<TrainingSettings> = {};
  if (options.steps !== undefined) out.steps = parsePositiveInt('--steps', options.steps, { allowZero: true });
  if (options.batch !== undefined) out.batch_size = parsePositiveInt('--batch', options.batch);
  if (options.microBatch !== undefined) out.micro_batch_size = parsePositiveInt('--micro-batch', options.microBatch);
  if (out.batch_size !== undefined && out.micro_batch_size === undefined) out.micro_batch_size = out.batch_size;
  return out;
}

async function main(options: MainOptions): Promise<number> {
  checkBackend(options.backend);
  if (options.timeLimit !== undefined && options.grid === undefined) throw new InputError('--time-limit applies to --grid only.');
  if (options.declaredLr && options.grid === undefined) throw new InputError('--declared-lr applies to --grid only: a single run without --lr uses the chosen rate where there is one, else the declared rate.');
  const catalog = await loadCatalog();
  if (options.list) return listCommand(catalog, { json: options.json === true });

  const threads = options.threads !== undefined ? parseThreads(options.threads) : null;
  const maxExcluded = options.maxExcluded !== undefined ? parseShare('--max-excluded', options.maxExcluded) : DEFAULT_MAX_EXCLUDED;
  if (options.dataDir !== undefined) {
    const problem = checkDataDir(options.dataDir);
    if (problem) throw new InputError(`${problem}. Give a readable directory holding the real-tier datasets (see the datasets' MANIFEST.md).`);
  }
  const dataDir = options.dataDir ?? process.env.PEFT_BENCH_DATA_DIR;
  const outDir = path.resolve(options.out);
  // Kept adapters (and `run:<id>` references) live beside the results directory unless --keep-adapters says where.
  const adapterRoot = options.keepAdapters ? path.resolve(options.keepAdapters) : path.join(path.dirname(outDir), '.adapters');

  if (options.grid !== undefined) {
    for (const flag of ['method', 'rank', 'task', 'lr', 'steps'] as const) {
      if (options[flag] !== undefined) throw new InputError(`--${flag} does not apply to --grid: the grid file sets it (edit the grid, or run without --grid).`);
    }
    let gridFile: string;
    try {
      gridFile = findGridFile(options.grid);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    let grid;
    try {
      grid = loadGrid(gridFile);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    if (options.experiments !== undefined) {
      try {
        grid = selectExperiments(grid, parseIdList('--experiments', options.experiments));
      } catch (error) {
        throw new InputError((error as Error).message);
      }
    }
    const methods = catalog.methods().map((method) => ({ id: method.id, rankParam: method.rankParam }));
    let requests;
    const warnings: string[] = [];
    try {
      requests = expandGrid(grid, methods, warnings);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    for (const warning of warnings) process.stderr.write(`warning: grid ${grid.name}, ${warning}\n`);
    const runs = await resolveRequests(requests, catalog, { codeVersion, defaultModel: options.model });
    await attachEquivalentIds(runs, (versionOf) => resolveRequests(requests!, catalog, { codeVersion: versionOf, defaultModel: options.model }));
    let toRun = runs;
    if (grid.lr_search) {
      const search = await resolveGridRuns(grid.lr_search).catch((error: Error) => {
        throw new InputError(`Grid ${grid.name}'s lr_search: ${error.message}`);
      });
      const defaultRateRuns = await resolveRequests(defaultRateRequests(requests), catalog, { codeVersion, defaultModel: options.model });
      const { waiting, methods } = waitingForLr(runs, defaultRateRuns, search.runs, readChosenLr().chosen);
      if (waiting.length > 0 && options.declaredLr !== true) {
        process.stderr.write(
          `${waiting.length} of grid ${grid.name}'s runs wait for their method's learning rate to be chosen on valid (${methods.join(', ')}): ` +
            `run \`pnpm bench --grid ${grid.lr_search}\`, then \`pnpm bench choose-lr --write\`, then this grid again` +
            `${options.dryRun ? '' : '; the others run now'} (--declared-lr runs them at the declared rates instead).\n`,
        );
        // A dry run still lists and estimates the whole grid.
        if (!options.dryRun) toRun = runs.filter((run) => !waiting.includes(run));
      }
    }
    const workers = options.workers !== undefined ? parsePositiveInt('--workers', options.workers) : defaultWorkers();
    if (options.plan && options.shards === undefined) throw new InputError('--plan needs --shards <n> (the number of CI shards).');
    const checked = await precheckRuns(toRun, { outDir, backend: options.backend, threads: threads ?? 1, dataDir, maxExcluded });
    for (const note of checked.notes) process.stderr.write(`${note}\n`);
    return gridCommand(toRun, {
      gridName: grid.name,
      headExperiments: grid.experiments.filter((block) => block.first).map((block) => block.name),
      outDir,
      workers,
      threads: threads ?? 1,
      backend: options.backend,
      dataDir,
      adapterRoot,
      json: options.json === true,
      dryRun: options.dryRun === true,
      mode: options.fused ? 'fused' : 'single',
      finishedIn: (options.finishedIn ?? []).map((dir) => path.resolve(dir)),
      shard: options.shard !== undefined ? parseShard(options.shard) : null,
      plan: options.plan ? { shards: parsePositiveInt('--shards', options.shards!) } : null,
      perRunSeconds: options.perRunSeconds !== undefined ? parsePositiveNumber('--per-run-seconds', options.perRunSeconds) : null,
      timeLimit: options.timeLimit !== undefined ? parseDuration('--time-limit', options.timeLimit) : null,
    });
  }

  if (options.method === undefined) {
    throw new InputError(
      `Missing --method. Valid methods: ${catalog.methods().map((method) => method.id).join(', ')}. Example: pnpm bench --method lora --rank 64 (see --help).`,
    );
  }
  const method = findMethod(catalog, options.method);
  const rank = options.rank !== undefined ? parsePositiveInt('--rank', options.rank) : null;
  const tasks = options.task !== undefined
    ? parseIdList('--task', options.task)
    : catalog.tasks().filter((task) => task.tier === 'synthetic').map((task) => task.id);
  for (const id of tasks) findTask(catalog, id);
  const smokeTasks = options.smoke ? tasks.slice(0, 1) : tasks;
  const knobs = parseSets(options.knob);
  const requests = singleRequests({
    method: method.id,
    rank,
    tasks: smokeTasks,
    seeds: options.smoke ? [0] : parseSeeds(options.seeds),
    lr: options.lr !== undefined ? parsePositiveNumber('--lr', options.lr) : null,
    set: parseSets(options.set),
    training: { ...(options.smoke ? SMOKE_OVERRIDES : {}), ...trainingOverrides(options) },
    taskConfig: { ...(options.smoke ? SMOKE_TASK_KNOBS : {}), ...numericKnobs(knobs) },
    model: options.model,
    protocol: options.protocol ?? null,
    keepAdapters: options.keepAdapters !== undefined,
  });
  const runs = await resolveRequests(requests, catalog, { codeVersion, defaultModel: options.model });
  await attachEquivalentIds(runs, (versionOf) => resolveRequests(requests, catalog, { codeVersion: versionOf, defaultModel: options.model }));
  return runCommand(runs, {
    dryRun: options.dryRun === true,
    maxExcluded,
    outDir,
    backend: options.backend,
    threads: threads ?? defaultWorkers(),
    dataDir,
    adapterRoot,
    json: options.json === true,
    force: options.force === true,
  });
}

/** OpenBLAS threads: the backend accepts 1..64 (more than the cores only adds contention). */
const MAX_THREADS = 64;

function parseThreads(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw new InputError(`Invalid --threads "${text}": expected an integer from 1 to ${MAX_THREADS} (this machine has ${defaultWorkers()} cores; default: all of them for one run, 1 per grid worker).`);
  }
  return value;
}

function parseShare(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InputError(`Invalid ${flag} "${text}": expected a share from 0 to 1 (e.g. 0.2 = at most 20% of a split excluded).`);
  }
  return value;
}
