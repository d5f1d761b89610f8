// Every check that can fail a run, made before any run starts (exit 2, nothing written): the
// results directory can be written, the backend starts, the model's files are sound (header,
// shapes against config.json), the method's config fits the model (attached to a seeded model of
// the same configuration: no weights are read), and every data file a real task needs parses and
// fits the length policy, and a training step fits in memory (the trainer's own estimate, taken
// at the longest rows the run can have).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { BACKEND_CHOICES, type BackendInfo } from '@peft-bench/core/backend/index';
import { loadNative } from '@peft-bench/core/backend/native';
import { checkCheckpointFiles } from '@peft-bench/core/checkpoint/check';
import { resolveModelConfig, type ModelConfig } from '@peft-bench/core/model/config';
import { createModel } from '@peft-bench/core/model/model';
import { getTask, type TaskSplits } from '@peft-bench/core/tasks/index';
import type { Tokenizer } from '@peft-bench/core/tokenizer/index';
import { defaultMemoryLimit, estimateStepBytes, formatBytes, largestFittingMicroBatch } from '@peft-bench/core/train/memory';
import { getMethod } from '@peft-bench/methods/registry';
import { findModelDef, type ModelDef } from './models.ts';
import { configParamCount } from './registries.ts';
import { InputError, type ResolvedRun } from './resolve.ts';
import { sanitizeReason } from './sanitize.ts';
import { cachedEncode, ensureBackend, fitSplits, loadRunTokenizer, RUN_REFERENCE, type FittedSplits } from './runner.ts';

/** Models up to this many parameters get the method attached to a seeded copy before the run. */
const PROBE_MAX_PARAMS = 30_000_000;
/** Default share of a split that may be excluded by the length policy before a run refuses to start. */
export const DEFAULT_MAX_EXCLUDED = 0.2;

export interface PrecheckOptions {
  outDir: string;
  backend: string | undefined;
  threads: number;
  dataDir: string | undefined;
  /** Largest share (0..1) of any split the length policy may exclude. */
  maxExcluded: number;
}

export interface RunDataReport {
  task: string;
  seed: number;
  maxSeq: number;
  excluded: FittedSplits['excluded'];
  truncated: FittedSplits['truncated'];
  totals: FittedSplits['totals'];
}

export interface PrecheckResult {
  backend: BackendInfo;
  /** Length-policy counts of each real-task run, by run id. */
  data: Map<string, RunDataReport>;
  /** One-line notes to print (not errors). */
  notes: string[];
}

const BUILT_FOR_TEXT: Record<string, string> = { synthetic: 'the synthetic tasks', tests: 'tests only', real: 'real text', unknown: 'unknown data' };

const UNDER_SYSTEM = ['/proc', '/sys', '/dev'];

