// Reading real datasets from a data directory: where it is, what each file must look like and where
// to get it, and line-numbered errors for malformed records.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import type { z } from 'zod';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The data directory: the explicit one, else PEFT_BENCH_DATA_DIR, else <repo>/data. */
export function resolveDataDir(dataDir?: string): string {
  return path.resolve(dataDir ?? process.env.PEFT_BENCH_DATA_DIR ?? path.join(REPO_ROOT, 'data'));
}

export interface DataSource {
  format: string;
  /** Where the public file comes from: repository, path in it, licence. */
  source: string;
}

/** Every file a real-tier task reads, relative to the data directory. */
export const DATA_FILES: Record<string, DataSource> = {
  'gsm8k/train.jsonl': { format: 'JSONL {"question", "answer"}; the answer ends with "#### N"', source: 'openai/grade-school-math, grade_school_math/data/train.jsonl (MIT)' },
  'gsm8k/test.jsonl': { format: 'JSONL {"question", "answer"}; the answer ends with "#### N"', source: 'openai/grade-school-math, grade_school_math/data/test.jsonl (MIT)' },
  'wikisql/train.jsonl': { format: 'JSONL {"text": "table: ...\\ncolumns: ...\\nQ: ...\\nA: SELECT ..."}', source: 'ml-explore/mlx-examples, lora/data/train.jsonl (WikiSQL, BSD-3-Clause)' },
  'wikisql/valid.jsonl': { format: 'JSONL {"text": "table: ...\\ncolumns: ...\\nQ: ...\\nA: SELECT ..."}', source: 'ml-explore/mlx-examples, lora/data/valid.jsonl (WikiSQL, BSD-3-Clause)' },
  'wikisql/test.jsonl': { format: 'JSONL {"text": "table: ...\\ncolumns: ...\\nQ: ...\\nA: SELECT ..."}', source: 'ml-explore/mlx-examples, lora/data/test.jsonl (WikiSQL, BSD-3-Clause)' },
  'sql-create-context/train.jsonl': { format: 'JSONL {"question", "context" (CREATE TABLE ...), "answer" (SQL)}', source: 'Samruddhi-7/SQL-LoRA, data/train.jsonl (b-mc2/sql-create-context, CC BY 4.0)' },
  'sql-create-context/eval.jsonl': { format: 'JSONL {"question", "context" (CREATE TABLE ...), "answer" (SQL)}', source: 'Samruddhi-7/SQL-LoRA, data/eval.jsonl (b-mc2/sql-create-context, CC BY 4.0)' },
  'mnli/dev_matched.jsonl': { format: 'JSONL {"premise", "hypothesis", "label": entailment|neutral|contradiction}', source: 'anthonywchen/generative-nli, data/mnli/dev.jsonl (MultiNLI dev_matched)' },
  'snli/dev.jsonl': { format: 'JSONL {"premise", "hypothesis", "label": entailment|neutral|contradiction}', source: 'anthonywchen/generative-nli, data/snli/dev.jsonl (SNLI, CC BY-SA 4.0)' },
  'rte/train_dev.jsonl': { format: 'JSONL {"premise", "hypothesis", "label": entailment|not_entailment, "tag": train|dev}', source: 'anthonywchen/generative-nli, data/rte/test.jsonl (RTE from GLUE)' },
  'samsum/test.csv': { format: 'CSV with header id,summary,dialogue', source: 'BinWang28/LA-BART, data/samsum/test.csv (SAMSum, CC BY-NC-ND 4.0)' },
  'samsum/val.csv': { format: 'CSV with header id,summary,dialogue', source: 'BinWang28/LA-BART, data/samsum/val.csv (SAMSum, CC BY-NC-ND 4.0)' },
  'viggo/train.csv': { format: 'CSV with header mr,ref', source: 'jjuraska/data2text-nlg, data/video_game/train.csv (ViGGO, CC BY-SA 4.0)' },
  'viggo/valid.csv': { format: 'CSV with header mr,ref', source: 'jjuraska/data2text-nlg, data/video_game/valid.csv (ViGGO, CC BY-SA 4.0)' },
  'viggo/test.csv': { format: 'CSV with header mr,ref', source: 'jjuraska/data2text-nlg, data/video_game/test.csv (ViGGO, CC BY-SA 4.0)' },
};

/** The absolute path of a dataset file; throws naming the path, the format and the source when missing. */
export function dataFile(relativePath: string, dataDir?: string): string {
  const dir = resolveDataDir(dataDir);
  const file = path.join(dir, relativePath);
  if (existsSync(file)) return file;
  const known = DATA_FILES[relativePath];
  throw new Error(
    `Missing data file: ${file}\n` +
      (known ? `Expected format: ${known.format}\nGet it from: ${known.source}\n` : '') +
      `Put it at that path, or point PEFT_BENCH_DATA_DIR (or --data-dir) at a directory holding ${relativePath}.`,
  );
}

/** Parse a JSONL file, checking each record; errors name the file and the 1-based line. */
export function readJsonl<T>(file: string, schema: z.ZodType<T>): T[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new Error(`${file}:${i + 1}: malformed record: ${issue.path.join('.') || 'record'}: ${issue.message}`);
    }
    out.push(result.data);
  }
  return out;
}

/** One CSV record with the line it starts on. */
export interface CsvRow {
  line: number;
  values: Record<string, string>;
}

/** Parse a CSV file with a header row; CRLF (also inside quoted fields) becomes LF. */
export function readCsv(file: string, requiredColumns: string[]): CsvRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    // CRLF -> LF first (SAMSum uses CRLF, also inside quoted dialogues), so line numbers count real lines.
    const text = readFileSync(file, 'utf8').replace(/\r\n?/g, '\n');
    records = parseCsv(text, { columns: true, info: true, bom: true, skip_empty_lines: true }) as typeof records;
  } catch (error) {
    const where = (error as { lines?: number }).lines;
    throw new Error(`${file}${where ? `:${where}` : ''}: malformed CSV (${(error as Error).message})`);
  }
  const rows: CsvRow[] = [];
  let startLine = 2;
  for (const { record, info } of records) {
    for (const column of requiredColumns) {
      if (typeof record[column] !== 'string' || record[column].trim() === '') {
        throw new Error(`${file}:${startLine}: malformed record: column '${column}' is missing or empty (expected columns: ${requiredColumns.join(',')})`);
      }
    }
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(record)) values[key] = value;
    rows.push({ line: startLine, values });
    startLine = info.lines + 1;
  }
  return rows;
}
