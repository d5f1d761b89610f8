// `pnpm bench export-methods`: writes packages/results/src/methods.json, the method definitions'
// descriptions (id, rank field and meaning, baseline, lrScale, hyperparameters with defaults), each
// model's default learning rate, the default protocol and model, the leaderboard grid's size and the
// learning-rate search's plan, for readers that must not load TensorFlow.js (aggregation, the site).
// A bench test fails when the file is out of date.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadRegistry } from '@peft-bench/methods';
import { REPO_ROOT } from '../run/code-version.ts';
import { DEFAULT_PROTOCOL, PROTOCOLS, readChosenLr, TRAINING_DEFAULTS, trainingDefaults, type ChosenLrFile } from '../run/defaults.ts';
import { DEFAULT_MODEL_ID } from '../run/models.ts';
import { expandGrid, findGridFile, loadGrid, type RunRequest } from '../grid/grid.ts';
import { readEquivalence } from '../grid/equivalence.ts';
import { loadCatalog } from '../run/registries.ts';
import { resolveRequests } from '../run/resolve.ts';
import { runKeyOf } from '@peft-bench/results/record/verify';

/** The grid whose records make the default scope (`default_protocol` on `default_model`). */
const LEADERBOARD_GRID = 'leaderboard';

/**
 * The leaderboard grid's size: its distinct runs (a run two blocks request is one run, as when the grid
 * runs: a run at a method's chosen rate is the search's run at that factor), and their run keys (the run
 * id without the code version, record/verify.ts runKeyOf), so readers can say how much of it is recorded
 * without expanding grids themselves.
 */
async function leaderboardGrid(methods: Parameters<typeof expandGrid>[1], chosen: ChosenLrFile['chosen']) {
  const grid = loadGrid(findGridFile(LEADERBOARD_GRID));
  const factorOf = (request: RunRequest) =>
    request.lr !== null ? null : request.lrFactor ?? chosen[`${request.protocol ?? DEFAULT_PROTOCOL}/${request.model ?? DEFAULT_MODEL_ID}`]?.[request.method]?.factor ?? 1;
  const requests = expandGrid(grid, methods);
  const runs = new Set(requests.map(({ experiment: _block, ...request }) => JSON.stringify({ ...request, lrFactor: factorOf(request as RunRequest) })));
  // The key leaves the code version out, so any will do here.
  const resolved = await resolveRequests(requests, await loadCatalog(), { codeVersion: 'any', defaultModel: 'default' });
  const runKeys = [...new Set(resolved.map((run) => runKeyOf(run.spec)))].sort();
  return { name: grid.name, protocol: grid.defaults?.protocol ?? DEFAULT_PROTOCOL, model: grid.defaults?.model ?? DEFAULT_MODEL_ID, runs: runs.size, run_keys: runKeys };
}

/** The grid each method's default learning rate is chosen from, on valid (`pnpm bench choose-lr`). */
const LR_SEARCH_GRID = 'leaderboard-lr';

/**
 * The learning-rate search's plan: its scope, seeds, tasks and factors of the declared rate, and the
 * rank each method is searched at (null: a method without one), so readers can find its runs among
 * the records (aggregate/lr-choice.ts) without resolving the grid.
 */
function lrSearch(methods: Parameters<typeof expandGrid>[1]) {
  const grid = loadGrid(findGridFile(LR_SEARCH_GRID));
  const requests = expandGrid(grid, methods);
  const sorted = <T extends number | string>(values: T[]) => [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const ranks: Record<string, number | null> = {};
  for (const r of requests) {
    if (r.method in ranks && ranks[r.method] !== r.rank) throw new Error(`grid ${grid.name}: ${r.method} is searched at more than one rank; the search is at one rank per method`);
    ranks[r.method] = r.rank;
  }
  return {
    grid: grid.name,
    protocol: grid.defaults?.protocol ?? DEFAULT_PROTOCOL,
    model: grid.defaults?.model ?? DEFAULT_MODEL_ID,
    seeds: sorted(requests.map((r) => r.seed)),
    tasks: sorted(requests.map((r) => r.task)),
    factors: sorted(requests.map((r) => r.lrFactor ?? 1)),
    ranks: Object.fromEntries(Object.entries(ranks).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

export const METHODS_JSON = path.join(REPO_ROOT, 'packages/results/src/methods.json');

/** The file's text, from the registered methods and the learning rates chosen so far. */
export async function methodsJsonText(chosen: ChosenLrFile = readChosenLr()): Promise<string> {
  const registry = await loadRegistry();
  const catalogue = {
    note: 'Written by `pnpm bench export-methods` from the method definitions (packages/methods/<id>/index.ts); do not edit.',
    // What a run uses when none is named: readers show this protocol on this model first (the default scope).
    default_protocol: DEFAULT_PROTOCOL,
    default_model: DEFAULT_MODEL_ID,
    leaderboard_grid: await leaderboardGrid(registry.list(), chosen.chosen),
    // The learning-rate search each method's default rate is chosen from on valid (grids/leaderboard-lr.yaml).
    lr_search: lrSearch(registry.list()),
    // Per protocol, per model (a model without an entry trains as the naive model).
    training_lr: Object.fromEntries(
      PROTOCOLS.map((protocol) => [protocol, Object.fromEntries(Object.entries(TRAINING_DEFAULTS[protocol]).map(([model, t]) => [model, t.lr]))]),
    ),
    fallback_training_lr: Object.fromEntries(PROTOCOLS.map((protocol) => [protocol, trainingDefaults('\0no such model', protocol).lr])),
    // The batch size and maximum steps of each protocol, per model (a model without an entry trains as the
    // naive model): a configuration trained otherwise is a study of the protocol, not a leaderboard candidate.
    protocol_training: Object.fromEntries(
      PROTOCOLS.map((protocol) => [protocol, Object.fromEntries(Object.entries(TRAINING_DEFAULTS[protocol]).map(([model, t]) => [model, { batch_size: t.batch_size, steps: t.steps }]))]),
    ),
    // Learning rates chosen on valid (packages/bench/chosen-lr.json), by `<protocol>/<model>` then method.
    chosen_lr: Object.fromEntries(Object.entries(chosen.chosen).map(([scope, byMethod]) => [scope, Object.fromEntries(Object.entries(byMethod).map(([m, e]) => [m, e.lr]))])),
    // Code versions checked result-equivalent (packages/bench/code-equivalence.json): readers count a record
    // made under an older equivalent version as made under the current one, as the grid does.
    code_equivalence: readEquivalence().map((e) => ({ from: e.from, to: e.to })),
    methods: registry.list(),
  };
  return `${JSON.stringify(catalogue, null, 2)}\n`;
}

/** Rewrites methods.json whole (through a temporary file, so a reader never sees half of it); returns its text. */
export async function writeMethodsJson(): Promise<string> {
  const text = await methodsJsonText();
  const tmp = `${METHODS_JSON}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, METHODS_JSON);
  return text;
}

export async function exportMethodsCommand(): Promise<number> {
  const text = await writeMethodsJson();
  process.stdout.write(`wrote ${path.relative(process.cwd(), METHODS_JSON)} (${JSON.parse(text).methods.length} methods)\n`);
  return 0;
}
