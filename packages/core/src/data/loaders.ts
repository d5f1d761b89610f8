// Loaders for the real datasets, one per file format, returning plain records.
// Task definitions (tasks/real.ts) turn these into prompts, targets and splits.
import { z } from 'zod';
import { dataFile, readCsv, readJsonl } from './files.ts';

const nonEmpty = z.string().min(1, 'must be a non-empty string');

export interface Gsm8kRecord {
  question: string;
  answer: string;
}
const gsm8kRecord = z.object({
  question: nonEmpty,
  answer: nonEmpty.refine((a) => a.includes('####'), "must end with '#### <number>'"),
});

export function loadGsm8k(split: 'train' | 'test', dataDir?: string): Gsm8kRecord[] {
  return readJsonl(dataFile(`gsm8k/${split}.jsonl`, dataDir), gsm8kRecord);
}

export interface WikiSqlRecord {
  table: string;
  columns: string;
  question: string;
  sql: string;
  /** Everything up to and including "A:", as the mlx-examples prompt has it. */
  prompt: string;
}
const WIKISQL_TEXT = /^table: (.*)\ncolumns: (.*)\nQ: (.*)\nA: (.*)$/s;
const wikisqlRecord = z.object({
  text: nonEmpty.regex(WIKISQL_TEXT, 'must be "table: ...\\ncolumns: ...\\nQ: ...\\nA: ..."'),
});

export function loadWikiSql(split: 'train' | 'valid' | 'test', dataDir?: string): WikiSqlRecord[] {
  return readJsonl(dataFile(`wikisql/${split}.jsonl`, dataDir), wikisqlRecord).map(({ text }) => {
    const [, table, columns, question, sql] = WIKISQL_TEXT.exec(text)!;
    return { table, columns, question, sql: sql.trim(), prompt: text.slice(0, text.lastIndexOf('\nA:') + 3) };
  });
}

export interface SqlCreateContextRecord {
  question: string;
  context: string;
  answer: string;
}
const sqlCreateContextRecord = z.object({ question: nonEmpty, context: nonEmpty, answer: nonEmpty });

export function loadSqlCreateContext(split: 'train' | 'eval', dataDir?: string): SqlCreateContextRecord[] {
  return readJsonl(dataFile(`sql-create-context/${split}.jsonl`, dataDir), sqlCreateContextRecord);
}

export interface NliRecord {
  premise: string;
  hypothesis: string;
  label: string;
}
const threeWayRecord = z.object({
  premise: nonEmpty,
  hypothesis: nonEmpty,
  label: z.enum(['entailment', 'neutral', 'contradiction']),
});
const rteRecord = z.object({
  premise: nonEmpty,
  hypothesis: nonEmpty,
  label: z.enum(['entailment', 'not_entailment']),
  tag: z.enum(['train', 'dev']),
});

export function loadMnli(dataDir?: string): NliRecord[] {
  return readJsonl(dataFile('mnli/dev_matched.jsonl', dataDir), threeWayRecord);
}

export function loadSnli(dataDir?: string): NliRecord[] {
  return readJsonl(dataFile('snli/dev.jsonl', dataDir), threeWayRecord);
}

/** RTE records of one GLUE split, by the file's `tag`. */
export function loadRte(tag: 'train' | 'dev', dataDir?: string): NliRecord[] {
  return readJsonl(dataFile('rte/train_dev.jsonl', dataDir), rteRecord)
    .filter((record) => record.tag === tag)
    .map(({ premise, hypothesis, label }) => ({ premise, hypothesis, label }));
}

export interface SamsumRecord {
  id: string;
  summary: string;
  dialogue: string;
}

export function loadSamsum(split: 'val' | 'test', dataDir?: string): SamsumRecord[] {
  return readCsv(dataFile(`samsum/${split}.csv`, dataDir), ['id', 'summary', 'dialogue']).map(({ values }) => ({
    id: values.id,
    summary: values.summary.trim(),
    dialogue: values.dialogue.trim(),
  }));
}

export interface ViggoRecord {
  mr: string;
  ref: string;
}

/** ViGGO rows: one (meaning representation, reference) pair each; test has several rows per MR. */
export function loadViggo(split: 'train' | 'valid' | 'test', dataDir?: string): ViggoRecord[] {
  return readCsv(dataFile(`viggo/${split}.csv`, dataDir), ['mr', 'ref']).map(({ values }) => ({
    mr: values.mr.trim(),
    ref: values.ref.trim(),
  }));
}

/** Rows grouped by meaning representation, in first-seen order: one item per MR with all its references. */
export function groupReferences(records: ViggoRecord[]): { mr: string; refs: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const { mr, ref } of records) {
    const refs = groups.get(mr);
    if (refs) refs.push(ref);
    else groups.set(mr, [ref]);
  }
  return [...groups].map(([mr, refs]) => ({ mr, refs }));
}
