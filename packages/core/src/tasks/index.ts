// The task registry: a frozen table from task id to definition (like transformers.js' SUPPORTED_TASKS).
// Synthetic tasks are the default tier; real tasks read public datasets from a data directory.
import { knobDefaults, knobDescriptions } from './knobs.ts';
import { mathTask } from './math.ts';
import { nliTask } from './nli.ts';
import { REAL_TASKS } from './real.ts';
import { sqlTask } from './sql.ts';
import { summarizeTask } from './summarize.ts';
import type { MetricDef, TaskDef } from './types.ts';

export type { Example, LoadOptions, MetricDef, TaskDef, TaskScoring, TaskSplits } from './types.ts';
export { parseKnobs, knobDefaults, knobDescriptions } from './knobs.ts';
export { Rng, deriveSeed } from './rng.ts';
export { homeSplit, normalisePrompt } from './splits.ts';
export { pretrainCorpus, CORPUS_TASKS, type CorpusOptions } from './corpus.ts';
export { NLI_LABELS } from './nli.ts';

function register(tasks: TaskDef<any>[]): Readonly<Record<string, TaskDef>> {
  const table: Record<string, TaskDef> = {};
  for (const task of tasks) {
    if (table[task.id]) throw new Error(`Duplicate task id '${task.id}'`);
    if (!task.metrics.some((m) => m.name === task.primaryMetric)) {
      throw new Error(`Task '${task.id}': primary metric '${task.primaryMetric}' is not one of its metrics`);
    }
    table[task.id] = Object.freeze(task) as TaskDef;
  }
  return Object.freeze(table);
}

export const TASKS: Readonly<Record<string, TaskDef>> = register([sqlTask, nliTask, summarizeTask, mathTask, ...REAL_TASKS]);

/** The task with this id; an unknown id throws listing the valid ones. */
export function getTask(id: string): TaskDef {
  const task = Object.hasOwn(TASKS, id) ? TASKS[id] : undefined;
  if (!task) {
    const byTier = (tier: string) => Object.values(TASKS).filter((t) => t.tier === tier).map((t) => t.id).join(', ');
    throw new Error(`Unknown task '${id}'. Valid tasks: synthetic: ${byTier('synthetic')}; real: ${byTier('real')}`);
  }
  return task;
}

export interface TaskSummary {
  id: string;
  title: string;
  tier: 'synthetic' | 'real';
  family: 'simple' | 'reasoning';
  description: string;
  promptTemplate: string;
  metrics: MetricDef[];
  primaryMetric: string;
  scoring: TaskDef['scoring'];
  /** Each knob's default (absent where the default is "all records"). */
  knobs: Record<string, unknown>;
  knobDescriptions: Record<string, string>;
}

/** Plain-data description of every task, for the CLI (`bench --list --json`) and the site. */
export function listTasks(): TaskSummary[] {
  return Object.values(TASKS).map((task) => ({
    id: task.id,
    title: task.title,
    tier: task.tier,
    family: task.family,
    description: task.description,
    promptTemplate: task.promptTemplate,
    metrics: task.metrics.map((m) => ({ ...m })),
    primaryMetric: task.primaryMetric,
    scoring: task.scoring,
    knobs: knobDefaults(task.knobs),
    knobDescriptions: knobDescriptions(task.knobs),
  }));
}
