// `pnpm pretrain`: builds the default base model from its recorded recipe
// (packages/core/models/default/recipe.json): the corpus, the tokenizer, the architecture, the
// training settings and the seed. Writes config.json, model.safetensors, tokenizer.json,
// pretrain_log.json and MODEL_CARD.md next to the recipe (or into --out).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import {
  createModel,
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

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MODEL_DIR = path.resolve(here, '../../core/models/default');

export const pretrainRecipe = z.object({
  id: z.string(),
  description: z.string(),
  seed: z.number().int(),
  corpus: z.object({ seed: z.number().int(), documents: z.number().int().positive(), note: z.string().optional() }),
  tokenizer: z.object({ kind: z.literal('bpe'), vocabSize: z.number().int().min(258), trainDocuments: z.number().int().positive() }),
  architecture: z.object({
    family: z.enum(['gpt2', 'llama']),
    d: z.number().int().positive(),
    nLayer: z.number().int().positive(),
    nHead: z.number().int().positive(),
    maxSeq: z.number().int().positive(),
    mlpHidden: z.number().int().positive().optional(),
  }),
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
  }),
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

function modelCard(recipe: PretrainRecipe, log: PretrainLog): string {
  const a = recipe.architecture;
  const t = recipe.training;
  return `# ${recipe.id}

${recipe.description}

Built by \`pnpm pretrain\` from [recipe.json](recipe.json); re-running it on the same backend
reproduces these weights.

| | |
|---|---|
| architecture | ${a.family}, d=${a.d}, ${a.nLayer} layers, ${a.nHead} heads, context ${a.maxSeq} |
| parameters | ${log.parameters.toLocaleString('en-US')} |
| tokenizer | byte-level BPE, ${recipe.tokenizer.vocabSize} ids, trained on ${recipe.tokenizer.trainDocuments.toLocaleString('en-US')} corpus documents ([tokenizer.json](tokenizer.json)) |
| corpus | ${log.corpus.documents.toLocaleString('en-US')} documents, ${log.corpus.tokens.toLocaleString('en-US')} tokens (seed ${recipe.corpus.seed}) |
| training | ${log.steps} steps x ${t.batch} rows x ${t.seqLen} tokens, AdamW lr ${t.lr} (${t.schedule}, warm-up ${t.warmupSteps}), weight decay ${t.weightDecay}, clip ${t.gradClip} |
| loss | initial ${log.initialLoss.toFixed(3)}, final (mean of last 50 steps) ${log.finalLoss.toFixed(3)}, held-out ${log.heldOutLoss.toFixed(3)} |
| wall time | ${(log.seconds / 60).toFixed(1)} minutes (${Math.round(log.tokensPerS).toLocaleString('en-US')} tokens/s) |
| backend | ${log.backend.name} (${log.backend.note}), ${log.backend.threads} thread(s), ${log.cpu} |
| checkpoint sha256 | \`${log.checkpointHash}\` |

Corpus: ${recipe.corpus.note ?? ''}

Files: \`config.json\` (architecture), \`model.safetensors\` (weights, F32, our module names),
\`tokenizer.json\` (Hugging Face format), \`pretrain_log.json\` (the figures above and the loss curve).
`;
}

export interface PretrainLog {
  id: string;
  steps: number;
  parameters: number;
  corpus: { documents: number; tokens: number; heldOutTokens: number };
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
}

