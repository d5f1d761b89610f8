// --time-limit: a grid starts no run estimated to end after the limit, and leaves it (and the runs that
// read its adapter) for the next invocation, instead of being cut off in the middle of it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords } from '@peft-bench/results/record/read';
import type { RunRequest } from '../src/grid/grid.ts';
import { runPool, type PoolJob } from '../src/grid/pool.ts';
import { loadCatalog } from '../src/run/registries.ts';
import { resolveRequests } from '../src/run/resolve.ts';
import { parseDuration } from '../src/cli/values.ts';
import { runCli } from './helpers.ts';

const request = (overrides: Partial<RunRequest>): RunRequest => ({
  experiment: 'test', method: 'lora', rank: 2, task: 'nli', seed: 0, lr: null, lrFactor: null, set: {},
  training: { steps: 4 }, taskConfig: { train: 16, valid: 4, test: 4 }, model: 'tiny-random', keepAdapters: false, protocol: 'fixed-300',
  ...overrides,
});
const worker = (out: string) => ({ outDir: out, backend: undefined, threads: 1, dataDir: undefined, adapterRoot: path.join(out, '.adapters'), keepAdapter: false });

describe('a grid under a time limit', { timeout: 180_000 }, () => {
  it('reads durations with units and rejects the rest, saying what is valid', () => {
    expect(parseDuration('--time-limit', '2h30m')).toBe(9000);
    expect(parseDuration('--time-limit', '45m')).toBe(2700);
    expect(parseDuration('--time-limit', '90s')).toBe(90);
    for (const bad of ['90', '0m', '2 hours', '-5m', '']) expect(() => parseDuration('--time-limit', bad)).toThrow(/expected a duration with units, e\.g\. 2h30m, 45m or 90s/);
  });

  it('leaves a run that would end after the deadline, and the runs that read its adapter, unstarted; runs the rest', async () => {
    const catalog = await loadCatalog();
    const runs = await resolveRequests([request({}), request({ method: 'full', rank: null })], catalog, { codeVersion: 'time-limit-test', defaultModel: 'tiny-random' });
    const jobs: PoolJob[] = runs.map((run) => ({ runId: run.runId, spec: run.spec, meta: run.meta, label: run.label, modelSource: run.modelSource, keepAdapter: false, dependsOn: [] }));
    // A third run that reads the full fine-tuning run's adapter: it cannot run without it.
    jobs.push({ ...jobs[0]!, runId: 'reads-the-late-run', label: 'dependent', dependsOn: [jobs[1]!.runId] });
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-time-limit-'));
    const hour = 3600;
    const summary = await runPool(jobs, {
      workers: 1,
      worker: worker(out),
      deadline: { at: Date.now() + hour * 1000, seconds: (job) => (job.runId === jobs[1]!.runId ? 2 * hour : 1) },
    });
    expect(summary.results.map((r) => [r.job.runId, r.status])).toEqual([[jobs[0]!.runId, 'ok']]);
    expect(summary.deferred.map((j) => j.runId).sort()).toEqual([jobs[1]!.runId, 'reads-the-late-run'].sort());
    expect(summary.unfinished.map((j) => j.runId).sort()).toEqual([jobs[1]!.runId, 'reads-the-late-run'].sort());
    expect(summary.interrupted).toBe(false);
    // Nothing was recorded for the deferred runs, not even a failure.
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.json'))).toEqual([`${jobs[0]!.runId}.json`]);
  });

  it('from the command line: says how many runs are left for next time, writes nothing for them, and the next invocation runs them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-time-limit-cli-'));
    const out = path.join(dir, 'results');
    fs.writeFileSync(path.join(dir, 'grid.yaml'), [
      'name: time-limit-test',
      'defaults: { model: tiny-random, protocol: fixed-300, tasks: [nli], seeds: [0], training: { steps: 4 }, task_config: { nli: { train: 16, valid: 4, test: 4 } } }',
      'experiments:',
      '  - { name: lora, methods: [lora], ranks: [2, 4] }',
      '',
    ].join('\n'));
    const env = { PEFT_BENCH_CODE_VERSION: 'time-limit-cli' };
    const limited = await runCli(['--grid', path.join(dir, 'grid.yaml'), '--out', out, '--workers', '1', '--per-run-seconds', '600', '--time-limit', '5m'], env);
    expect(limited.code).toBe(0);
    expect(limited.stderr).toContain('runs estimated to end after 5m 0s are left for next time');
    expect(limited.stderr).toMatch(/done: 0 runs finished .*; 2 left for next time \(estimated to end after the --time-limit of 5m 0s\): run the same command again/);
    expect(fs.existsSync(out) ? (await readRecords(out)).records : []).toEqual([]);
    const again = await runCli(['--grid', path.join(dir, 'grid.yaml'), '--out', out, '--workers', '1'], env);
    expect(again.code).toBe(0);
    expect((await readRecords(out)).records.map((r) => r.status)).toEqual(['ok', 'ok']);
    const bad = await runCli(['--method', 'lora', '--time-limit', '5m'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--time-limit applies to --grid only');
  });
});
