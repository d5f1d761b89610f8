// Token lengths of the real datasets under a tokenizer: how long targets and prompt + target are
// at the 50th/95th/99th percentile, to choose a base model's context. Used for the model card, and
// runnable alone: `tsx packages/bench/src/pretrain-lengths.ts <tokenizer.json>... [--data-dir <dir>]`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getTask, listTasks, loadTokenizer, type Tokenizer } from '@peft-bench/core';

const here = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_TOKENIZER = path.resolve(here, '../../core/models/naive/tokenizer.json');

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface LengthRow {
  dataset: string;
  examples: number;
  /** Under the measured tokenizer. */
  target: Percentiles;
  full: Percentiles;
  /** Under the default model's tokenizer. */
  defaultTarget: Percentiles;
  defaultFull: Percentiles;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = values.slice().sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** Training-split lengths (tokens, BOS/EOS not counted) of every real dataset found in `dataDir`. */
export async function measureTokenLengths(
  tokenizer: Tokenizer,
  dataDir: string,
  say: (s: string) => void = () => {},
  baseline: Tokenizer = loadTokenizer(DEFAULT_TOKENIZER),
): Promise<LengthRow[]> {
  const rows: LengthRow[] = [];
  for (const task of listTasks().filter((t) => t.tier === 'real')) {
    let examples: { prompt: string; target: string }[];
    try {
      examples = (await getTask(task.id).load({ seed: 0, dataDir })).train;
    } catch (e) {
      say(`token lengths: skipping ${task.id} (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    const lens = (tok: Tokenizer, f: (e: { prompt: string; target: string }) => string) => percentiles(examples.map((e) => tok.encode(f(e)).length));
    rows.push({
      dataset: task.id,
      examples: examples.length,
      target: lens(tokenizer, (e) => e.target),
      full: lens(tokenizer, (e) => e.prompt + e.target),
      defaultTarget: lens(baseline, (e) => e.target),
      defaultFull: lens(baseline, (e) => e.prompt + e.target),
    });
  }
  return rows;
}

const fmt = (p: Percentiles) => `${p.p50} / ${p.p95} / ${p.p99}`;

export function lengthTable(rows: LengthRow[]): string {
  const head = '| dataset | examples | target (this) | target (default) | prompt + target (this) | prompt + target (default) |\n|---|---|---|---|---|---|';
  return [head, ...rows.map((r) => `| ${r.dataset} | ${r.examples} | ${fmt(r.target)} | ${fmt(r.defaultTarget)} | ${fmt(r.full)} | ${fmt(r.defaultFull)} |`)].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const di = args.indexOf('--data-dir');
  const dataDir = di >= 0 ? args.splice(di, 2)[1]! : (process.env.PEFT_BENCH_DATA_DIR ?? '/work/shared/datasets');
  for (const file of args) {
    console.log(`\n${file}\n`);
    console.log(lengthTable(await measureTokenLengths(loadTokenizer(file), dataDir, console.error)));
  }
}
