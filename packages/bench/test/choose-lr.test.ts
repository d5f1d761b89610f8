import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseFactor, chooseLrCommand, ranks } from '../src/cli/choose-lr.ts';
import { readChosenLr } from '../src/run/defaults.ts';

const trial = (task: string, factor: number, valid: number | null) => ({ method: 'lora', task, factor, lr: 5e-3 * factor, valid, status: valid === null ? 'not run' : 'ok' });

describe('choose-lr', () => {
  it('ranks scores with ties sharing the average rank, a diverged run last', () => {
    expect(ranks([0.5, 0.7, 0.5])).toEqual([2.5, 1, 2.5]);
    expect(ranks([Number.NEGATIVE_INFINITY, 0.1, 0.2])).toEqual([3, 2, 1]);
  });

  it('chooses the factor with the best mean rank on valid over the tasks', () => {
    const trials = [
      trial('sql', 0.25, 0.6), trial('sql', 1, 0.7), trial('sql', 4, 0.2),
      trial('nli', 0.25, 0.5), trial('nli', 1, Number.NEGATIVE_INFINITY), trial('nli', 4, Number.NEGATIVE_INFINITY),
      trial('math', 0.25, 0.3), trial('math', 1, 0.25), trial('math', 4, 0.1),
    ];
    const c = chooseFactor('lora', 'converge/base', trials, (f) => 5e-3 * f);
    expect(c.meanRank).toEqual({ '0.25': (2 + 1 + 1) / 3, '1': (1 + 2.5 + 2) / 3, '4': (3 + 2.5 + 3) / 3 });
    expect(c.chosen).toEqual({ factor: 0.25, lr: 1.25e-3 });
  });

  it('breaks a tie towards x1 and chooses nothing until every search run has finished', () => {
    const tied = [trial('sql', 0.25, 0.6), trial('sql', 1, 0.5), trial('nli', 0.25, 0.5), trial('nli', 1, 0.6)];
    expect(chooseFactor('lora', 'converge/base', tied, (f) => f).chosen?.factor).toBe(1);
    const partial = [trial('sql', 0.25, 0.6), trial('sql', 1, null)];
    const c = chooseFactor('lora', 'converge/base', partial, (f) => f);
    expect(c.chosen).toBeNull();
    expect([c.finished, c.planned]).toEqual([1, 2]);
  });

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
});
