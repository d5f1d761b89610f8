// `pnpm bench choose-lr`: each method's default learning rate under a protocol, chosen on the
// validation split from a learning-rate search grid (leaderboard-lr: x0.25, x1, x4 of the declared
// rate at one rank, seed 0). Per task the factors are ranked by the primary metric on valid (a
// diverged or failed run ranks last); the factor with the best mean rank over the tasks is chosen,
// ties going to the factor nearest x1. The test split is never read. With --write the choice goes
// to packages/bench/chosen-lr.json (and methods.json), where new runs without an explicit lr use it.
// The rule itself is @peft-bench/results' aggregate/lr-choice.ts, which the site shares; this
// command knows the planned runs from the grid.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chooseFactor, trialScore, type LrChoice, type LrTrial } from '@peft-bench/results/aggregate/lr-choice';
import { loadRecordFile } from '@peft-bench/results/record/store';
import { resolveGridRuns } from '../grid/resolve-grid.ts';
import { CHOSEN_LR_FILE, declaredLr, isProtocol, readChosenLr, type ChosenLrFile } from '../run/defaults.ts';
import { InputError } from '../run/resolve.ts';
import { reportError } from './errors.ts';
import { METHODS_JSON, methodsJsonText } from './export-methods.ts';

export interface ChooseLrFlags {
  grid: string;
  results: string;
  write?: boolean;
  json?: boolean;
}

const cell = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v === Number.NEGATIVE_INFINITY ? 'div' : v.toFixed(3));

export async function chooseLrCommand(flags: ChooseLrFlags): Promise<number> {
  try {
    if (!fs.existsSync(flags.results) || !fs.statSync(flags.results).isDirectory()) {
      throw new InputError(`--results ${flags.results}: no such directory (the run records, results/ by default)`);
    }
    const { grid, catalog, runs } = await resolveGridRuns(flags.grid);
    const methods = catalog.methods();
    if (runs.length === 0) throw new InputError(`grid ${grid.name} has no runs`);
    const trialsBy = new Map<string, LrTrial[]>();
    const metricOf = new Map(catalog.tasks().map((t) => [t.id, t.primaryMetric]));
    for (const run of runs) {
      const { spec } = run;
      const protocol = spec.protocol ?? 'fixed-300';
      if (!isProtocol(protocol)) throw new InputError(`grid ${grid.name}: unknown protocol ${protocol}`);
      const method = methods.find((m) => m.id === spec.method.id)!;
      const declared = declaredLr(spec.model.id, method, protocol);
      const factor = Number((spec.training.lr / declared).toPrecision(4));
      // The record under this code version, or under one checked equivalent to it.
      const file = [run.runId, ...(run.equivalentIds ?? [])].map((id) => path.join(flags.results, `${id}.json`)).find((f) => fs.existsSync(f));
      const loaded = file ? loadRecordFile(file) : null;
      if (loaded && !loaded.ok) process.stderr.write(`choose-lr: ignoring ${file}: ${loaded.message}\n`);
      const record = loaded?.ok ? loaded.record : null;
      const scope = `${protocol}/${spec.model.id}`;
      const key = `${scope}\0${spec.method.id}`;
      const list = trialsBy.get(key) ?? [];
      list.push({ method: spec.method.id, task: spec.task.id, factor, lr: spec.training.lr, valid: record ? trialScore(record) : null, status: record?.status ?? 'not run' });
      trialsBy.set(key, list);
    }
    const choices: LrChoice[] = [];
    for (const [key, trials] of trialsBy) {
      const [scope, method] = key.split('\0') as [string, string];
      const byFactor = new Map(trials.map((t) => [t.factor, t.lr]));
      choices.push(chooseFactor(method, scope, trials, (f) => byFactor.get(f)!));
    }
    choices.sort((a, b) => a.scope.localeCompare(b.scope) || a.method.localeCompare(b.method));

    if (flags.write) await writeChoices(choices, grid.name);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ grid: grid.name, selected_on: 'valid', choices: choices.map((c) => ({ ...c, valid: jsonSafe(c.valid) })) })}\n`);
      return 0;
    }
    const out: string[] = [];
    out.push(`Learning rates chosen on valid from grid ${grid.name} (seed 0; per task the factors ranked by the primary metric on valid, div = diverged ranks last; the best mean rank wins, ties go to the factor nearest x1). Test scores are not read.`);
    for (const c of choices) {
      const head = `${c.method} (${c.scope})`;
      const state = c.chosen ? `chosen x${c.chosen.factor} = lr ${c.chosen.lr}` : `not chosen: ${c.finished} of ${c.planned} runs finished`;
      out.push('', `${head}: ${state}`);
      out.push(`  | task (valid metric) | ${c.factors.map((f) => `x${f}`).join(' | ')} |`);
      for (const task of c.tasks) out.push(`  | ${task} (${metricOf.get(task)}) | ${c.factors.map((f) => cell(c.valid[task]?.[String(f)])).join(' | ')} |`);
      if (c.meanRank) out.push(`  | mean rank | ${c.factors.map((f) => c.meanRank![String(f)]!.toFixed(2)).join(' | ')} |`);
    }
    const done = choices.filter((c) => c.chosen).length;
    out.push('', `${done} of ${choices.length} methods have every search run finished${flags.write ? `; wrote ${path.relative(process.cwd(), CHOSEN_LR_FILE)} and ${path.relative(process.cwd(), METHODS_JSON)}` : ' (--write records the choices)'}.`);
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } catch (error) {
    return reportError(error);
  }
}

function jsonSafe(valid: LrChoice['valid']): Record<string, Record<string, number | string | null>> {
  return Object.fromEntries(Object.entries(valid).map(([t, byF]) => [t, Object.fromEntries(Object.entries(byF).map(([f, v]) => [f, v === Number.NEGATIVE_INFINITY ? 'diverged' : v]))]));
}

/** Adds the finished choices to chosen-lr.json (other entries kept), then refreshes methods.json; each file written whole. */
async function writeChoices(choices: LrChoice[], gridName: string): Promise<void> {
  const file: ChosenLrFile = readChosenLr();
  file.note = 'Learning rates chosen on valid by `pnpm bench choose-lr --write`; see packages/bench/src/cli/choose-lr.ts.';
  for (const c of choices) {
    if (!c.chosen || !c.meanRank) continue;
    (file.chosen[c.scope] ??= {})[c.method] = { lr: c.chosen.lr, factor: c.chosen.factor, grid: gridName, mean_valid_rank: c.meanRank, tasks: c.tasks };
  }
  const tmp = `${CHOSEN_LR_FILE}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  fs.renameSync(tmp, CHOSEN_LR_FILE);
  await refreshMethodsJson(file);
}

/** methods.json from the new choices (the process has the old chosen-lr.json cached). */
async function refreshMethodsJson(file: ChosenLrFile): Promise<void> {
  const tmp = `${METHODS_JSON}.tmp`;
  fs.writeFileSync(tmp, await methodsJsonText(file));
  fs.renameSync(tmp, METHODS_JSON);
}
