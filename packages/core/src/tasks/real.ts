// Real-tier tasks: standard public datasets read from the data directory (see data/files.ts).
// Splits are fixed: the official test split where the data directory has one, otherwise a fixed
// hash split; validation examples are carved from the training file with a fixed seed. The run
// seed only picks the training sample when the `train` knob limits it. Training records whose
// prompt is also a validation or test prompt are dropped.
import { z } from 'zod';
import {
  groupReferences,
  loadGsm8k,
  loadMnli,
  loadRte,
  loadSamsum,
  loadSnli,
  loadSqlCreateContext,
  loadViggo,
  loadWikiSql,
} from '../data/loaders.ts';
import { mergeCreateTables } from '../data/sql-context.ts';
import { parseGsm8kAnswer } from '../metrics/gsm8k.ts';
import { accuracy, checkAligned, meanScore } from '../metrics/match.ts';
import { execMatch, sqlExactMatch } from '../metrics/sql.ts';
import { parseKnobs, realSplitKnobs } from './knobs.ts';
import { GSM8K_METRICS, scoreGsm8k } from './math.ts';
import { Rng } from './rng.ts';
import { homeSplit, normalisePrompt } from './splits.ts';
import { ROUGE_METRICS, scoreRouge } from './summarize.ts';
import type { Example, MetricDef, TaskDef, TaskScoring, TaskSplits } from './types.ts';

const realKnobs = (valid: number) => z.strictObject(realSplitKnobs({ valid }));
type RealKnobs = { train?: number; valid: number; test?: number };

type Draft = Omit<Example, 'id'>;

function withIds(taskId: string, split: string, drafts: Draft[]): Example[] {
  return drafts.map((draft, i) => ({ id: `${taskId}-${split}-${i}`, ...draft }));
}

/** Fixed validation carve: the same `count` records for every run seed. */
function carve(taskId: string, drafts: Draft[], count: number): { rest: Draft[]; valid: Draft[] } {
  if (count >= drafts.length) {
    throw new Error(`Task '${taskId}': valid=${count} leaves no training data (the training file has ${drafts.length} records)`);
  }
  const order = Rng.stream(0, `${taskId}/valid-carve`).shuffle(drafts.map((_, i) => i));
  const validIndex = new Set(order.slice(0, count));
  return { rest: drafts.filter((_, i) => !validIndex.has(i)), valid: drafts.filter((_, i) => validIndex.has(i)) };
}

function limit(drafts: Draft[], max: number | undefined, rng: Rng): Draft[] {
  if (max === undefined || max >= drafts.length) return drafts;
  return rng.shuffle(drafts).slice(0, max);
}

function finish(taskId: string, seed: number, knobs: RealKnobs, parts: { train: Draft[]; valid: Draft[]; test: Draft[] }): TaskSplits {
  // Public files repeat some records (RTE train has duplicates): a training prompt that is also a
  // validation or test prompt is dropped, so the splits stay disjoint.
  const held = new Set([...parts.valid, ...parts.test].map((d) => normalisePrompt(d.prompt)));
  const train = parts.train.filter((d) => !held.has(normalisePrompt(d.prompt)));
  return {
    train: withIds(taskId, 'train', limit(train, knobs.train, Rng.stream(seed, `${taskId}/train-sample`))),
    valid: withIds(taskId, 'valid', parts.valid),
    test: withIds(taskId, 'test', limit(parts.test, knobs.test, Rng.stream(0, `${taskId}/test-sample`))),
  };
}

interface RealTaskSpec {
  id: string;
  title: string;
  family: 'simple' | 'reasoning';
  description: string;
  promptTemplate: string;
  defaultValid: number;
  metrics: MetricDef[];
  primaryMetric: string;
  scoring: TaskScoring;
  maxLengths?: TaskDef['maxLengths'];
  /** Train (before the valid carve, or with its own valid), and test. */
  read(dataDir: string | undefined, validCount: number): { train: Draft[]; valid: Draft[]; test: Draft[] };
  score(predictions: string[], examples: Example[]): Promise<Record<string, number>>;
}

