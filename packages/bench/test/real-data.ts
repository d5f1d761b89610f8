// Tiny copies of the eight real datasets in their published formats, written to a temp dir: each
// generation task's training file holds one example whose target (450 bytes) cannot fit the
// tiny model's 384 positions, and every task has prompts longer than the context.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const LONG_TARGET = 'word '.repeat(90).trim();
const LONG_CONTEXT = 'Background that goes on and on. '.repeat(20);
const WORDS = ['red', 'blue', 'green', 'small', 'large', 'quick', 'slow', 'old', 'new', 'bright', 'dark', 'warm'];
const word = (i: number) => `${WORDS[i % WORDS.length]}${Math.floor(i / WORDS.length)}`;

function jsonl(rows: object[]): string {
  return `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
}

function csv(header: string[], rows: string[][]): string {
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  return `${header.join(',')}\n${rows.map((row) => row.map(quote).join(',')).join('\n')}\n`;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);

export function writeTinyDatasets(options: { longTargets?: number } = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-real-data-'));
  const long = options.longTargets ?? 1;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  const gsm = (i: number, longAnswer: boolean) => ({
    question: `${i === 1 ? LONG_CONTEXT : ''}Tom has ${i} ${word(i)} apples and buys ${i + 2} more. How many?`,
    answer: `${longAnswer ? `${LONG_TARGET}\n` : ''}Tom has ${i}+${i + 2}=<<${i}+${i + 2}=${2 * i + 2}>>${2 * i + 2} apples.\n#### ${2 * i + 2}`,
  });
  write('gsm8k/train.jsonl', jsonl(range(24).map((i) => gsm(i, i < long))));
  write('gsm8k/test.jsonl', jsonl(range(6, 100).map((i) => gsm(i, false))));

  const wiki = (i: number, longSql: boolean) => ({
    text: `table: 1-${i}\ncolumns: Name, Size${i === 1 ? `, ${LONG_CONTEXT}` : ''}\nQ: What is the size of ${word(i)}?\nA: SELECT Size FROM 1-${i} WHERE Name = '${longSql ? LONG_TARGET : word(i)}'`,
  });
  write('wikisql/train.jsonl', jsonl(range(20).map((i) => wiki(i, i < long))));
  write('wikisql/valid.jsonl', jsonl(range(6, 100).map((i) => wiki(i, false))));
  write('wikisql/test.jsonl', jsonl(range(6, 200).map((i) => wiki(i, false))));

  const scc = (i: number, longSql: boolean) => ({
    question: `How many ${word(i)} are there?`,
    context: `CREATE TABLE t${i} (name VARCHAR, size INTEGER)${i === 1 ? `; -- ${LONG_CONTEXT}` : ''}`,
    answer: longSql ? `SELECT COUNT(*) FROM t${i} WHERE name = '${LONG_TARGET}'` : `SELECT COUNT(*) FROM t${i} WHERE name = '${word(i)}'`,
  });
  write('sql-create-context/train.jsonl', jsonl(range(24).map((i) => scc(i, i < long))));
  write('sql-create-context/eval.jsonl', jsonl(range(6, 100).map((i) => scc(i, false))));

  const labels3 = ['entailment', 'neutral', 'contradiction'];
  const nli = (i: number) => ({
    premise: `${i % 5 === 1 ? LONG_CONTEXT : ''}The ${word(i)} cat sits on mat ${i}.`,
    hypothesis: `A cat ${i % 2 ? 'sits' : 'runs'} near ${word(i + 3)}.`,
    label: labels3[i % 3],
  });
  write('mnli/dev_matched.jsonl', jsonl(range(120).map(nli)));
  write('snli/dev.jsonl', jsonl(range(120, 1).map(nli)));
  write(
    'rte/train_dev.jsonl',
    jsonl(range(30).map((i) => ({ ...nli(i), label: i % 2 ? 'entailment' : 'not_entailment', tag: i < 22 ? 'train' : 'dev' }))),
  );

  const samsum = (i: number, longSummary: boolean) => [
    `${13680000 + i}`,
    longSummary ? LONG_TARGET : `${word(i)} will call back later.`,
    `Ann: ${i === 1 ? LONG_CONTEXT : ''}Are you there, ${word(i)}?\r\nBob: I will call you back.`,
  ];
  write('samsum/val.csv', csv(['id', 'summary', 'dialogue'], range(24).map((i) => samsum(i, i < long))));
  write('samsum/test.csv', csv(['id', 'summary', 'dialogue'], range(6, 100).map((i) => samsum(i, false))));

  const viggo = (i: number, longRef: boolean) => [
    `inform(name[${word(i)}], rating[${i % 2 ? 'good' : 'poor'}]${i === 1 ? `, genres[${LONG_CONTEXT}]` : ''})`,
    longRef ? LONG_TARGET : `${word(i)} is a ${i % 2 ? 'good' : 'poor'} game.`,
  ];
  write('viggo/train.csv', csv(['mr', 'ref'], range(20).map((i) => viggo(i, i < long))));
  write('viggo/valid.csv', csv(['mr', 'ref'], range(6, 100).map((i) => viggo(i, false))));
  write('viggo/test.csv', csv(['mr', 'ref'], range(6, 200).map((i) => viggo(i, false))));
  return dir;
}

/** The real tasks whose targets are free text (the others choose among labels). */
export const GENERATION_TASKS = ['gsm8k', 'wikisql', 'sql-create-context', 'samsum', 'viggo'];
export const REAL_TASK_IDS = ['gsm8k', 'wikisql', 'sql-create-context', 'mnli', 'snli', 'rte', 'samsum', 'viggo'];
