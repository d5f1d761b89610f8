// Grids are data: a YAML file of experiment blocks (methods x ranks x tasks x seeds x learning
// rates, with per-method overrides) expanded here into run requests. Resolving a request into a
// full run spec (validated method config, task knobs, checkpoint hash) happens in run/resolve.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { REPO_ROOT } from '../run/code-version.ts';
import type { TrainingSettings } from '../run/spec.ts';
import type { MethodInfo } from '@peft-bench/results/method-info';
import { studies } from '@peft-bench/results/studies';

export const GRIDS_DIR = path.join(REPO_ROOT, 'packages/bench/grids');

const trainingOverrides = z
  .object({
    steps: z.number().int().nonnegative(),
    batch_size: z.number().int().positive(),
    micro_batch_size: z.number().int().positive(),
    schedule: z.enum(['constant', 'linear', 'cosine']),
    warmup_steps: z.number().int().nonnegative(),
    weight_decay: z.number().nonnegative(),
    grad_clip: z.number().positive().nullable(),
    max_seq_len: z.number().int().positive(),
    eval_every: z.number().int().nonnegative(),
    patience: z.number().int().positive(),
    min_rel_improvement: z.number().nonnegative().lt(1),
  })
  .partial()
  .strict();

const seeds = z.union([
  z.number().int().positive().describe('a count n: seeds 0..n-1'),
  z.array(z.number().int().nonnegative()).nonempty(),
]);

/** What a block (or a per-method override) may set; all optional, filled from the grid's defaults. */
const blockSettings = z
  .object({
    ranks: z.array(z.number().int().positive()).nonempty(),
    tasks: z.array(z.string()).nonempty(),
    seeds,
    /** Learning rates; absent = the method's default for the model. */
    lrs: z.array(z.number().positive()).nonempty(),
    /** Multiples of the method's default learning rate (a stability grid comparable across methods). */
    lr_factors: z.array(z.number().positive()).nonempty(),
    /** Method hyperparameters (as `--set key=value`). */
    set: z.record(z.string(), z.unknown()),
    training: trainingOverrides,
    /** Task knobs per task id. */
    task_config: z.record(z.string(), z.record(z.string(), z.unknown())),
    model: z.string(),
    /** Training protocol (run/defaults.ts): converge (default) or fixed-300. */
    protocol: z.enum(['converge', 'fixed-300']),
    /** Keep each run's trained adapter (for post-hoc slice scoring and subspace analysis). */
    keep_adapters: z.boolean(),
  })
  .partial()
  .strict();

const experiment = blockSettings
  .extend({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and dashes'),
    description: z.string().optional(),
    /** Method ids, or 'all' for every registered method. */
    methods: z.union([z.literal('all'), z.array(z.string()).nonempty()]),
    exclude_methods: z.array(z.string()).optional(),
    /** Skip (with a warning) methods of this block that are not registered, instead of failing. */
    skip_unregistered: z.boolean().optional(),
    /** Per-method settings that replace the block's (e.g. a lower learning rate for `full`). */
    overrides: z.record(z.string(), blockSettings).optional(),
    /**
     * Run this block's runs, every seed of them, before any other block's: a grid's head, e.g. one
     * configuration per method with all its seeds, so a grid stopped early has a complete comparison.
     */
    first: z.boolean().optional(),
  })
  .strict();

export const gridSchema = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    /**
     * The grid whose runs choose each method's default learning rate (`pnpm bench choose-lr --write`).
     * This grid's runs at a method's default rate wait until that method's rate is chosen: made
     * before, they would be made again at the chosen rate.
     */
    lr_search: z.string().optional(),
    defaults: blockSettings.optional(),
    experiments: z.array(experiment).nonempty(),
  })
  .strict();

/** A grid file: its own experiments, or (`studies: true`) the studies' blocks under its name, or both. */
const gridFileSchema = gridSchema
  .extend({ experiments: z.array(experiment).optional(), studies: z.literal(true).optional() })
  .refine((g) => g.studies === true || (g.experiments?.length ?? 0) > 0, { message: 'a grid needs experiment blocks or `studies: true`', path: ['experiments'] });

