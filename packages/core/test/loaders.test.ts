// Real-tier loaders and tasks on the copies in ../shared/datasets (counts from its MANIFEST.md).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
  REPO_ROOT,
} from '../src/data/index.ts';
import { getTask, normalisePrompt } from '../src/tasks/index.ts';

const DATA = path.resolve(REPO_ROOT, '../shared/datasets');

describe.skipIf(!existsSync(DATA))('real datasets', () => {
  it('record counts match the MANIFEST', () => {
    expect(loadGsm8k('test', DATA).length).toBe(1319);
    expect(loadGsm8k('train', DATA).length).toBe(7473);
    expect(loadSamsum('test', DATA).length).toBe(819);
    expect(loadSamsum('val', DATA).length).toBe(818);
    expect(loadRte('train', DATA).length).toBe(2490);
    expect(loadRte('dev', DATA).length).toBe(277);
    expect(loadMnli(DATA).length).toBe(9815);
    expect(loadSnli(DATA).length).toBe(9842);
    expect([loadWikiSql('train', DATA).length, loadWikiSql('valid', DATA).length, loadWikiSql('test', DATA).length]).toEqual([1000, 100, 100]);
    expect([loadSqlCreateContext('train', DATA).length, loadSqlCreateContext('eval', DATA).length]).toEqual([1200, 150]);
    expect([loadViggo('train', DATA).length, loadViggo('valid', DATA).length, loadViggo('test', DATA).length]).toEqual([5103, 714, 1083]);
  });

  it('groups ViGGO test references by meaning representation', () => {
    const rows = loadViggo('test', DATA);
    const groups = groupReferences(rows);
    expect(groups.length).toBe(359);
    expect(groups.reduce((sum, g) => sum + g.refs.length, 0)).toBe(1083);
    expect(groups[0].mr).toMatch(/^verify_attribute\(name\[Little Big Adventure\]/);
    expect(groups[0].refs.length).toBe(3);
  });

  it('normalises SAMSum CRLF dialogues to LF', () => {
    const [first] = loadSamsum('test', DATA);
    expect(first.id).toBe('13862856');
    expect(first.dialogue).not.toMatch(/\r/);
    expect(first.dialogue.split('\n')[0]).toBe("Hannah: Hey, do you have Betty's number?");
  });

  it('parses WikiSQL mlx text records', () => {
    const [first] = loadWikiSql('test', DATA);
    expect(first.table).toBe('1-10015132-16');
    expect(first.sql).toBe("SELECT Nationality FROM 1-10015132-16 WHERE Player = 'Terrence Ross'");
    expect(first.prompt.endsWith("\nQ: What is terrence ross' nationality\nA:")).toBe(true);
  });

  it.each([
    ['gsm8k', 7273, 200, 1319],
    ['wikisql', 1000, 100, 100],
    ['sql-create-context', 1100, 100, 150],
    ['rte', 2389, 100, 277],
    ['samsum', 714, 100, 819],
    ['viggo', 5010, 100, 359],
  ])('task %s loads disjoint splits %i/%i/%i', async (id, train, valid, test) => {
    const splits = await getTask(id).load({ seed: 0, dataDir: DATA });
    expect([splits.train.length, splits.valid.length, splits.test.length]).toEqual([train, valid, test]);
    // Training records that repeat a validation or test prompt are dropped (RTE has a duplicate pair,
    // some ViGGO MRs occur in more than one split).
    const held = new Set([...splits.valid, ...splits.test].map((e) => normalisePrompt(e.prompt)));
    expect(splits.train.filter((e) => held.has(normalisePrompt(e.prompt)))).toEqual([]);
  }, 30_000);

  it('hash-splits MNLI and SNLI with no shared prompt, the same for every seed', async () => {
    for (const id of ['mnli', 'snli']) {
      const a = await getTask(id).load({ seed: 0, dataDir: DATA });
      const b = await getTask(id).load({ seed: 1, dataDir: DATA, knobs: { train: 50 } });
      expect(b.test).toEqual(a.test);
      expect(b.valid).toEqual(a.valid);
      expect(a.test.length).toBeGreaterThan(800);
      const test = new Set(a.test.map((e) => normalisePrompt(e.prompt)));
      const leaked = [...a.train, ...a.valid].filter((e) => test.has(normalisePrompt(e.prompt)));
      expect(leaked).toEqual([]);
    }
  }, 60_000);

  it('scores references perfectly on every real task', async () => {
    for (const id of ['gsm8k', 'wikisql', 'sql-create-context', 'rte', 'samsum', 'viggo']) {
      const task = getTask(id);
      const { test } = await task.load({ seed: 0, dataDir: DATA, knobs: { test: 40 } });
      const scores = await task.score(test.map((e) => e.target), test);
      expect(scores[task.primaryMetric], id).toBe(1);
      for (const value of Object.values(scores)) expect(value).toBe(1);
    }
  }, 60_000);

  it('ViGGO ROUGE takes the best of several references', async () => {
    const task = getTask('viggo');
    const { test } = await task.load({ seed: 0, dataDir: DATA });
    const example = test.find((e) => (e.meta!.references as string[]).length >= 3)!;
    const second = (example.meta!.references as string[])[1];
    expect((await task.score([second], [example])).rougeL).toBe(1);
  });

  it('a missing data directory names the file and the source', async () => {
    await expect(getTask('samsum').load({ seed: 0, dataDir: '/nonexistent-data' })).rejects.toThrow(
      /Missing data file: \/nonexistent-data\/samsum\/val.csv\nExpected format: CSV with header id,summary,dialogue\nGet it from: BinWang28\/LA-BART/,
    );
  });
});