export async function pretrain(opts: { recipe: string; out: string; backend?: string; threads?: number; steps?: number; quiet?: boolean }): Promise<PretrainLog> {
  const parsed = pretrainRecipe.safeParse(JSON.parse(await readFile(opts.recipe, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${opts.recipe} is not a valid pretraining recipe: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const recipe = parsed.data;
  const t = { ...recipe.training, steps: opts.steps ?? recipe.training.steps };
  const backend = await initBackend({ backend: opts.backend, threads: opts.threads });
  const say = (s: string) => opts.quiet || console.log(s);
  say(`backend: ${backend.name} — ${backend.note}`);

  // Corpus: documents for training, then a held-out tail for the held-out loss (disjoint: one stream).
  const documents = pretrainCorpus({ seed: recipe.corpus.seed, documents: recipe.corpus.documents + t.heldOutDocuments, targets: 'separate' });
  const heldOutDocs = documents.slice(recipe.corpus.documents);
  const trainDocs = documents.slice(0, recipe.corpus.documents);
  say(`corpus: ${trainDocs.length} documents (+${heldOutDocs.length} held out)`);
  const tokenizer = trainBpe(trainDocs.slice(0, recipe.tokenizer.trainDocuments), recipe.tokenizer.vocabSize);
  const stream = packStream(tokenizer, trainDocs);
  const heldOut = packStream(tokenizer, heldOutDocs);
  say(`tokenizer: ${tokenizer.vocabSize} ids; corpus ${stream.length} tokens, held out ${heldOut.length}`);

  const model = createModel({ ...recipe.architecture, vocabSize: tokenizer.vocabSize }, recipe.seed);
  const params = model.params();
  let parameters = 0;
  for (const v of params.values()) parameters += v.size;

  // The largest micro-batch the heap takes; accumulation keeps the recipe's batch (same result).
  const microBatch = largestFittingMicroBatch(model.config, t.batch, t.seqLen, defaultMemoryLimit());
  if (microBatch < 1) throw new Error(`pretrain: even one row of ${t.seqLen} tokens does not fit in memory on backend ${backend.name}`);
  const rand = uniformStream(recipe.seed);
  const lastStart = stream.length - t.seqLen - 1;
  const data = (): Batch => rowsAt(stream, Array.from({ length: t.batch }, () => Math.floor(rand() * lastStart)), t.seqLen);

  const bar = new RunBar('pretrain', opts.quiet ?? false);
  const result = await train({
    model,
    trainable: params,
    data,
    steps: t.steps,
    lr: t.lr,
    schedule: t.schedule,
    warmupSteps: t.warmupSteps,
    minLrRatio: t.minLrRatio,
    weightDecay: t.weightDecay,
    gradClip: t.gradClip,
    microBatch,
    onStep: (s) => bar.update({ phase: 'train', step: s.step, totalSteps: t.steps, loss: s.loss, tokensPerS: s.tokensPerS }),
  });
  bar.stop();
  if (result.status !== 'ok') throw new Error(`pretraining diverged: ${result.reason}; nothing was written`);

  const heldOutLoss = streamLoss(model, heldOut, t.seqLen);
  const tail = result.losses.slice(-50);
  await mkdir(opts.out, { recursive: true });
  const checkpointHash = await saveModel(model, opts.out, { id: recipe.id });
  saveTokenizer(tokenizer, path.join(opts.out, 'tokenizer.json'));
  const log: PretrainLog = {
    id: recipe.id,
    steps: result.steps,
    parameters,
    corpus: { documents: trainDocs.length, tokens: stream.length, heldOutTokens: heldOut.length },
    initialLoss: result.losses[0]!,
    finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
    heldOutLoss,
    losses: result.losses.filter((_, i) => i % 10 === 0).map((l) => Number(l.toFixed(4))),
    seconds: result.seconds,
    tokensPerS: result.tokensPerS,
    backend: { name: backend.name, threads: backend.threads, note: backend.note },
    cpu: os.cpus()[0]?.model ?? 'unknown',
    checkpointHash,
    finishedAt: new Date().toISOString(),
  };
  await writeFile(path.join(opts.out, 'pretrain_log.json'), JSON.stringify(log, null, 2) + '\n');
  if (path.resolve(opts.recipe) !== path.resolve(opts.out, 'recipe.json')) {
    await writeFile(path.join(opts.out, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n');
  }
  await writeFile(path.join(opts.out, 'MODEL_CARD.md'), modelCard(recipe, log));
  model.dispose();
  return log;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const program = new Command('pnpm pretrain')
    .description('Build the default base model from its recorded recipe.')
    .option('--recipe <file>', 'pretraining recipe (JSON)', path.join(DEFAULT_MODEL_DIR, 'recipe.json'))
    .option('--out <dir>', 'where to write the checkpoint', DEFAULT_MODEL_DIR)
    .option('--steps <n>', 'override the recipe step count (for a quick trial; the card records it)', positiveInt)
    .option('--backend <name>', 'auto, tensorflow, wasm-blas, wasm or cpu', 'auto')
    .option('--threads <n>', 'BLAS threads', positiveInt, 2)
    .addHelpText('after', '\nExample:\n  pnpm pretrain                      # rebuild packages/core/models/default\n  pnpm pretrain --steps 50 --out /tmp/base   # a quick trial\n');
  program.parse();
  const o = program.opts<{ recipe: string; out: string; steps?: number; backend: string; threads: number }>();
  pretrain(o).then(
    (log) => {
      console.log(`wrote ${o.out}: ${log.parameters} parameters, held-out loss ${log.heldOutLoss.toFixed(3)}, ${(log.seconds / 60).toFixed(1)} min`);
    },
    (err: Error) => {
      console.error(`pretrain: ${err.message}`);
      process.exit(1);
    },
  );
}