export type GridFile = z.infer<typeof gridSchema>;
export const STUDIES_DIR = path.join(REPO_ROOT, 'packages/results/studies');

/**
 * The experiment blocks the studies (packages/results/studies/<id>/grid.yaml) give a grid, in study
 * order: each study's list under the grid's name.
 */
export function studyBlocks(gridName: string, root = STUDIES_DIR): z.infer<typeof experiment>[] {
  const blocks: z.infer<typeof experiment>[] = [];
  for (const { id } of studies()) {
    const file = path.join(root, id, 'grid.yaml');
    if (!fs.existsSync(file)) continue;
    const parsed = z.record(z.string(), z.array(experiment)).safeParse(parseYaml(fs.readFileSync(file, 'utf8')) ?? {});
    if (!parsed.success) throw new Error(`study grid ${file} is invalid: ${describeIssues(parsed.error.issues)}`);
    blocks.push(...(parsed.data[gridName] ?? []));
  }
  return blocks;
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.slice(0, 6).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
}

type BlockSettings = z.infer<typeof blockSettings>;

/** One run before resolution: what the grid asked for. */
export interface RunRequest {
  experiment: string;
  method: string;
  /** null where the method takes no rank. */
  rank: number | null;
  task: string;
  seed: number;
  /** null = the method's default learning rate (times lrFactor). */
  lr: number | null;
  /** Multiple of the method's default learning rate; null = 1. Ignored when lr is set. */
  lrFactor: number | null;
  set: Record<string, unknown>;
  training: Partial<TrainingSettings>;
  taskConfig: Record<string, unknown>;
  model: string | null;
  /** null = the default protocol (run/defaults.ts). */
  protocol?: string | null;
  keepAdapters: boolean;
}

/** What expansion needs to know about the registered methods: whether each takes a rank. */
export type GridMethod = Pick<MethodInfo, 'id' | 'rankParam'>;

/** Finds a grid by name (`leaderboard` -> packages/bench/grids/leaderboard.yaml) or path. */
export function findGridFile(nameOrPath: string): string {
  const candidates = [nameOrPath, path.join(GRIDS_DIR, `${nameOrPath}.yaml`), path.join(GRIDS_DIR, `${nameOrPath}.yml`)];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return path.resolve(candidate);
  }
  throw new Error(
    `no grid named "${nameOrPath}": it is neither a file nor one of the grids in ${GRIDS_DIR} (${listGrids().join(', ') || 'none'}).`,
  );
}

export function listGrids(): string[] {
  if (!fs.existsSync(GRIDS_DIR)) return [];
  return fs
    .readdirSync(GRIDS_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => name.replace(/\.ya?ml$/, ''))
    .sort();
}

