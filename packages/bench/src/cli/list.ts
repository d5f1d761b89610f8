// `pnpm bench --list [--json]`: tasks (tier, family, metrics, primary), methods (hyperparameters
// with defaults) and models.
import type { Catalog } from '../run/catalog.ts';
import { MODELS } from '../run/models.ts';
import { table } from './output.ts';

export function listCommand(catalog: Catalog, options: { json: boolean }): number {
  const tasks = catalog.tasks().map((task) => ({
    id: task.id,
    title: task.title,
    tier: task.tier,
    family: task.family,
    metrics: task.metrics,
    primary: task.primaryMetric,
    knobs: task.knobs,
  }));
  const methods = catalog.methods().map((method) => ({
    id: method.id,
    title: method.title,
    family: method.family,
    rank: method.rankParam,
    rank_meaning: method.rankMeaning,
    baseline: method.baseline,
    lr_scale: method.lrScale,
    at_inference: method.atInference,
    hyperparameters: method.hyperparameters,
  }));
  // What each model was made for: real-tier scores mean something only on a model that has seen real text.
  const models = catalog.models().map((model) => ({
    id: model.id,
    description: model.description,
    dir: model.dir,
    built_for: MODELS.find((def) => def.id === model.id)?.builtFor ?? ['unknown'],
  }));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ tasks, methods, models }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write('Tasks\n');
  process.stdout.write(`${table(['id', 'tier', 'family', 'primary', 'metrics'], tasks.map((t) => [t.id, t.tier, t.family, t.primary, t.metrics.map((m) => m.name).join(', ')]))}\n\n`);
  process.stdout.write('Methods\n');
  process.stdout.write(
    `${table(
      ['id', 'family', '--rank sets', 'lr x', 'hyperparameters (default)'],
      methods.map((m) => [m.id, m.family, m.rank ?? '-', String(m.lr_scale), m.hyperparameters.map((h) => `${h.name}=${JSON.stringify(h.default)}`).join(' ')]),
    )}\n\n`,
  );
  process.stdout.write('Models\n');
  process.stdout.write(`${table(['id', 'built for', 'description'], models.map((m) => [m.id, m.built_for.join(', '), m.description]))}\n`);
  process.stdout.write(
    '  or --model <dir>: a checkpoint directory (a Hugging Face GPT-2 / Llama checkpoint counts as built for real text);\n' +
      '  real-tier tasks need such a model for meaningful scores (README "Real checkpoints").\n',
  );
  return 0;
}