/** --out must be a directory we can create or write, and not a kernel filesystem. Writes nothing that stays. */
export function checkOutDir(outDir: string): void {
  const dir = path.resolve(outDir);
  const system = UNDER_SYSTEM.find((root) => dir === root || dir.startsWith(`${root}/`));
  if (system) throw new InputError(`--out ${dir} is under ${system}, which holds no files of ours. Give a results directory on a normal filesystem (default: results).`);
  let existing = dir;
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  if (!fs.statSync(existing).isDirectory()) {
    throw new InputError(`--out ${dir}: ${existing} is a file, not a directory. Give a results directory that can be created.`);
  }
  // A real write (removed at once): access() says yes to root on a read-only or immutable directory.
  let probe: string | null = null;
  try {
    probe = fs.mkdtempSync(path.join(existing, '.peft-bench-write-check-'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InputError(
      `--out ${dir} cannot be written (${code} on ${existing}). Give a results directory you can write, e.g. --out /tmp/results.`,
    );
  } finally {
    if (probe) fs.rmSync(probe, { recursive: true, force: true });
  }
}

let available: string[] | null = null;

/**
 * Backends that can start here: tensorflow when tfjs-node(-gpu) loads (probed in a child process,
 * so its side effects stay out of this one), wasm-blas when the native addon loads, wasm and cpu.
 */
export function availableBackends(): string[] {
  if (available) return available;
  const require = createRequire(import.meta.url);
  const loads = (pkg: string) => {
    try {
      const resolved = require.resolve(pkg);
      execFileSync(process.execPath, ['-e', `require(${JSON.stringify(resolved)})`], { stdio: 'ignore', timeout: 120_000 });
      return true;
    } catch {
      return false;
    }
  };
  const out: string[] = [];
  if (loads('@tensorflow/tfjs-node-gpu') || loads('@tensorflow/tfjs-node')) out.push('tensorflow');
  if (loadNative().addon) out.push('wasm-blas');
  out.push('wasm', 'cpu');
  available = out.filter((name) => BACKEND_CHOICES.includes(name as never));
  return available;
}

async function startBackend(backend: string | undefined, threads: number): Promise<BackendInfo> {
  try {
    return await ensureBackend(backend, threads);
  } catch (error) {
    const first = sanitizeReason(String((error as Error).message).split('\n')[0]!.replace(/ Valid choices: .*$/, ''))
      // tfjs-node's own wording, shortened: which package, and whether it is missing or unbuilt.
      .replace(/The Node\.js native addon module \(tfjs_binding\.node\) can not be found at path: [^;)]*/g, 'its native addon tfjs_binding.node is not built')
      .replace(/Cannot find module '[^']+'/g, 'not installed')
      .replace(/[. ]+$/, '');
    throw new InputError(`Backend "${backend ?? 'auto'}" cannot start here: ${first}. Available backends here: ${availableBackends().join(', ')} (or omit --backend for the fastest one).`);
  }
}

interface ModelFacts {
  def: ModelDef;
  config: ModelConfig;
  tokenizer: Tokenizer;
}

async function modelFacts(source: string): Promise<ModelFacts> {
  const def = findModelDef(source);
  let config: ModelConfig;
  try {
    if (def.kind === 'random') {
      config = resolveModelConfig({ ...def.random.config, vocabSize: loadRunTokenizer(source).vocabSize });
    } else {
      config = (await checkCheckpointFiles(def.dir)).config;
    }
  } catch (error) {
    throw new InputError(`The model "${def.id}" cannot be used: ${(error as Error).message}`);
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = loadRunTokenizer(source);
  } catch (error) {
    throw new InputError(`The model "${def.id}" has no usable tokenizer: ${(error as Error).message}. A checkpoint directory holds tokenizer.json beside config.json.`);
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new InputError(`The model "${def.id}": its tokenizer.json has ${tokenizer.vocabSize} ids but config.json's vocabulary is ${config.vocabSize}.`);
  }
  return { def, config, tokenizer };
}

/** Attaches the method to a seeded model of the model's configuration; returns the prefix length it adds. */
async function probeMethod(run: ResolvedRun, facts: ModelFacts): Promise<number> {
  const config = run.spec.method.config;
  const usesOtherRuns = Object.values(config).some((value) => typeof value === 'string' && RUN_REFERENCE.test(value));
  if (usesOtherRuns || configParamCount(facts.config) > PROBE_MAX_PARAMS) return 0;
  const model = createModel(facts.config, 0);
  try {
    const method = await getMethod(run.spec.method.id);
    let attachment;
    try {
      attachment = await method.attach(model, config, { seed: run.spec.seed, baseModel: run.spec.model.id });
    } catch (error) {
      throw new InputError(`Invalid configuration for method "${run.spec.method.id}" on model "${facts.def.id}": ${(error as Error).message}`);
    }
    const prefix = model.embeddings.prefix?.length ?? 0;
    attachment.detach();
    return prefix;
  } finally {
    model.dispose();
  }
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

/**
 * A run whose training step would not fit fails here, before any work, rather than at its first step
 * (or, with rows cut to each batch's longest, at the first long batch): the estimate is taken at the
 * longest rows the run can have, with the micro-batch it will use.
 */
export function checkMemory(run: ResolvedRun, facts: Pick<ModelFacts, 'config'> & { def: Pick<ModelDef, 'id'> }, limit = defaultMemoryLimit()): void {
  const training = run.spec.training;
  if (training.steps === 0) return;
  const seqLen = Math.min(training.max_seq_len, facts.config.maxSeq);
  const micro = training.micro_batch_size;
  const need = estimateStepBytes(facts.config, micro, seqLen);
  if (need <= limit) return;
  const fits = largestFittingMicroBatch(facts.config, micro, seqLen, limit);
  const advice = fits > 0
    ? `Pass --micro-batch ${largestDivisor(training.batch_size, fits)} (it must divide the batch of ${training.batch_size}; gradient accumulation keeps the batch size) or set micro_batch_size in the grid's training block.`
    : `Even a micro-batch of 1 does not fit: shorten the rows (max_seq_len) or use a smaller model.`;
  throw new InputError(
    `A training step of model "${facts.def.id}" with a micro-batch of ${micro} rows x ${seqLen} tokens needs about ${formatBytes(need)}, over the ${formatBytes(limit)} available here. ${advice}`,
  );
}

/** The largest divisor of n that is at most cap. */
function largestDivisor(n: number, cap: number): number {
  for (let d = Math.min(n, cap); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

export function describeDataReport(report: RunDataReport): string {
  const splits = (['train', 'valid', 'test'] as const).map((name) => `${name} ${report.excluded[name]}/${report.totals[name]}`).join(', ');
  const cut = (['train', 'valid', 'test'] as const).map((name) => report.truncated[name]).reduce((a, b) => a + b, 0);
  return `${report.task} s${report.seed}: excluded (target longer than fits in ${report.maxSeq} tokens): ${splits}; contexts truncated from the left: ${cut}`;
}

export async function precheckRuns(runs: ResolvedRun[], options: PrecheckOptions): Promise<PrecheckResult> {
  checkOutDir(options.outDir);
  const backend = await startBackend(options.backend, options.threads);
  const models = new Map<string, ModelFacts>();
  const probes = new Map<string, number>();
  const loaded = new Map<string, TaskSplits>();
  const data = new Map<string, RunDataReport>();
  const notes = new Set<string>();
  for (const run of runs) {
    let facts = models.get(run.modelSource);
    if (!facts) models.set(run.modelSource, (facts = await modelFacts(run.modelSource)));
    const probeKey = `${run.modelSource}\0${run.spec.method.id}\0${JSON.stringify(run.spec.method.config)}`;
    let prefix = probes.get(probeKey);
    if (prefix === undefined) probes.set(probeKey, (prefix = await probeMethod(run, facts)));
    checkMemory(run, facts);

    const task = getTask(run.spec.task.id);
    if (task.tier !== 'real') continue;
    if (!facts.def.builtFor.includes('real') && !facts.def.builtFor.includes('unknown')) {
      notes.add(
        `note: model "${facts.def.id}" was built for ${facts.def.builtFor.map((what) => BUILT_FOR_TEXT[what]).join(', ')} and has not seen real English text, so its scores on ${task.id} and the other real tasks mean little; ` +
          'for meaningful scores pass --model <HF checkpoint dir> (a GPT-2 or Llama checkpoint, see README "Real checkpoints").',
      );
    }
    const dataKey = `${task.id}\0${JSON.stringify(run.spec.task.config)}\0${run.spec.seed}`;
    let splits = loaded.get(dataKey);
    if (!splits) {
      try {
        splits = await task.load({ seed: run.spec.seed, knobs: run.spec.task.config, dataDir: options.dataDir });
      } catch (error) {
        throw new InputError(`Task ${task.id} cannot read its data: ${(error as Error).message}`);
      }
      loaded.set(dataKey, splits);
    }
    const maxSeq = Math.min(run.spec.training.max_seq_len, facts.config.maxSeq - prefix);
    const fitted = fitSplits(facts.tokenizer, task, splits, maxSeq, cachedEncode(run.modelSource, facts.tokenizer));
    const report: RunDataReport = { task: task.id, seed: run.spec.seed, maxSeq, excluded: fitted.excluded, truncated: fitted.truncated, totals: fitted.totals };
    for (const name of ['train', 'valid', 'test'] as const) {
      const total = fitted.totals[name];
      const share = total > 0 ? fitted.excluded[name] / total : 0;
      if (share > options.maxExcluded || (name === 'train' && total > 0 && fitted.excluded[name] === total)) {
        throw new InputError(
          `Task ${task.id} on model "${facts.def.id}": ${fitted.excluded[name]} of ${total} ${name} examples (${percent(share)}) have a target that cannot fit in ` +
            `${maxSeq} tokens${task.maxLengths?.target ? ` or is longer than the task's ${task.maxLengths.target}` : ''}, more than the ${percent(options.maxExcluded)} allowed (--max-excluded). ` +
            'Use a model with a longer context (--model <dir>), or allow more with --max-excluded <share>.',
        );
      }
    }
    data.set(run.runId, report);
  }
  return { backend, data, notes: [...notes] };
}
