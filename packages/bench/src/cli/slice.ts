// `pnpm bench slice --run <run_id> --from 9 --to 64`: post-hoc scoring of singular components
// i..j of a trained low-rank update, or with `--complement-of <small run_id>` the part of the run's
// update outside the smaller run's subspaces (posthoc mode): the complement study's two methods. The source run's record gives task, seed, model
// and task knobs; its adapter must have been kept (--keep-adapters, or a grid block that keeps it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { study } from '@peft-bench/results/studies';
import { readFinished } from '@peft-bench/results/record/store';
import { codeVersion } from '../run/code-version.ts';
import { loadCatalog } from '../run/registries.ts';
import { findMethod, InputError, resolveRequests } from '../run/resolve.ts';
import { defaultWorkers, reportError } from './errors.ts';
import { runCommand } from './run-command.ts';
import { parsePositiveInt } from './values.ts';

export interface SliceFlags {
  run: string;
  from?: string;
  to?: string;
  complementOf?: string;
  results: string;
  out: string;
  adapters?: string;
  backend?: string;
  threads?: string;
  dataDir?: string;
  json?: boolean;
}

export async function sliceCommand(flags: SliceFlags): Promise<number> {
  try {
    const resultsDir = path.resolve(flags.results);
    const adapterRoot = flags.adapters ? path.resolve(flags.adapters) : path.join(path.dirname(resultsDir), '.adapters');
    const source = readFinished(resultsDir, flags.run);
    if (!source) throw new InputError(`No valid record for run ${flags.run} in ${resultsDir}: give --run the id of a finished run (its record file name) and --results its directory.`);
    const needAdapter = (id: string) => {
      if (!fs.existsSync(path.join(adapterRoot, id))) {
        throw new InputError(`Run ${id} has no kept adapter in ${adapterRoot}: run it again with --keep-adapters ${adapterRoot} (or pass --adapters <dir> where it was kept).`);
      }
    };
    needAdapter(flags.run);
    const catalog = await loadCatalog();
    // The complement study's methods: the part of an update outside another's subspaces, and SVD slices.
    const complementStudy = study('complement');
    let method: string;
    let set: Record<string, unknown>;
    if (flags.complementOf !== undefined) {
      needAdapter(flags.complementOf);
      method = findMethod(catalog, complementStudy.methods!.complement!).id;
      set = { mode: 'posthoc', small_adapter: `run:${flags.complementOf}`, large_adapter: `run:${flags.run}` };
    } else {
      if (flags.from === undefined || flags.to === undefined) throw new InputError('slice needs --from <i> and --to <j> (1-based, inclusive), or --complement-of <run_id>.');
      const from = parsePositiveInt('--from', flags.from);
      const to = parsePositiveInt('--to', flags.to);
      if (to < from) throw new InputError(`--to ${to} is below --from ${from}: components are kept from i to j inclusive.`);
      method = findMethod(catalog, complementStudy.methods!.slice!).id;
      set = { adapter: `run:${flags.run}`, from, to };
    }
    const runs = await resolveRequests(
      [
        {
          experiment: 'slice',
          method,
          rank: null,
          task: source.task.id,
          seed: source.seed,
          lr: null,
          lrFactor: null,
          set,
          // Scoring only: the update is fixed.
          training: { steps: 0 },
          taskConfig: source.task.config,
          model: source.model.id,
          keepAdapters: false,
        },
      ],
      catalog,
      { codeVersion, defaultModel: source.model.id },
    );
    return await runCommand(runs, {
      outDir: path.resolve(flags.out),
      backend: flags.backend,
      threads: flags.threads !== undefined ? parsePositiveInt('--threads', flags.threads) : defaultWorkers(),
      dataDir: flags.dataDir ?? process.env.PEFT_BENCH_DATA_DIR,
      adapterRoot,
      json: flags.json === true,
      force: false,
    });
  } catch (error) {
    return reportError(error);
  }
}
