// Failures get another chance: a failed record is not finished (a single run and a grid redo it and
// replace the file), import replaces a failed record with a finished one, and a diverged record is
// final only on the backend it diverged on. Real runs on the tiny model, through the real CLI.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { importCommand } from '../src/cli/import.ts';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { loadRecordFile } from '@peft-bench/results/record/store';
import { runCli } from './helpers.ts';

const env = { PEFT_BENCH_CODE_VERSION: 'retry-test' };
const RUN = ['--method', 'lora', '--rank', '2', '--task', 'nli', '--model', 'tiny-random', '--steps', '4', '--knob', 'train=32', '--knob', 'valid=2', '--knob', 'test=4', '--json'];
const GRID = `
name: retry-test
defaults: { model: tiny-random, tasks: [nli], seeds: 1, task_config: { nli: { train: 32, valid: 2, test: 4 } } }
experiments:
  - { name: one, methods: [lora], ranks: [2], training: { steps: 4 } }
`;

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'peft-retry-'));
const read = (file: string): RunRecord => {
  const loaded = loadRecordFile(file);
  if (!loaded.ok) throw new Error(loaded.message);
  return loaded.record;
};
/** The same run recorded as failed (what a crash leaves): the spec, hence the run id, is unchanged. */
const asFailed = (record: RunRecord): RunRecord => ({
  ...record,
  status: 'failed',
  reason: 'worker died (SIGKILL)',
  metrics: { primary: null, valid: {}, test: {}, base_lm_loss_before: null, base_lm_loss_after: null },
  test_examples: undefined,
});

let okRecord: RunRecord;
let okFile: string;

describe('failed and diverged records', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    // One real run of the tiny model; the tests below start from its record.
    const out = tempDir();
    const first = await runCli([...RUN, '--out', out], env);
    expect(first.code, first.stderr).toBe(0);
    okFile = fs.readdirSync(out).map((name) => path.join(out, name))[0]!;
    okRecord = read(okFile);
    expect(okRecord.status).toBe('ok');
  }, 300_000);

  it('a single run retries a failed record and replaces the file', async () => {
    const out = tempDir();
    const file = path.join(out, path.basename(okFile));
    fs.writeFileSync(file, JSON.stringify(asFailed(okRecord)));
    expect(read(file).status).toBe('failed');
    const again = await runCli([...RUN, '--out', out], env);
    expect(again.code, again.stderr).toBe(0);
    const event = JSON.parse(again.stdout.split('\n')[0]!) as { reused: boolean; path: string };
    expect(event).toMatchObject({ reused: false, path: file });
    expect(read(file).status).toBe('ok');
    expect(fs.readdirSync(out)).toEqual([path.basename(file)]);
    // Now it is finished: a third run reuses it.
    const third = await runCli([...RUN, '--out', out], env);
    expect(JSON.parse(third.stdout.split('\n')[0]!)).toMatchObject({ reused: true });
  });

  it('a grid plans a failed run again and runs it, replacing the record', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'results');
    fs.writeFileSync(path.join(dir, 'grid.yaml'), GRID);
    const args = ['--grid', path.join(dir, 'grid.yaml'), '--out', out, '--workers', '1', '--json'];
    const plan = JSON.parse((await runCli([...args, '--dry-run'], env)).stdout.split('\n')[0]!) as { todo: number; run_list: { run_id: string }[] };
    expect(plan.run_list.map((run) => run.run_id)).toEqual([okRecord.run_id]);
    fs.mkdirSync(out);
    const file = path.join(out, `${okRecord.run_id}.json`);
    fs.writeFileSync(file, JSON.stringify(asFailed(okRecord)));
    expect(JSON.parse((await runCli([...args, '--dry-run'], env)).stdout.split('\n')[0]!)).toMatchObject({ finished: 0, todo: 1 });
    const run = await runCli(args, env);
    expect(run.code, run.stderr).toBe(0);
    expect(read(file).status).toBe('ok');
    expect(JSON.parse((await runCli([...args, '--dry-run'], env)).stdout.split('\n')[0]!)).toMatchObject({ finished: 1, todo: 0 });
  });

  it('a diverged record is final on its own backend and retried on another', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'results');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(dir, 'grid.yaml'), GRID);
    const backend = okRecord.provenance.backend;
    const other = backend === 'cpu' ? 'wasm' : 'cpu';
    const diverged: RunRecord = { ...okRecord, status: 'diverged', reason: 'loss ended above its start' };
    fs.writeFileSync(path.join(out, `${okRecord.run_id}.json`), JSON.stringify(diverged));
    const plan = async (backend: string) =>
      JSON.parse((await runCli(['--grid', path.join(dir, 'grid.yaml'), '--out', out, '--json', '--dry-run', '--backend', backend], env)).stdout.split('\n')[0]!);
    expect(await plan(backend)).toMatchObject({ finished: 1, todo: 0 });
    expect(await plan(other)).toMatchObject({ finished: 0, todo: 1 });
  });

  it('--finished-in skips runs finished in another directory while new records go to --out', async () => {
    const dir = tempDir();
    const finished = path.join(dir, 'results');
    fs.mkdirSync(finished);
    fs.copyFileSync(okFile, path.join(finished, path.basename(okFile)));
    fs.writeFileSync(path.join(dir, 'grid.yaml'), GRID);
    const args = ['--grid', path.join(dir, 'grid.yaml'), '--out', path.join(dir, 'new'), '--json', '--dry-run'];
    expect(JSON.parse((await runCli(args, env)).stdout.split('\n')[0]!)).toMatchObject({ todo: 1 });
    expect(JSON.parse((await runCli([...args, '--finished-in', finished], env)).stdout.split('\n')[0]!)).toMatchObject({ todo: 0 });
  });

  it('import replaces a failed record with a finished one, and keeps a finished one', async () => {
    const out = tempDir();
    const incoming = tempDir();
    const name = path.basename(okFile);
    fs.writeFileSync(path.join(out, name), JSON.stringify(asFailed(okRecord)));
    fs.copyFileSync(okFile, path.join(incoming, name));
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await importCommand(incoming, { out })).toBe(0);
      expect(read(path.join(out, name)).status).toBe('ok');
      expect(stdout.mock.calls.map(String).join('')).toContain('imported 0 records into');
      expect(stdout.mock.calls.map(String).join('')).toContain('(1 replaced, 0 already there, 0 invalid files skipped)');
      // A failed record does not replace a finished one.
      fs.writeFileSync(path.join(incoming, name), JSON.stringify(asFailed(okRecord)));
      expect(await importCommand(incoming, { out })).toBe(0);
      expect(read(path.join(out, name)).status).toBe('ok');
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});