function realTask(spec: RealTaskSpec): TaskDef<RealKnobs> {
  const knobs = realKnobs(spec.defaultValid) as unknown as z.ZodType<RealKnobs>;
  return {
    id: spec.id,
    title: spec.title,
    tier: 'real',
    family: spec.family,
    description: spec.description,
    promptTemplate: spec.promptTemplate,
    knobs,
    metrics: spec.metrics,
    primaryMetric: spec.primaryMetric,
    scoring: spec.scoring,
    ...(spec.maxLengths ? { maxLengths: spec.maxLengths } : {}),
    async load({ seed, knobs: given, dataDir }) {
      const k = parseKnobs(spec.id, knobs, given);
      return finish(spec.id, seed, k, spec.read(dataDir, k.valid));
    },
    score: spec.score,
  };
}

/** Hash split of a single file (no official train/test in the data directory): ~80/10/10. */
function hashSplit(taskId: string, drafts: Draft[], validCount: number) {
  const train = drafts.filter((d) => homeSplit(d.prompt) === 'train');
  const valid = drafts.filter((d) => homeSplit(d.prompt) === 'valid');
  const test = drafts.filter((d) => homeSplit(d.prompt) === 'test');
  if (validCount > valid.length) throw new Error(`Task '${taskId}': valid=${validCount} but the hash split has ${valid.length} validation records`);
  return { train, valid: valid.slice(0, validCount), test };
}

// ---- scoring helpers ----

async function scoreChoice(predictions: string[], examples: Example[]): Promise<Record<string, number>> {
  checkAligned(predictions, examples);
  return { acc: accuracy(predictions, examples.map((e) => e.target)) };
}

async function scoreSqlExact(predictions: string[], examples: Example[]): Promise<Record<string, number>> {
  checkAligned(predictions, examples);
  return { exact_match: meanScore(predictions.map((p, i) => sqlExactMatch(p, examples[i].target))) };
}

/**
 * sql-create-context: exact match, plus execution on the context's empty tables. With no rows the
 * result sets are mostly empty, so exec_acc_empty mainly checks that a query is valid SQL for the
 * schema with the right number of columns; it is reported over the examples whose reference runs.
 */
async function scoreSqlCreateContext(predictions: string[], examples: Example[]): Promise<Record<string, number>> {
  const { exact_match } = await scoreSqlExact(predictions, examples);
  const exec: number[] = [];
  for (let i = 0; i < examples.length; i++) {
    try {
      exec.push((await execMatch(predictions[i], examples[i].target, String(examples[i].meta?.setupSql ?? ''))).match);
    } catch {
      // The reference itself does not run on this context (columns missing from it): not scoreable.
    }
  }
  return { exact_match, exec_acc_empty: meanScore(exec) };
}

const ACC: MetricDef[] = [{ name: 'acc', direction: 'higher', description: 'Share of pairs whose most likely label is the gold label.' }];
const SQL_EXACT: MetricDef = {
  name: 'exact_match',
  direction: 'higher',
  description: 'Share of queries equal to the reference after normalising whitespace and keyword case.',
};

const nliDraft = (labels: readonly string[]) => (r: { premise: string; hypothesis: string; label: string }): Draft => {
  if (!labels.includes(r.label)) throw new Error(`Unexpected NLI label '${r.label}'; valid: ${labels.join(', ')}`);
  return { prompt: `Premise: ${r.premise}\nHypothesis: ${r.hypothesis}\nLabel:`, target: ` ${r.label}`, meta: { label: r.label } };
};
const THREE_WAY = ['entailment', 'neutral', 'contradiction'];
const NLI_TEMPLATE = 'Premise: {premise}\nHypothesis: {hypothesis}\nLabel: {label}';

const gsm8kDraft = (r: { question: string; answer: string }): Draft => ({
  prompt: `Question: ${r.question}\nAnswer:`,
  target: ` ${r.answer}`,
  meta: { answer: parseGsm8kAnswer(r.answer) },
});

