// `pnpm pretrain [--model <id>]`: builds a base model from its recorded recipe
// (packages/core/models/<id>/recipe.json, `default` unless told): the corpus, the tokenizer, the
// architecture, the training settings and the seed. Writes config.json, model.safetensors,
// tokenizer.json, pretrain_log.json and MODEL_CARD.md next to the recipe (or into --out).
//
// A recipe with `training.checkpointEvery` is resumable: every that many steps the weights, the
// AdamW moments, the step and the loss curve are written atomically to <out>/.pretrain-state/ (with
// the tokenizer and the packed corpus, made once); re-running the same command after a kill goes on
// from there, and refuses if the recipe changed. The data order is a function of the step (the row
// sampler is replayed up to it), so a resumed run makes the same batches as an uninterrupted one.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import {
  createModel,
  loadTokenizer,
  mixedCorpus,
  readSafetensors,
  SKILL_FAMILIES,
  toFloat32,
  WORDNET_LICENCE,
  writeFileAtomic,
  writeSafetensors,
  type SafetensorsInput,
  defaultMemoryLimit,
  initBackend,
  largestFittingMicroBatch,
  pretrainCorpus,
  saveModel,
  saveTokenizer,
  train,
  trainBpe,
  uniformStream,
  type Batch,
  type Model,
  type Tokenizer,
} from '@peft-bench/core';
import { RunBar } from './cli/output.ts';
import { lengthTable, measureTokenLengths, type LengthRow } from './pretrain-lengths.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MODELS_DIR = path.resolve(here, '../../core/models');
export const DEFAULT_MODEL_DIR = path.join(MODELS_DIR, 'naive');
/** Where a resumable run keeps its state, inside the output folder (gitignored). */
export const STATE_DIR = '.pretrain-state';

const architecture = z.object({
  family: z.enum(['gpt2', 'llama']),
  d: z.number().int().positive(),
  nLayer: z.number().int().positive(),
  nHead: z.number().int().positive(),
  maxSeq: z.number().int().positive(),
  mlpHidden: z.number().int().positive().optional(),
});
const count = z.number().int().nonnegative();

export const pretrainRecipe = z.object({
  id: z.string(),
  description: z.string(),
  seed: z.number().int(),
  corpus: z
    .object({
      seed: z.number().int(),
      /** Task-language documents only (the default model's corpus). */
      documents: z.number().int().positive().optional(),
      /** Or a mix: task language, skill documents per family, and WordNet glosses (see core/src/corpus). */
      mix: z
        .object({
          tasks: count,
          skills: z.object({ facts: count, arithmetic: count, logic: count, dialogue: count }),
          wordnet: z
            .object({ package: z.string(), dir: z.string(), licence: z.string(), sha256: z.record(z.string(), z.string()), documents: count.optional() })
            .nullable(),
        })
        .optional(),
      note: z.string().optional(),
    })
    .refine((c) => (c.documents === undefined) !== (c.mix === undefined), { message: 'give exactly one of corpus.documents and corpus.mix' }),
  tokenizer: z.object({ kind: z.literal('bpe'), vocabSize: z.number().int().min(258), trainDocuments: z.number().int().positive() }),
  architecture,
  training: z.object({
    steps: z.number().int().positive(),
    batch: z.number().int().positive(),
    seqLen: z.number().int().positive(),
    lr: z.number().positive(),
    warmupSteps: z.number().int().nonnegative(),
    schedule: z.enum(['cosine', 'linear', 'constant']),
    minLrRatio: z.number().min(0).max(1),
    weightDecay: z.number().min(0),
    gradClip: z.number().positive().nullable(),
    heldOutDocuments: z.number().int().positive(),
    /** Save a resumable state every this many steps (absent: not resumable). */
    checkpointEvery: z.number().int().positive().optional(),
  }),
  /** Other sizes of the same recipe, built with --variant <name> (into <model folder>-<name>). */
  variants: z.record(z.string(), z.object({ architecture: architecture.partial(), note: z.string().optional() })).optional(),
});
export type PretrainRecipe = z.infer<typeof pretrainRecipe>;