export function loadGrid(file: string): GridFile {
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`grid ${file} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = gridFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`grid ${file} is invalid: ${describeIssues(parsed.error.issues)}`);
  const { studies: fromStudies, experiments, ...rest } = parsed.data;
  const all = [...(experiments ?? []), ...(fromStudies ? studyBlocks(rest.name) : [])];
  const names = all.map((e) => e.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) throw new Error(`grid ${file}: two experiment blocks are named '${repeated}'`);
  const grid = gridSchema.safeParse({ ...rest, experiments: all });
  if (!grid.success) throw new Error(`grid ${file} is invalid: ${describeIssues(grid.error.issues)}`);
  return grid.data;
}

function seedList(value: number | number[]): number[] {
  return typeof value === 'number' ? Array.from({ length: value }, (_, i) => i) : value;
}

/**
 * The grid with only the named experiment blocks, in the grid's order (`--experiments`), so one
 * question's runs can be run alone. Runs shared with other blocks keep their ids: a run id is its spec.
 */
export function selectExperiments(grid: GridFile, names: readonly string[]): GridFile {
  const known = grid.experiments.map((block) => block.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new Error(`grid ${grid.name} has no experiment ${unknown.map((n) => `"${n}"`).join(', ')}. Its experiments: ${known.join(', ')}.`);
  }
  return { ...grid, experiments: grid.experiments.filter((block) => names.includes(block.name)) };
}

/**
 * Expands every experiment block into run requests: methods x ranks x tasks x seeds x lrs.
 * A method that takes no rank gets one rank `null` instead of the rank list. Unknown method ids
 * are an error naming the valid ones. Requests are returned seed by seed, in block order within a
 * seed, so a grid stopped early has covered its cells once before repeating any with another seed;
 * blocks marked `first` come before all of that, seed by seed among themselves. Duplicates across
 * blocks are kept here (they resolve to the same run id and run once, under the first block's name).
 */
export function expandGrid(grid: GridFile, methods: GridMethod[], warnings: string[] = []): RunRequest[] {
  const byId = new Map(methods.map((method) => [method.id, method]));
  const requests: RunRequest[] = [];
  const firstBlocks = new Set(grid.experiments.filter((block) => block.first).map((block) => block.name));
  for (const block of grid.experiments) {
    let requested = block.methods === 'all' ? methods.map((method) => method.id) : block.methods;
    if (block.skip_unregistered) {
      const missing = requested.filter((id) => !byId.has(id));
      if (missing.length > 0) warnings.push(`experiment ${block.name}: skipping unregistered method(s) ${missing.join(', ')}`);
      requested = requested.filter((id) => byId.has(id));
    }
    const excluded = new Set(block.exclude_methods ?? []);
    // Exclusions may name methods not registered (yet); only requested methods must exist.
    for (const id of requested) {
      if (!byId.has(id)) {
        throw new Error(
          `grid ${grid.name}, experiment ${block.name}: unknown method "${id}". Valid methods: ${methods.map((m) => m.id).join(', ')}.`,
        );
      }
    }
    for (const methodId of requested) {
      if (excluded.has(methodId)) continue;
      const settings = merge(grid.defaults ?? {}, block, block.overrides?.[methodId] ?? {});
      const where = `grid ${grid.name}, experiment ${block.name}, method ${methodId}`;
      if (!settings.tasks) throw new Error(`${where}: no tasks (set \`tasks\` in the block or in defaults).`);
      if (!settings.seeds) throw new Error(`${where}: no seeds (set \`seeds\` in the block or in defaults).`);
      const ranks: (number | null)[] = byId.get(methodId)!.rankParam !== null ? (settings.ranks ?? [null]) : [null];
      if (settings.lrs && settings.lr_factors) throw new Error(`${where}: set either lrs or lr_factors, not both.`);
      const lrs: { lr: number | null; lrFactor: number | null }[] = settings.lrs
        ? settings.lrs.map((lr) => ({ lr, lrFactor: null }))
        : (settings.lr_factors ?? [null]).map((lrFactor) => ({ lr: null, lrFactor }));
      for (const rank of ranks) {
        for (const task of settings.tasks) {
          for (const seed of seedList(settings.seeds)) {
            for (const { lr, lrFactor } of lrs) {
              requests.push({
                experiment: block.name,
                method: methodId,
                rank,
                task,
                seed,
                lr,
                lrFactor,
                set: settings.set ?? {},
                training: settings.training ?? {},
                taskConfig: settings.task_config?.[task] ?? {},
                model: settings.model ?? null,
                protocol: settings.protocol ?? null,
                keepAdapters: settings.keep_adapters ?? false,
              });
            }
          }
        }
      }
    }
  }
  // Array.prototype.sort is stable: block order holds within a seed.
  const head = (r: RunRequest) => (firstBlocks.has(r.experiment) ? 0 : 1);
  return requests.sort((a, b) => head(a) - head(b) || a.seed - b.seed);
}

/** Later layers replace earlier ones field by field; `set`, `training` and `task_config` merge. */
function merge(...layers: BlockSettings[]): BlockSettings {
  const out: BlockSettings = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined || !(key in blockSettings.shape)) continue;
      // A layer that picks lrs drops an inherited lr_factors and vice versa.
      if (key === 'lrs') delete out.lr_factors;
      if (key === 'lr_factors') delete out.lrs;
      if (key === 'set' || key === 'training' || key === 'task_config') {
        (out as Record<string, unknown>)[key] = { ...((out as Record<string, object>)[key] ?? {}), ...(value as object) };
      } else {
        (out as Record<string, unknown>)[key] = value;
      }
    }
  }
  return out;
}