export const REAL_TASKS: TaskDef<RealKnobs>[] = [
  realTask({
    id: 'gsm8k',
    title: 'GSM8K',
    family: 'reasoning',
    description: 'Grade-school math word problems (openai/grade-school-math): worked solution with <<a*b=c>> annotations ending in "#### N"; official test set (1319); validation carved from train.',
    promptTemplate: 'Question: {question}\nAnswer: {solution}\n#### {N}',
    defaultValid: 200,
    metrics: GSM8K_METRICS.map((m) => ({ ...m })),
    primaryMetric: 'exact_match',
    scoring: { kind: 'generate', maxNewTokens: 256, stop: 'Question:' },
    // A worked solution longer than the decoder may write cannot be scored or learned whole.
    maxLengths: { target: 256 },
    read(dataDir, validCount) {
      const { rest, valid } = carve('gsm8k', loadGsm8k('train', dataDir).map(gsm8kDraft), validCount);
      return { train: rest, valid, test: loadGsm8k('test', dataDir).map(gsm8kDraft) };
    },
    score: scoreGsm8k,
  }),
  realTask({
    id: 'wikisql',
    title: 'WikiSQL (mlx-examples subset)',
    family: 'simple',
    description: 'Table id, column names and a question -> SQL, in the mlx-examples LoRA format (1000/100/100). The tables are not included, so scoring is exact match only.',
    promptTemplate: 'table: {table}\ncolumns: {columns}\nQ: {question}\nA: {sql}',
    defaultValid: 100,
    metrics: [SQL_EXACT],
    primaryMetric: 'exact_match',
    scoring: { kind: 'generate', maxNewTokens: 64, stop: '\n' },
    read(dataDir, validCount) {
      const draft = (r: { prompt: string; sql: string }): Draft => ({ prompt: r.prompt, target: ` ${r.sql}` });
      const valid = loadWikiSql('valid', dataDir).map(draft);
      if (validCount > valid.length) throw new Error(`Task 'wikisql': valid=${validCount} but wikisql/valid.jsonl has ${valid.length} records`);
      return { train: loadWikiSql('train', dataDir).map(draft), valid: valid.slice(0, validCount), test: loadWikiSql('test', dataDir).map(draft) };
    },
    score: scoreSqlExact,
  }),
  realTask({
    id: 'sql-create-context',
    title: 'sql-create-context',
    family: 'simple',
    description:
      'Question + CREATE TABLE context -> SQL (b-mc2/sql-create-context subset, Spider-derived). Primary metric exact match; ' +
      'exec_acc_empty runs both queries on the empty tables of the context (a validity check more than an accuracy).',
    promptTemplate: 'Schema: {CREATE TABLE ...}\nQ: {question}\nSQL: {query}',
    defaultValid: 100,
    metrics: [
      SQL_EXACT,
      {
        name: 'exec_acc_empty',
        direction: 'higher',
        description: 'Share of queries whose result on the context\'s empty tables equals the reference\'s (examples whose reference runs).',
      },
    ],
    primaryMetric: 'exact_match',
    scoring: { kind: 'generate', maxNewTokens: 96, stop: '\n' },
    read(dataDir, validCount) {
      const draft = (r: { question: string; context: string; answer: string }): Draft => ({
        prompt: `Schema: ${r.context}\nQ: ${r.question}\nSQL:`,
        target: ` ${r.answer}`,
        meta: { setupSql: mergeCreateTables(r.context) },
      });
      const { rest, valid } = carve('sql-create-context', loadSqlCreateContext('train', dataDir).map(draft), validCount);
      return { train: rest, valid, test: loadSqlCreateContext('eval', dataDir).map(draft) };
    },
    score: scoreSqlCreateContext,
  }),
  realTask({
    id: 'mnli',
    title: 'MultiNLI (matched)',
    family: 'simple',
    description: 'MultiNLI dev_matched (9815 gold-labelled pairs). The train set is not in the data directory, so the file is split by a fixed hash of the prompt (~80% train, ~10% test, validation from the remaining ~10%).',
    promptTemplate: NLI_TEMPLATE,
    defaultValid: 200,
    metrics: ACC,
    primaryMetric: 'acc',
    scoring: { kind: 'choice', choices: THREE_WAY.map((l) => ` ${l}`) },
    read: (dataDir, validCount) => hashSplit('mnli', loadMnli(dataDir).map(nliDraft(THREE_WAY)), validCount),
    score: scoreChoice,
  }),
  realTask({
    id: 'snli',
    title: 'SNLI',
    family: 'simple',
    description: 'SNLI dev (9842 gold-labelled pairs), split by a fixed hash of the prompt like mnli.',
    promptTemplate: NLI_TEMPLATE,
    defaultValid: 200,
    metrics: ACC,
    primaryMetric: 'acc',
    scoring: { kind: 'choice', choices: THREE_WAY.map((l) => ` ${l}`) },
    read: (dataDir, validCount) => hashSplit('snli', loadSnli(dataDir).map(nliDraft(THREE_WAY)), validCount),
    score: scoreChoice,
  }),
  realTask({
    id: 'rte',
    title: 'RTE',
    family: 'simple',
    description: 'Recognising Textual Entailment (GLUE): train (2490, validation carved from it) and the dev set (277) as test.',
    promptTemplate: NLI_TEMPLATE,
    defaultValid: 100,
    metrics: ACC,
    primaryMetric: 'acc',
    scoring: { kind: 'choice', choices: [' entailment', ' not_entailment'] },
    read(dataDir, validCount) {
      const draft = nliDraft(['entailment', 'not_entailment']);
      const { rest, valid } = carve('rte', loadRte('train', dataDir).map(draft), validCount);
      return { train: rest, valid, test: loadRte('dev', dataDir).map(draft) };
    },
    score: scoreChoice,
  }),
  realTask({
    id: 'samsum',
    title: 'SAMSum',
    family: 'simple',
    description: 'Messenger-style dialogues -> abstractive summary. Official test (819); the train split is not in the data directory, so training uses the official validation file (818) minus the carved validation examples.',
    promptTemplate: 'Dialogue:\n{dialogue}\nSummary: {summary}',
    defaultValid: 100,
    metrics: ROUGE_METRICS.map((m) => ({ ...m })),
    primaryMetric: 'rougeL',
    scoring: { kind: 'generate', maxNewTokens: 96, stop: '\n' },
    read(dataDir, validCount) {
      const draft = (r: { dialogue: string; summary: string; id: string }): Draft => ({
        prompt: `Dialogue:\n${r.dialogue}\nSummary:`,
        target: ` ${r.summary}`,
        meta: { sourceId: r.id },
      });
      const { rest, valid } = carve('samsum', loadSamsum('val', dataDir).map(draft), validCount);
      return { train: rest, valid, test: loadSamsum('test', dataDir).map(draft) };
    },
    score: scoreRouge,
  }),
  realTask({
    id: 'viggo',
    title: 'ViGGO',
    family: 'simple',
    description: 'Video-game meaning representation -> sentence (data-to-text). Training uses every (MR, reference) row; valid and test group the rows by MR, and ROUGE takes the best reference.',
    promptTemplate: 'Meaning: {mr}\nSentence: {text}',
    defaultValid: 100,
    metrics: ROUGE_METRICS.map((m) => ({ ...m })),
    primaryMetric: 'rougeL',
    scoring: { kind: 'generate', maxNewTokens: 96, stop: '\n' },
    read(dataDir, validCount) {
      const prompt = (mr: string) => `Meaning: ${mr}\nSentence:`;
      const grouped = (rows: ReturnType<typeof loadViggo>): Draft[] =>
        groupReferences(rows).map(({ mr, refs }) => ({ prompt: prompt(mr), target: ` ${refs[0]}`, meta: { references: refs } }));
      const valid = grouped(loadViggo('valid', dataDir));
      if (validCount > valid.length) throw new Error(`Task 'viggo': valid=${validCount} but viggo/valid.csv has ${valid.length} MRs`);
      return {
        train: loadViggo('train', dataDir).map(({ mr, ref }) => ({ prompt: prompt(mr), target: ` ${ref}` })),
        valid: valid.slice(0, validCount),
        test: grouped(loadViggo('test', dataDir)),
      };
    },
    score: scoreRouge,
  }),
];
