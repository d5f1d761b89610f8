import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataFile, encodeExamples, loadGsm8k, loadSamsum, loadWikiSql, readCsv, resolveDataDir } from '../src/data/index.ts';
import { ByteTokenizer } from '../src/tokenizer/index.ts';

function tempDataDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'peft-bench-data-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

describe('encodeExamples', () => {
  const tokenizer = new ByteTokenizer();
  const bytes = (text: string) => [...Buffer.from(text)];

  it('shifts by one and weights only the target and EOS', () => {
    const batch = encodeExamples(tokenizer, [{ id: 'a', prompt: 'Q:', target: ' hi' }], { maxSeq: 8 });
    const row = [tokenizer.bosId, ...bytes('Q:'), ...bytes(' hi'), tokenizer.eosId]; // 7 tokens
    expect(Array.from(batch.tokens)).toEqual([...row.slice(0, 6), tokenizer.padId, tokenizer.padId]);
    expect(Array.from(batch.targets)).toEqual([...row.slice(1), tokenizer.padId, tokenizer.padId]);
    // targets: Q : ␠ h i EOS -> weights on ␠ h i EOS only.
    expect(Array.from(batch.weights)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(batch.lengths)).toEqual([6]);
    expect(Array.from(batch.promptLengths)).toEqual([3]);
    expect(batch.truncated).toEqual([]);
  });

  it('lays out several rows and can leave out BOS', () => {
    const batch = encodeExamples(
      tokenizer,
      [
        { id: 'a', prompt: 'ab', target: 'c' },
        { id: 'b', prompt: 'x', target: 'yz' },
      ],
      { maxSeq: 5, addBos: false },
    );
    expect(batch.n).toBe(2);
    expect(Array.from(batch.tokens.subarray(5, 10))).toEqual([...bytes('xyz'), tokenizer.padId, tokenizer.padId]);
    expect(Array.from(batch.weights.subarray(0, 5))).toEqual([0, 1, 1, 0, 0]);
    expect(Array.from(batch.weights.subarray(5, 10))).toEqual([1, 1, 1, 0, 0]);
  });

  it('cuts the prompt from the left, never the target', () => {
    const batch = encodeExamples(tokenizer, [{ id: 'long', prompt: 'abcdefgh', target: 'XY' }], { maxSeq: 6 });
    // 7 tokens fit before the shift: BOS + 'fgh' + 'XY' + EOS.
    expect(batch.truncated).toEqual(['long']);
    expect(Array.from(batch.tokens)).toEqual([tokenizer.bosId, ...bytes('fghXY')]);
    expect(Array.from(batch.targets)).toEqual([...bytes('fghXY'), tokenizer.eosId]);
    expect(Array.from(batch.weights)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('explains a target that cannot fit', () => {
    expect(() => encodeExamples(tokenizer, [{ id: 'ex-7', prompt: 'p', target: 'abcdefgh' }], { maxSeq: 6 })).toThrow(
      /Example ex-7: the target is 9 tokens with EOS \(\+1 BOS\), more than maxSeq=6 allows/,
    );
    expect(() => encodeExamples(tokenizer, [], { maxSeq: 1 })).toThrow(/maxSeq must be an integer >= 2/);
  });
});

describe('data files', () => {
  it('a missing file names its path, format and source', () => {
    const dir = tempDataDir({});
    expect(() => loadGsm8k('test', dir)).toThrow(
      new RegExp(
        `Missing data file: ${path.join(dir, 'gsm8k/test.jsonl')}\\nExpected format: JSONL \\{"question", "answer"\\}.*\\nGet it from: openai/grade-school-math`,
      ),
    );
  });

  it('a malformed JSONL record names the file and line', () => {
    const good = JSON.stringify({ question: 'q', answer: 'a\n#### 1' });
    const dir = tempDataDir({
      'gsm8k/test.jsonl': `${good}\n\n${good}\n{"question": "q", "answer": 5}\n`,
      'gsm8k/train.jsonl': `${good}\n{not json\n`,
      'wikisql/test.jsonl': `${JSON.stringify({ text: 'no structure here' })}\n`,
    });
    expect(() => loadGsm8k('test', dir)).toThrow(new RegExp(`gsm8k/test.jsonl:4: malformed record: answer: Invalid input: expected string`));
    expect(() => loadGsm8k('train', dir)).toThrow(/gsm8k\/train.jsonl:2: not valid JSON/);
    expect(() => loadWikiSql('test', dir)).toThrow(/wikisql\/test.jsonl:1: malformed record: text: must be "table: /);
  });

  it('reads CSV with CRLF inside quoted fields and reports bad rows by line', () => {
    const dir = tempDataDir({
      'samsum/test.csv': 'id,summary,dialogue\r\n1,Ann greets.,"Ann: hi\r\nBob: hey"\r\n2,Bob leaves.,"Bob: bye"\r\n',
      'bad.csv': 'mr,ref\n"a",ok\n"b\nc",\n',
    });
    const records = loadSamsum('test', dir);
    expect(records).toEqual([
      { id: '1', summary: 'Ann greets.', dialogue: 'Ann: hi\nBob: hey' },
      { id: '2', summary: 'Bob leaves.', dialogue: 'Bob: bye' },
    ]);
    expect(() => readCsv(path.join(dir, 'bad.csv'), ['mr', 'ref'])).toThrow(/bad.csv:3: malformed record: column 'ref' is missing or empty/);
  });

  it('resolves the data directory from the option, then the environment', () => {
    expect(resolveDataDir('/x/y')).toBe('/x/y');
    const saved = process.env.PEFT_BENCH_DATA_DIR;
    process.env.PEFT_BENCH_DATA_DIR = '/from/env';
    try {
      expect(resolveDataDir()).toBe('/from/env');
      expect(() => dataFile('gsm8k/test.jsonl')).toThrow(/Missing data file: \/from\/env\/gsm8k\/test.jsonl/);
    } finally {
      if (saved === undefined) delete process.env.PEFT_BENCH_DATA_DIR;
      else process.env.PEFT_BENCH_DATA_DIR = saved;
    }
  });
});