/** Documents joined by EOS into one token stream, as packed language-modelling rows. */
export function packStream(tokenizer: Tokenizer, documents: readonly string[]): Int32Array {
  const ids: number[] = [];
  for (const doc of documents) {
    for (const id of tokenizer.encode(doc)) ids.push(id);
    ids.push(tokenizer.eosId);
  }
  return Int32Array.from(ids);
}

/** Row `i` of a packed stream: T inputs and their next tokens, every position weighted. */
function rowsAt(stream: Int32Array, starts: readonly number[], T: number): Batch {
  const B = starts.length;
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    tokens.set(stream.subarray(starts[b]!, starts[b]! + T), b * T);
    targets.set(stream.subarray(starts[b]! + 1, starts[b]! + T + 1), b * T);
  }
  return { tokens, targets, weights: new Float32Array(B * T).fill(1), B, T };
}

/** Mean next-token loss over consecutive rows of a packed stream (held-out text). */
export function streamLoss(model: Model, stream: Int32Array, T: number, maxRows = 64): number {
  const rows = Math.min(maxRows, Math.floor((stream.length - 1) / T));
  if (rows < 1) throw new Error(`streamLoss: the held-out stream (${stream.length} tokens) is shorter than one row of ${T + 1}`);
  let total = 0;
  for (let r = 0; r < rows; r += 8) {
    const starts = Array.from({ length: Math.min(8, rows - r) }, (_, i) => (r + i) * T);
    const b = rowsAt(stream, starts, T);
    const loss = tf.tidy(() =>
      model.loss(tf.tensor2d(b.tokens, [b.B, T], 'int32'), tf.tensor2d(b.targets, [b.B, T], 'int32'), tf.tensor2d(b.weights, [b.B, T])),
    );
    total += loss.dataSync()[0]! * b.B;
    loss.dispose();
  }
  return total / rows;
}

const n = (x: number) => x.toLocaleString('en-US');

