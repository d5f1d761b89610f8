// The selection rule's unit tests are in packages/results/test/lr-choice.test.ts; here the command.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { lrChoicesFromRecords } from '@peft-bench/results/aggregate/lr-choice';
import { readRecords } from '@peft-bench/results/record/read';
import { RESULTS } from '@peft-bench/results/test/committed';
import { chooseLrCommand } from '../src/cli/choose-lr.ts';
import { readChosenLr } from '../src/run/defaults.ts';

describe('choose-lr', () => {
  it('rejects a malformed chosen-lr file, naming the field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chosen-lr-'));
    const file = path.join(dir, 'chosen-lr.json');
    fs.writeFileSync(file, JSON.stringify({ chosen: { 'converge/base': { lora: { lr: -1, factor: 1, grid: 'g', mean_valid_rank: {}, tasks: [] } } } }));
    expect(() => readChosenLr(file)).toThrow(/chosen\.converge\/base\.lora\.lr/);
    fs.writeFileSync(file, JSON.stringify({ chosen: { 'converge/base': { lora: { lr: 1e-3, factor: 0.25, grid: 'g', mean_valid_rank: { '0.25': 1 }, tasks: ['sql'] } } } }));
    expect(readChosenLr(file).chosen['converge/base']!.lora!.lr).toBe(1e-3);
  });

  it('refuses a results directory that does not exist, with exit code 2', async () => {
    expect(await chooseLrCommand({ grid: 'leaderboard-lr', results: path.join(os.tmpdir(), 'no-such-results-dir') })).toBe(2);
  });

  it('chooses from the grid\'s planned runs what the site finds in the committed records alone', async () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    let code: number;
    try {
      code = await chooseLrCommand({ grid: 'leaderboard-lr', results: RESULTS, json: true });
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(0);
    const fromGrid = JSON.parse(out.join('')).choices as Record<string, unknown>[];
    const { records } = await readRecords(RESULTS);
    const fromRecords = lrChoicesFromRecords(records, { protocol: 'converge', model: 'base' })
      .map((c) => ({ ...c, valid: JSON.parse(JSON.stringify(c.valid, (_k, v) => (v === Number.NEGATIVE_INFINITY ? 'diverged' : v))) }));
    expect(fromRecords.map((c) => c.method)).toEqual(fromGrid.map((c) => c.method));
    expect(fromRecords).toEqual(fromGrid);
  }, 60_000);
});
