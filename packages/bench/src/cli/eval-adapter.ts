// `pnpm bench eval-adapter --adapter <dir> --method lora --rank 4 --task nli`: scores an adapter
// saved in the HF PEFT layout (adapter_config.json + adapter_model.safetensors, e.g. downloaded
// from the site's Playground) on a task's test split, beside the frozen base model. The method and
// its config rebuild the attachment exactly as a run does; the method's own load() then reads the
// files and checks every tensor's name and shape. Nothing is written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkpointHash } from '@peft-bench/core/checkpoint/checkpoint';
import { predict } from '@peft-bench/core/decode/predict';
import { CONFIG_FILE, WEIGHTS_FILE } from '@peft-bench/methods/hf/adapter';
import { getMethod, withRank } from '@peft-bench/methods/registry';
import { trainingDefaults } from '../run/defaults.ts';
import { DEFAULT_MODEL_ID, findModelDef } from '../run/models.ts';
import { getTask, loadCatalog } from '../run/registries.ts';
import { findMethod, findTask, InputError } from '../run/resolve.ts';
import { describeBackend, ensureBackend, fitSplits, loadRunModel, usablePositions } from '../run/runner.ts';
import { reportError } from './errors.ts';
import { numericKnobs, parsePositiveInt, parseSets } from './values.ts';

export interface EvalAdapterFlags {
  adapter: string;
  method?: string;
  rank?: string;
  set: string[];
  task?: string;
  knob: string[];
  model?: string;
  seed?: string;
  backend?: string;
  threads?: string;
  dataDir?: string;
  json?: boolean;
}

export interface EvalAdapterResult {
  adapter: string;
  method: string;
  config: Record<string, unknown>;
  trainable: number;
  task: string;
  model: string;
  metric: string;
  test_examples: number;
  score: number;
  base_score: number;
  metrics: Record<string, number>;
}

export async function evalAdapterCommand(flags: EvalAdapterFlags): Promise<number> {
  try {
    const result = await evalAdapter(flags);
    if (flags.json) {
      process.stdout.write(JSON.stringify(result) + '\n');
    } else {
      process.stdout.write(
        `${result.adapter}: ${result.method} (${result.trainable.toLocaleString('en-US')} trainable) on ${result.task}, ` +
          `${result.test_examples} test examples, model ${result.model}: ${result.metric} ${result.score.toFixed(3)} (frozen base ${result.base_score.toFixed(3)})\n`,
      );
    }
    return 0;
  } catch (error) {
    return reportError(error);
  }
}

export async function evalAdapter(flags: EvalAdapterFlags): Promise<EvalAdapterResult> {
  const dir = path.resolve(flags.adapter);
  for (const file of [CONFIG_FILE, WEIGHTS_FILE]) {
    if (!fs.existsSync(path.join(dir, file))) {
      throw new InputError(`--adapter ${flags.adapter}: ${path.join(dir, file)} is missing; an adapter folder holds ${CONFIG_FILE} and ${WEIGHTS_FILE} (HF PEFT layout).`);
    }
  }
  const catalog = await loadCatalog();
  if (flags.method === undefined) throw new InputError(`Missing --method: the method that made the adapter. Valid methods: ${catalog.methods().map((m) => m.id).join(', ')}.`);
  if (flags.task === undefined) throw new InputError(`Missing --task: one task to score on. Valid tasks: ${catalog.tasks().map((t) => t.id).join(', ')}.`);
  const methodId = findMethod(catalog, flags.method).id;
  const taskEntry = findTask(catalog, flags.task);
  const rank = flags.rank !== undefined ? parsePositiveInt('--rank', flags.rank) : null;
  const seed = flags.seed !== undefined ? parsePositiveInt('--seed', flags.seed, { allowZero: true }) : 0;
  const threads = flags.threads !== undefined ? parsePositiveInt('--threads', flags.threads) : 1;
  const knobs = numericKnobs(parseSets(flags.knob));
  const method = await getMethod(methodId);
  let config: Record<string, unknown>;
  try {
    config = withRank(method, rank, parseSets(flags.set));
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  const source = flags.model ?? DEFAULT_MODEL_ID;
  let def;
  try {
    def = findModelDef(source);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  const task = getTask(taskEntry.id);
  let splits;
  try {
    splits = await task.load({ seed, knobs, dataDir: flags.dataDir });
  } catch (error) {
    throw new InputError((error as Error).message);
  }

  const info = await ensureBackend(flags.backend, threads);
  if (!flags.json) process.stderr.write(`backend: ${describeBackend(info)}\n`);
  const { model, tokenizer } = await loadRunModel(source, def.kind === 'checkpoint' ? await checkpointHash(def.dir) : '');
  try {
    const maxSeqLen = trainingDefaults(def.id).max_seq_len;
    const baseTest = fitSplits(tokenizer, task, splits, usablePositions(model, maxSeqLen)).splits.test;
    const baseScores = await task.score(predict(model, tokenizer, task, baseTest, usablePositions(model, maxSeqLen)), baseTest);
    const attachment = await method.attach(model, config, { seed, baseModel: def.id });
    try {
      try {
        await attachment.load(dir);
      } catch (error) {
        throw new InputError(`--adapter ${flags.adapter} does not fit ${methodId} with ${JSON.stringify(config)}: ${(error as Error).message}`);
      }
      const maxSeq = usablePositions(model, maxSeqLen);
      const test = fitSplits(tokenizer, task, splits, maxSeq).splits.test;
      const metrics = await task.score(predict(model, tokenizer, task, test, maxSeq), test);
      return {
        adapter: flags.adapter,
        method: methodId,
        config,
        trainable: attachment.trainableCount(),
        task: task.id,
        model: def.id,
        metric: task.primaryMetric,
        test_examples: test.length,
        score: metrics[task.primaryMetric]!,
        base_score: baseScores[task.primaryMetric]!,
        metrics,
      };
    } finally {
      attachment.detach();
    }
  } finally {
    model.dispose();
  }
}