function modelCard(recipe: PretrainRecipe, log: PretrainLog): string {
  const a = recipe.architecture;
  const t = recipe.training;
  const sections: string[] = [];
  if (log.corpus.bySource) {
    const rows = Object.entries(log.corpus.bySource).map(([source, c]) => `| ${source} | ${n(c.documents)} | ${n(c.tokens)} | ${((100 * c.tokens) / log.corpus.tokens).toFixed(1)}% |`);
    sections.push(`## Corpus composition (training documents)

| source | documents | tokens | share of tokens |
|---|---|---|---|
${rows.join('\n')}
| total | ${n(log.corpus.documents)} | ${n(log.corpus.tokens)} | 100% |

The corpus is seen ${((log.steps * t.batch * t.seqLen) / log.corpus.tokens).toFixed(2)} times (${n(log.steps * t.batch * t.seqLen)} training tokens).`);
  }
  if (log.tokenLengths?.length) {
    sections.push(`## Token lengths of the real datasets

Tokens per example (targets, and prompt + target) at the 50th / 95th / 99th percentile, under this
tokenizer and under the default model's (1024-id BPE on task language only), over each dataset's
training split. The context (${a.maxSeq}) was chosen so that real targets, and prompt + target up to the
95th percentile, fit:

${lengthTable(log.tokenLengths)}`);
  }
  const variants = Object.entries(recipe.variants ?? {});
  if (variants.length) {
    const lines = variants.map(([name, v]) => {
      const arch = { ...a, ...v.architecture };
      return `- \`${name}\`: d=${arch.d}, ${arch.nLayer} layers, ${arch.nHead} heads, context ${arch.maxSeq} (\`${log.command ?? 'pnpm pretrain'} --variant ${name}\`, written to its own folder). ${v.note ?? ''}`;
    });
    sections.push(`## Other sizes

The recipe lists other sizes of the same corpus and training:

${lines.join('\n')}`);
  }
  const wn = recipe.corpus.mix?.wordnet;
  if (wn) {
    sections.push(`## WordNet

English glosses and example sentences come from WordNet 3.0, read at pretraining time from the
installed package \`${wn.package}\` in ${wn.dir} (the sha256 of each data file is in [recipe.json](recipe.json)).
The project ships none of its text; these weights and this tokenizer were trained on it.
Licence: ${wn.licence}. Its notice, which goes with every copy:

${WORDNET_LICENCE.split('\n').map((line) => `> ${line}`.trimEnd()).join('\n')}`);
  }
  return `# ${recipe.id}

${recipe.description}

Built by \`${log.command}\` from [recipe.json](recipe.json); re-running it on the same backend
reproduces these weights.

| | |
|---|---|
| architecture | ${a.family}, d=${a.d}, ${a.nLayer} layers, ${a.nHead} heads, context ${a.maxSeq} |
| parameters | ${n(log.parameters)} |
| tokenizer | byte-level BPE, ${recipe.tokenizer.vocabSize} ids, trained on ${n(recipe.tokenizer.trainDocuments)} corpus documents ([tokenizer.json](tokenizer.json)) |
| corpus | ${n(log.corpus.documents)} documents, ${n(log.corpus.tokens)} tokens (seed ${recipe.corpus.seed}) |
| training | ${log.steps} steps x ${t.batch} rows x ${t.seqLen} tokens, AdamW lr ${t.lr} (${t.schedule}, warm-up ${t.warmupSteps}), weight decay ${t.weightDecay}, clip ${t.gradClip} |
| loss | initial ${log.initialLoss.toFixed(3)}, final (mean of last 50 steps) ${log.finalLoss.toFixed(3)}, held-out ${log.heldOutLoss.toFixed(3)} |
| wall time | ${(log.seconds / 60).toFixed(1)} minutes (${Math.round(log.tokensPerS).toLocaleString('en-US')} tokens/s)${log.resumes ? `, over ${log.resumes + 1} sessions (resumed ${log.resumes} time(s))` : ''} |
| backend | ${log.backend.name} (${log.backend.note}), ${log.backend.threads} thread(s), ${log.cpu} |
| checkpoint sha256 | \`${log.checkpointHash}\` |

Corpus: ${recipe.corpus.note ?? ''}
${sections.map((x) => `\n${x}\n`).join('')}
Files: \`config.json\` (architecture), \`model.safetensors\` (weights, F32, our module names),
\`tokenizer.json\` (Hugging Face format), \`pretrain_log.json\` (the figures above and the loss curve).
`;
}

export interface PretrainLog {
  id: string;
  steps: number;
  parameters: number;
  corpus: { documents: number; tokens: number; heldOutTokens: number; bySource?: Record<string, { documents: number; tokens: number }> };
  initialLoss: number;
  finalLoss: number;
  heldOutLoss: number;
  losses: number[];
  seconds: number;
  tokensPerS: number;
  backend: { name: string; threads: number; note: string };
  cpu: string;
  checkpointHash: string;
  finishedAt: string;
  /** The command that builds it (absent in older logs: `pnpm pretrain`). */
  command?: string;
  /** How many times the run was resumed from a saved state. */
  resumes?: number;
  tokenLengths?: LengthRow[];
}

/** The recipe a run uses: the file's, with a variant's architecture and a step override applied. */
export function resolveRecipe(raw: unknown, source: string, opts: { variant?: string; steps?: number } = {}): PretrainRecipe {
  const parsed = pretrainRecipe.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${source} is not a valid pretraining recipe: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  let recipe = parsed.data;
  if (opts.variant !== undefined) {
    const variant = recipe.variants?.[opts.variant];
    if (!variant) throw new Error(`${source} has no variant '${opts.variant}'. Valid: ${Object.keys(recipe.variants ?? {}).join(', ') || '(none)'}`);
    const { variants: _variants, ...rest } = recipe;
    recipe = { ...rest, id: `${recipe.id}-${opts.variant}`, architecture: { ...recipe.architecture, ...variant.architecture } };
  }
  if (opts.steps !== undefined) recipe = { ...recipe, training: { ...recipe.training, steps: opts.steps } };
  return recipe;
}

