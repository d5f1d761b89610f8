// Every real-tier loader end to end on tiny files in the real formats (written by the test) and the
// seeded tiny model: a few training steps, scoring, and a record that counts what the length
// policy did (one over-long target excluded, over-long contexts cut from the left); a 3-step run
// with a noisy loss is not called diverged.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRecord } from '@peft-bench/results/record/schema';
import { executeRun } from '../src/run/execute.ts';
import { loadCatalog } from '../src/run/registries.ts';
import { resolveRequests } from '../src/run/resolve.ts';
import { GENERATION_TASKS, REAL_TASK_IDS, writeTinyDatasets } from './real-data.ts';

describe('real tasks end to end on tiny data', { timeout: 120_000 }, () => {
  const dataDir = writeTinyDatasets();
  for (const task of REAL_TASK_IDS) {
    it(`${task}: trains, scores and records the excluded and truncated counts`, async () => {
      const [run] = await resolveRequests(
        [{ experiment: 'test', method: 'lora', rank: 2, task, seed: 0, lr: null, lrFactor: null, set: {}, training: { steps: 3 }, taskConfig: {}, model: 'tiny-random', keepAdapters: false }],
        await loadCatalog(),
        { codeVersion: 'test', defaultModel: 'tiny-random' },
      );
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-real-run-'));
      const { record } = await executeRun(
        { runId: run!.runId, spec: run!.spec, meta: run!.meta, modelSource: run!.modelSource },
        { outDir: out, backend: undefined, threads: 1, dataDir, adapterRoot: os.tmpdir(), keepAdapter: false },
      );
      expect(record.reason).toBeNull();
      expect(record.status).toBe('ok');
      expect(runRecord.safeParse(record).success).toBe(true);
      expect(record.task.tier).toBe('real');
      expect(record.metrics.primary).toBeGreaterThanOrEqual(0);
      const { excluded, truncated } = record.examples!;
      expect(excluded.train + excluded.valid + excluded.test).toBe(GENERATION_TASKS.includes(task) ? 1 : 0);
      expect(truncated.train + truncated.valid + truncated.test).toBeGreaterThanOrEqual(1);
    });
  }
});
