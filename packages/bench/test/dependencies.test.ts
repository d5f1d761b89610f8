// Runs that read another run's adapter: the grid runs the referenced run first with its adapter
// kept, hands the reference over as `run:<id>`, and `bench slice` scores a kept adapter post hoc.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readRecords } from '@peft-bench/results/record/read';
import { sliceCommand } from '../src/cli/slice.ts';
import { runCli } from './helpers.ts';

const GRID = `
name: dependency-test
defaults:
  model: tiny-random
  tasks: [nli]
  seeds: [0]
  task_config:
    nli: { train: 16, valid: 2, test: 2 }
experiments:
  - name: top-components
    methods: [svd-slice]
    set:
      adapter: { adapter_of: { method: lora, rank: 4, training: { steps: 4 } } }
      from: 1
      to: 2
    training: { steps: 0 }
`;

describe('adapter references', () => {
  it('runs the referenced run first, keeps its adapter, and scores slices of it', { timeout: 180_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-deps-'));
    const out = path.join(dir, 'results');
    fs.writeFileSync(path.join(dir, 'grid.yaml'), GRID);
    const result = await runCli(['--grid', path.join(dir, 'grid.yaml'), '--out', out, '--workers', '2', '--json'], { PEFT_BENCH_CODE_VERSION: 'deps-test' });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    const { records, problems } = await readRecords(out);
    expect(problems).toEqual([]);
    const lora = records.find((record) => record.method.id === 'lora')!;
    const slice = records.find((record) => record.method.id === 'svd-slice')!;
    // A 4-step run on the untrained tiny model may end above its first loss (then 'diverged'); either way it made an adapter.
    expect(['ok', 'diverged']).toContain(lora.status);
    expect(lora.training.steps).toBe(4);
    expect(slice.status).toBe('ok');
    expect(slice.method.config).toMatchObject({ adapter: `run:${lora.run_id}`, from: 1, to: 2 });
    expect(slice.training.steps).toBe(0);
    expect(slice.metrics.primary).not.toBeNull();
    expect(fs.existsSync(path.join(dir, '.adapters', lora.run_id, 'adapter_model.safetensors'))).toBe(true);

    // Post hoc, from the command line: components 2..4 of the same adapter.
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await sliceCommand({ run: lora.run_id, from: '2', to: '4', results: out, out, threads: '1' });
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
    expect(code).toBe(0);
    const after = (await readRecords(out)).records.filter((record) => record.method.id === 'svd-slice');
    expect(after.map((record) => record.method.config.to).sort()).toEqual([2, 4]);

    // A run without a kept adapter is refused with the reason.
    const missing = await sliceCommand({ run: slice.run_id, from: '1', to: '2', results: out, out });
    expect(missing).toBe(2);
  });
});