interface Prepared {
  tokenizer: Tokenizer;
  stream: Int32Array;
  heldOut: Int32Array;
  documents: number;
  bySource?: Record<string, { documents: number; tokens: number }>;
}

/** Corpus, tokenizer and packed streams, exactly as the recipe says. */
function prepareData(recipe: PretrainRecipe, say: (s: string) => void): Prepared {
  const t = recipe.training;
  if (recipe.corpus.documents !== undefined) {
    // The task-language corpus (the default model): documents, then a held-out tail (one stream).
    const documents = pretrainCorpus({ seed: recipe.corpus.seed, documents: recipe.corpus.documents + t.heldOutDocuments, targets: 'separate' });
    const heldOutDocs = documents.slice(recipe.corpus.documents);
    const trainDocs = documents.slice(0, recipe.corpus.documents);
    say(`corpus: ${trainDocs.length} documents (+${heldOutDocs.length} held out)`);
    const tokenizer = trainBpe(trainDocs.slice(0, recipe.tokenizer.trainDocuments), recipe.tokenizer.vocabSize);
    return { tokenizer, stream: packStream(tokenizer, trainDocs), heldOut: packStream(tokenizer, heldOutDocs), documents: trainDocs.length };
  }
  const mix = recipe.corpus.mix!;
  const all = mixedCorpus({ seed: recipe.corpus.seed, tasks: mix.tasks, skills: mix.skills, wordnet: mix.wordnet });
  if (all.length <= t.heldOutDocuments) throw new Error(`the corpus has ${all.length} documents, not more than heldOutDocuments=${t.heldOutDocuments}`);
  const heldOutDocs = all.slice(all.length - t.heldOutDocuments);
  const trainDocs = all.slice(0, all.length - t.heldOutDocuments);
  say(`corpus: ${trainDocs.length} documents (+${heldOutDocs.length} held out); training the tokenizer`);
  const tokenizer = trainBpe(
    trainDocs.slice(0, recipe.tokenizer.trainDocuments).map((d) => d.text),
    recipe.tokenizer.vocabSize,
  );
  const bySource: Record<string, { documents: number; tokens: number }> = {};
  for (const source of ['tasks', ...SKILL_FAMILIES, 'wordnet']) bySource[source] = { documents: 0, tokens: 0 };
  const ids: number[] = [];
  for (const doc of trainDocs) {
    const encoded = tokenizer.encode(doc.text);
    for (const id of encoded) ids.push(id);
    ids.push(tokenizer.eosId);
    const c = (bySource[doc.source] ??= { documents: 0, tokens: 0 });
    c.documents++;
    c.tokens += encoded.length + 1;
  }
  return {
    tokenizer,
    stream: Int32Array.from(ids),
    heldOut: packStream(tokenizer, heldOutDocs.map((d) => d.text)),
    documents: trainDocs.length,
    bySource,
  };
}

function recipeHash(recipe: PretrainRecipe): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex');
}

