// Bad input: one paragraph on stderr naming what was wrong and what is valid, exit code 2, no
// record written, and all of it checked before any training starts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mainCommand, type MainOptions } from '../src/cli/main.ts';
import { runCli } from './helpers.ts';

function options(overrides: Partial<MainOptions>): MainOptions {
  return { seeds: '1', model: 'tiny-random', set: [], knob: [], out: fs.mkdtempSync(path.join(os.tmpdir(), 'peft-cli-')), ...overrides };
}

async function run(overrides: Partial<MainOptions>): Promise<{ code: number; stderr: string; out: string }> {
  const opts = options(overrides);
  fs.rmSync(opts.out, { recursive: true });
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = await mainCommand(opts);
    return { code, stderr, out: opts.out };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('CLI bad input', { timeout: 60_000 }, () => {
  const cases: [string, Partial<MainOptions>, RegExp][] = [
    ['an unknown method lists the valid ones', { method: 'lorra' }, /Unknown method "lorra"\. Valid methods: (?=.*\blora\b)(?=.*\bfull\b)/],
    ['an unknown task lists the valid ones', { method: 'lora', task: 'nli,chess' }, /Unknown task "chess"\. Valid tasks: .*\bsql\b.*\bmath\b/],
    ['a rank for a method without one', { method: 'full', rank: '8' }, /"full" takes no rank.*lora \(r\)/],
    ['an invalid --set value names the field', { method: 'lora', set: ['lora_alpha=lots'] }, /method "lora".*lora_alpha=lots.*not a number/],
    ['an unknown --set field lists the valid ones', { method: 'lora', set: ['alpha=2'] }, /unknown hyperparameter 'alpha'.*lora_alpha/],
    ['a rank outside the allowed range', { method: 'lora', rank: '100000' }, /Invalid configuration for method "lora".*\br\b/],
    ['an unreadable --data-dir', { method: 'lora', dataDir: '/nonexistent/peft-data' }, /--data-dir \/nonexistent\/peft-data cannot be read/],
    ['an unknown backend lists the valid ones', { method: 'lora', backend: 'cuda' }, /Unknown backend "cuda"\. Valid backends: .*wasm-blas/],
    ['an invalid --seeds', { method: 'lora', seeds: 'x' }, /Invalid --seeds "x"/],
    ['a micro-batch that does not divide the batch', { method: 'lora', batch: '4', microBatch: '3' }, /micro_batch_size=3 must divide batch_size=4/],
    ['an invalid task knob names it', { method: 'lora', task: 'nli', knob: ['test=0'] }, /Invalid knobs for task 'nli'.*test/s],
    ['an unknown model', { method: 'lora', model: 'gpt-9' }, /Unknown model "gpt-9".*naive, tiny-random, base, base-large; `default` = base/],
  ];
  for (const [name, overrides, message] of cases) {
    it(name, async () => {
      const result = await run(overrides);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(4);
      expect(fs.existsSync(result.out)).toBe(false);
    });
  }

  it('an empty checkpoint directory says what a checkpoint holds', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-empty-model-'));
    const result = await run({ method: 'lora', model: empty });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/holds no model: expected config\.json and model\.safetensors/);
  });

  it('a grid that names an unknown method is rejected before any run', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-badgrid-'));
    const grid = path.join(dir, 'g.yaml');
    fs.writeFileSync(grid, 'name: g\ndefaults: { tasks: [nli], seeds: 1, model: tiny-random }\nexperiments:\n  - { name: a, methods: [lora, nope] }\n');
    const result = await run({ grid });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/experiment a: unknown method "nope"\. Valid methods:/);
    expect(fs.existsSync(result.out)).toBe(false);
  });

  it('the real command exits non-zero with the message on stderr and writes nothing', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'peft-cli-proc-')), 'results');
    const result = await runCli(['--method', 'lora', '--rank', '8', '--task', 'chess', '--model', 'tiny-random', '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown task "chess"/);
    expect(result.stdout).toBe('');
    expect(fs.existsSync(out)).toBe(false);
  });
});
