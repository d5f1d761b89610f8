// Per-example test scores in records: a real short run on the tiny model keeps one score per test
// example for every metric, in test-split order, whose mean is the reported metric; records of
// different methods on the same task carry the same example hash (so they can be paired).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getTask } from '@peft-bench/core/tasks/index';
import { decodeScores } from '@peft-bench/results/record/verify';
import { loadRecordFile } from '@peft-bench/results/record/store';
import { executeRun } from '../src/run/execute.ts';
import { encodeScores, exampleIdsHash } from '../src/run/per-example.ts';
import { loadCatalog } from '../src/run/registries.ts';
import { resolveRequests } from '../src/run/resolve.ts';
import type { RunRequest } from '../src/grid/grid.ts';

async function run(method: string, rank: number | null, task: string, test: number) {
  const request: RunRequest = {
    experiment: 'test', method, rank, task, seed: 0, lr: null, lrFactor: null, set: {},
    training: { steps: 4 }, taskConfig: { train: 32, valid: 2, test }, model: 'tiny-random', keepAdapters: false,
  };
  const [resolved] = await resolveRequests([request], await loadCatalog(), { codeVersion: 'per-example-test', defaultModel: 'tiny-random' });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-per-example-'));
  const env = { outDir: out, backend: undefined, threads: 1, dataDir: undefined, adapterRoot: os.tmpdir(), keepAdapter: false };
  const { record, path: file } = await executeRun({ runId: resolved!.runId, spec: resolved!.spec, meta: resolved!.meta, modelSource: resolved!.modelSource }, env);
  // What was written reads back verified, per-example scores included.
  const loaded = loadRecordFile(file);
  expect(loaded.ok).toBe(true);
  return { record, spec: resolved!.spec };
}

describe('per-example test scores', { timeout: 300_000 }, () => {
  it('keeps one score per test example for every metric; their mean is the reported metric', async () => {
    const lora = await run('lora', 2, 'nli', 12);
    const none = await run('none', null, 'nli', 12);
    const summarize = await run('lora', 2, 'summarize', 4);
    for (const { record, spec } of [lora, none, summarize]) {
      expect(record.status).toBe('ok');
      const per = record.test_examples!;
      const split = (await getTask(spec.task.id).load({ seed: spec.seed, knobs: spec.task.config })).test;
      expect(per.n).toBe(split.length);
      expect(per.ids_hash).toBe(exampleIdsHash(split));
      expect(Object.keys(per.scores).sort()).toEqual(Object.keys(record.metrics.test).sort());
      for (const [metric, encoded] of Object.entries(per.scores)) {
        const scores = decodeScores(encoded);
        expect(scores).toHaveLength(split.length);
        const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
        expect(Math.abs(mean - record.metrics.test[metric]!)).toBeLessThanOrEqual(5e-5);
      }
    }
    // nli accuracy is 0/1 per example: stored as a string of '0'/'1'.
    expect(lora.record.test_examples!.scores.acc).toMatch(/^[01]{12}$/);
    // Same task and knobs, another method: the same examples in the same order.
    expect(none.record.test_examples!.ids_hash).toBe(lora.record.test_examples!.ids_hash);
    expect(summarize.record.test_examples!.ids_hash).not.toBe(lora.record.test_examples!.ids_hash);
  });
});

describe('score encoding', () => {
  it("writes 0/1 scores as a string of '0'/'1' and other scores rounded to 4 decimals, and reads them back", () => {
    expect(encodeScores([1, 0, 0, 1])).toBe('1001');
    expect(encodeScores([0.123456, 1, 0, 0.99996])).toEqual([0.1235, 1, 0, 1]);
    expect(decodeScores('1001')).toEqual([1, 0, 0, 1]);
    expect(decodeScores([0.1235, 1])).toEqual([0.1235, 1]);
    expect(encodeScores([])).toBe('');
  });
});