/** Prepared data for a resumable run: made once, then read back from the state folder. */
async function preparedState(recipe: PretrainRecipe, stateDir: string, say: (s: string) => void): Promise<Prepared> {
  const infoFile = path.join(stateDir, 'corpus.json');
  if (existsSync(infoFile)) {
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { documents: number; bySource?: Prepared['bySource'] };
    const read = (f: string) => {
      const b = readFileSync(path.join(stateDir, f));
      return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    say(`resuming: corpus and tokenizer read from ${stateDir}`);
    return { tokenizer: loadTokenizer(path.join(stateDir, 'tokenizer.json')), stream: read('stream.i32'), heldOut: read('heldout.i32'), ...info };
  }
  const prepared = prepareData(recipe, say);
  await mkdir(stateDir, { recursive: true });
  saveTokenizer(prepared.tokenizer, path.join(stateDir, 'tokenizer.json'));
  await writeFileAtomic(path.join(stateDir, 'stream.i32'), new Uint8Array(prepared.stream.buffer));
  await writeFileAtomic(path.join(stateDir, 'heldout.i32'), new Uint8Array(prepared.heldOut.buffer));
  await writeFileAtomic(infoFile, JSON.stringify({ documents: prepared.documents, bySource: prepared.bySource }));
  return prepared;
}

interface SavedState {
  step: number;
  losses: number[];
  seconds: number;
  resumes: number;
  weights: Map<string, Float32Array>;
  moments: Map<string, { m: tf.Tensor; v: tf.Tensor }>;
}

const STATE_FILE = 'state.safetensors';

async function saveState(stateDir: string, hash: string, model: Model, moments: Map<string, { m: tf.Tensor; v: tf.Tensor }>, info: { step: number; losses: number[]; seconds: number; resumes: number }): Promise<void> {
  const tensors = new Map<string, SafetensorsInput>();
  for (const [name, v] of model.params()) tensors.set(`param/${name}`, { dtype: 'F32', shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [name, { m, v }] of moments) {
    tensors.set(`m/${name}`, { dtype: 'F32', shape: m.shape, data: m.dataSync() as Float32Array });
    tensors.set(`v/${name}`, { dtype: 'F32', shape: v.shape, data: v.dataSync() as Float32Array });
  }
  // One file, written to a temp name and renamed: a kill leaves the previous state or this one.
  await writeSafetensors(path.join(stateDir, STATE_FILE), tensors, {
    recipeHash: hash,
    step: String(info.step),
    seconds: String(info.seconds),
    resumes: String(info.resumes),
    losses: JSON.stringify(info.losses),
  });
}

async function loadState(stateDir: string, hash: string): Promise<SavedState | null> {
  const file = path.join(stateDir, STATE_FILE);
  if (!existsSync(file)) return null;
  const st = await readSafetensors(file);
  if (st.metadata.recipeHash !== hash) throw new Error(`internal: ${file} belongs to another recipe`);
  const weights = new Map<string, Float32Array>();
  const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
  for (const [key, t] of st.tensors) {
    const [kind, ...rest] = key.split('/');
    const name = rest.join('/');
    if (kind === 'param') weights.set(name, toFloat32(t));
    else if (kind === 'm' || kind === 'v') {
      const entry = moments.get(name) ?? ({} as { m: tf.Tensor; v: tf.Tensor });
      entry[kind] = tf.tensor(toFloat32(t), t.shape);
      moments.set(name, entry);
    }
  }
  return {
    step: Number(st.metadata.step),
    seconds: Number(st.metadata.seconds),
    resumes: Number(st.metadata.resumes ?? 0),
    losses: JSON.parse(st.metadata.losses ?? '[]') as number[],
    weights,
    moments,
  };
}

/** Rewrites MODEL_CARD.md of a built model from its recipe.json and pretrain_log.json (after a change to the card's layout). */
export async function rewriteCard(dir: string): Promise<void> {
  const recipe = resolveRecipe(JSON.parse(await readFile(path.join(dir, 'recipe.json'), 'utf8')), path.join(dir, 'recipe.json'));
  const log = JSON.parse(await readFile(path.join(dir, 'pretrain_log.json'), 'utf8')) as PretrainLog;
  await writeFile(path.join(dir, 'MODEL_CARD.md'), modelCard(recipe, { ...log, command: log.command ?? 'pnpm pretrain' }));
}

export interface PretrainOptions {
  recipe: string;
  out: string;
  backend?: string;
  threads?: number;
  steps?: number;
  variant?: string;
  quiet?: boolean;
  /** The command line recorded in the card. */
  command?: string;
  /** Real data for the token-length table (resumable recipes only); absent or missing: no table. */
  dataDir?: string;
  /** Stop after this step without writing the model (tests: an interrupted run). */
  haltAfterStep?: number;
}

/** Builds the model; returns null when halted by `haltAfterStep`. */
export async function pretrain(opts: PretrainOptions): Promise<PretrainLog | null> {
  const raw = JSON.parse(await readFile(opts.recipe, 'utf8'));
  const recipe = resolveRecipe(raw, opts.recipe, { variant: opts.variant, steps: opts.steps });
  const t = recipe.training;
  const say = (s: string) => opts.quiet || console.log(s);
  const resumable = t.checkpointEvery !== undefined;
  const stateDir = path.join(opts.out, STATE_DIR);
  const hash = recipeHash(recipe);
  if (resumable) {
    // Refuse before any work when the saved state was made from another recipe.
    const hashFile = path.join(stateDir, 'recipe.sha256');
    if (existsSync(hashFile) && readFileSync(hashFile, 'utf8').trim() !== hash) {
      throw new Error(
        `${stateDir} holds an interrupted run of a different recipe (or step count / variant), so it cannot be resumed. ` +
          `Restore the recipe it was started with, or delete ${stateDir} to start over.`,
      );
    }
    await mkdir(stateDir, { recursive: true });
    if (!existsSync(hashFile)) await writeFileAtomic(hashFile, hash + '\n');
  }
  const backend = await initBackend({ backend: opts.backend, threads: opts.threads });
  say(`backend: ${backend.name} — ${backend.note}`);

  const data = resumable ? await preparedState(recipe, stateDir, say) : prepareData(recipe, say);
  const { tokenizer, stream, heldOut } = data;
  say(`tokenizer: ${tokenizer.vocabSize} ids; corpus ${stream.length} tokens, held out ${heldOut.length}`);

  const model = createModel({ ...recipe.architecture, vocabSize: tokenizer.vocabSize }, recipe.seed);
  const params = model.params();
  let parameters = 0;
  for (const v of params.values()) parameters += v.size;

  const saved = resumable ? await loadState(stateDir, hash) : null;
  if (saved) {
    for (const [name, v] of params) {
      const w = saved.weights.get(name);
      if (!w || w.length !== v.size) throw new Error(`${stateDir}: the saved state has no weights of the right size for '${name}'; delete the folder to start over`);
      tf.tidy(() => v.assign(tf.tensor(w, v.shape)));
    }
    say(`resuming at step ${saved.step} of ${t.steps}`);
  }
  const startStep = saved?.step ?? 0;
  const losses = saved?.losses.slice() ?? [];
  const priorSeconds = saved?.seconds ?? 0;
  const resumes = saved ? saved.resumes + 1 : 0;

  // The largest micro-batch the heap takes; accumulation keeps the recipe's batch (same result).
  const microBatch = largestFittingMicroBatch(model.config, t.batch, t.seqLen, defaultMemoryLimit());
  if (microBatch < 1) throw new Error(`pretrain: even one row of ${t.seqLen} tokens does not fit in memory on backend ${backend.name}`);
  const rand = uniformStream(recipe.seed);
  const lastStart = stream.length - t.seqLen - 1;
  if (lastStart < 1) throw new Error(`pretrain: the corpus (${stream.length} tokens) is shorter than one row of ${t.seqLen + 1}`);
  // Replaying the sampler to the resumed step puts the data where the interrupted run left it.
  for (let i = 0; i < startStep * t.batch; i++) rand();
  const sample = (): Batch => rowsAt(stream, Array.from({ length: t.batch }, () => Math.floor(rand() * lastStart)), t.seqLen);

  const bar = new RunBar('pretrain', opts.quiet ?? false);
  const segmentStart = performance.now();
  let trainSeconds = 0;
  const result = await train({
    model,
    trainable: params,
    data: sample,
    steps: t.steps,
    lr: t.lr,
    schedule: t.schedule,
    warmupSteps: t.warmupSteps,
    minLrRatio: t.minLrRatio,
    weightDecay: t.weightDecay,
    gradClip: t.gradClip,
    microBatch,
    ...(saved ? { resume: { step: saved.step, moments: saved.moments } } : {}),
    ...(resumable
      ? {
          checkpoint: {
            every: t.checkpointEvery!,
            save: async (step: number, moments: Map<string, { m: tf.Tensor; v: tf.Tensor }>) => {
              await saveState(stateDir, hash, model, moments, { step, losses, seconds: priorSeconds + trainSeconds, resumes });
              // A line per checkpoint, so a log that is not a terminal shows progress and an ETA.
              const recent = losses.slice(-t.checkpointEvery!);
              const perStep = trainSeconds / (step - startStep);
              say(
                `  step ${step}/${t.steps}: loss ${(recent.reduce((x, y) => x + y, 0) / recent.length).toFixed(3)} (mean of the last ${recent.length}), ` +
                  `${Math.round((t.batch * t.seqLen) / perStep)} tokens/s, state saved; about ${Math.round(((t.steps - step) * perStep) / 60)} min to go (${new Date().toISOString()})`,
              );
            },
          },
        }
      : {}),
    onStep: (s) => {
      losses.push(s.loss);
      trainSeconds = (performance.now() - segmentStart) / 1000;
      bar.update({ phase: 'train', step: s.step, totalSteps: t.steps, loss: s.loss, tokensPerS: s.tokensPerS });
    },
    stopWhen: opts.haltAfterStep !== undefined ? (s) => s.step >= opts.haltAfterStep! : undefined,
  });
  bar.stop();
  if (saved) tf.dispose([...saved.moments.values()].flatMap((e) => [e.m, e.v]));
  if (result.status !== 'ok') throw new Error(`pretraining diverged: ${result.reason}; nothing was written`);
  if (opts.haltAfterStep !== undefined && result.steps < t.steps) {
    model.dispose();
    return null;
  }

  const heldOutLoss = streamLoss(model, heldOut, t.seqLen);
  const tail = losses.slice(-50);
  const seconds = resumable ? priorSeconds + result.seconds : result.seconds;
  const tokenLengths = resumable && opts.dataDir ? await measureTokenLengths(tokenizer, opts.dataDir, say) : undefined;
  await mkdir(opts.out, { recursive: true });
  const checkpointHash = await saveModel(model, opts.out, { id: recipe.id });
  saveTokenizer(tokenizer, path.join(opts.out, 'tokenizer.json'));
  const log: PretrainLog = {
    id: recipe.id,
    steps: t.steps,
    parameters,
    corpus: { documents: data.documents, tokens: stream.length, heldOutTokens: heldOut.length, ...(data.bySource ? { bySource: data.bySource } : {}) },
    initialLoss: losses[0]!,
    finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
    heldOutLoss,
    losses: losses.filter((_, i) => i % 10 === 0).map((l) => Number(l.toFixed(4))),
    seconds,
    tokensPerS: ((t.steps - startStep) * t.batch * t.seqLen) / Math.max(result.seconds, 1e-9),
    backend: { name: backend.name, threads: backend.threads, note: backend.note },
    cpu: os.cpus()[0]?.model ?? 'unknown',
    checkpointHash,
    finishedAt: new Date().toISOString(),
    ...(opts.command ? { command: opts.command } : {}),
    ...(resumable ? { resumes } : {}),
    ...(tokenLengths ? { tokenLengths } : {}),
  };
  if (!resumable) log.tokensPerS = result.tokensPerS;
  await writeFile(path.join(opts.out, 'pretrain_log.json'), JSON.stringify(log, null, 2) + '\n');
  if (path.resolve(opts.recipe) !== path.resolve(opts.out, 'recipe.json')) {
    // The recipe as built (a variant's architecture), steps as recorded: the card gives a --steps override.
    await writeFile(path.join(opts.out, 'recipe.json'), JSON.stringify(resolveRecipe(raw, opts.recipe, { variant: opts.variant }), null, 2) + '\n');
  }
  await writeFile(path.join(opts.out, 'MODEL_CARD.md'), modelCard(recipe, { ...log, command: log.command ?? 'pnpm pretrain' }));
  model.dispose();
  // The run is complete: its resumable state has served its purpose.
  if (resumable) rmSync(stateDir, { recursive: true, force: true });
  return log;
}

function command0(o: { model: string; variant?: string }): string {
  return ['pnpm pretrain', o.model !== 'naive' ? `--model ${o.model}` : '', o.variant ? `--variant ${o.variant}` : ''].filter(Boolean).join(' ');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const program = new Command('pnpm pretrain')
    .description('Build a base model (packages/core/models/<id>) from its recorded recipe.')
    .option('--model <id>', 'which model folder under packages/core/models to build (naive, base)', 'naive')
    .option('--variant <name>', "another size listed in the recipe's variants (written to <folder>-<name>)")
    .option('--recipe <file>', 'pretraining recipe (JSON); default: <model folder>/recipe.json')
    .option('--out <dir>', 'where to write the checkpoint; default: the model folder')
    .option('--steps <n>', 'override the recipe step count (for a quick trial; the card records it)', positiveInt)
    .option('--data-dir <dir>', 'real datasets, for the token-length table in the card', process.env.PEFT_BENCH_DATA_DIR ?? '/work/shared/datasets')
    .option('--card', 'only rewrite MODEL_CARD.md from the built model\'s recipe.json and pretrain_log.json')
    .option('--backend <name>', 'auto, tensorflow, wasm-blas, wasm or cpu', 'auto')
    .option('--threads <n>', 'BLAS threads', positiveInt, 2)
    .addHelpText(
      'after',
      '\nExamples:\n  pnpm pretrain                      # rebuild packages/core/models/naive\n  pnpm pretrain --model base         # build (or resume building) packages/core/models/base\n  pnpm pretrain --steps 50 --out /tmp/base   # a quick trial\n',
    );
  program.parse();
  const o = program.opts<{ model: string; variant?: string; recipe?: string; out?: string; steps?: number; dataDir: string; card?: boolean; backend: string; threads: number }>();
  const modelDir = path.join(MODELS_DIR, o.model);
  const recipeFile = o.recipe ?? path.join(modelDir, 'recipe.json');
  if (!existsSync(recipeFile)) {
    const known = ['naive', 'base'].filter((m) => existsSync(path.join(MODELS_DIR, m, 'recipe.json')));
    console.error(`pretrain: no recipe at ${recipeFile}. Models with a recipe: ${known.join(', ')}; or pass --recipe <file>.`);
    process.exit(2);
  }
  const out = o.out ?? (o.variant ? `${modelDir}-${o.variant}` : modelDir);
  if (o.card) {
    if (!existsSync(path.join(out, 'pretrain_log.json'))) {
      console.error(`pretrain: ${out} has no pretrain_log.json: build the model first (${command0(o)})`);
      process.exit(2);
    }
    await rewriteCard(out);
    console.log(`wrote ${path.join(out, 'MODEL_CARD.md')}`);
    process.exit(0);
  }
  const command = command0(o);
  pretrain({ ...o, recipe: recipeFile, out, command: command === 'pnpm pretrain' ? undefined : command, dataDir: existsSync(o.dataDir) ? o.dataDir : undefined }).then(
    (log) => {
      if (log) console.log(`wrote ${out}: ${log.parameters} parameters, held-out loss ${log.heldOutLoss.toFixed(3)}, ${(log.seconds / 60).toFixed(1)} min`);
    },
    (err: Error) => {
      console.error(`pretrain: ${err.message}`);
      process.exit(/different recipe|not a valid pretraining recipe|has no variant/.test(err.message) ? 2 : 1);
    },
  );
}
