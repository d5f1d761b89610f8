import { describe, expect, it } from 'vitest';
import { chooseFactor, lrChoicesFromRecords, ranks } from '../src/aggregate/lr-choice.ts';
import { readRecords } from '../src/record/read.ts';
import { declaredLr, type LrSearchPlan } from '../src/methods.ts';
import type { RunRecord } from '../src/record/schema.ts';
import { RESULTS } from './committed.ts';
import { sampleRecord } from './fixtures.ts';

const trial = (task: string, factor: number, valid: number | null) => ({ method: 'lora', task, factor, lr: 5e-3 * factor, valid, status: valid === null ? 'not run' : 'ok' });

describe('learning-rate choice on valid', () => {
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
    expect(c.meanRank).toBeNull();
    expect([c.finished, c.planned]).toEqual([1, 2]);
  });
});

describe('the learning-rate search from the records alone', () => {
  const plan: LrSearchPlan = { grid: 'g', protocol: 'converge', model: 'base', seeds: [0], tasks: ['nli', 'sql'], factors: [0.25, 1, 4], ranks: { bitfit: null, lora: 16 } };
  const declared = declaredLr('base', 'bitfit', 'converge');
  let n = 0;
  /** A bitfit run in the plan's scope at its defaults; `change` edits it. */
  const run = (task: string, factor: number, valid: number | 'diverged', change: (r: RunRecord) => void = () => {}): RunRecord => {
    const r = sampleRecord(String(n++).padStart(20, '0'));
    r.protocol = 'converge';
    r.model = { id: 'base', hash: 'b45e', params: 1000 };
    r.method = { id: 'bitfit', family: 'selective', config: { include_norm_bias: true }, rank: null };
    r.task = { ...r.task, id: task, primary_metric: 'acc' };
    r.training = { ...r.training, lr: declared * factor };
    r.status = valid === 'diverged' ? 'diverged' : 'ok';
    r.metrics = { ...r.metrics, valid: valid === 'diverged' ? {} : { acc: valid } };
    change(r);
    return r;
  };
  const complete = [run('nli', 0.25, 0.5), run('nli', 1, 0.6), run('nli', 4, 'diverged'), run('sql', 0.25, 0.3), run('sql', 1, 0.2), run('sql', 4, 0.1)];

  it('finds each method\'s search runs and chooses as the command does', () => {
    const [bitfit, lora] = lrChoicesFromRecords(complete, { protocol: 'converge', model: 'base' }, plan);
    expect(bitfit!.valid).toEqual({ nli: { '0.25': 0.5, '1': 0.6, '4': Number.NEGATIVE_INFINITY }, sql: { '0.25': 0.3, '1': 0.2, '4': 0.1 } });
    expect(bitfit!.meanRank).toEqual({ '0.25': 1.5, '1': 1.5, '4': 3 });
    expect(bitfit!.chosen).toEqual({ factor: 1, lr: declared });
    // A method without a finished search run is listed, not chosen.
    expect(lora).toMatchObject({ method: 'lora', finished: 0, planned: 6, chosen: null, meanRank: null });
    expect(lrChoicesFromRecords(complete, { protocol: 'fixed-300', model: 'base' }, plan)).toEqual([]);
  });

  it('ignores runs of other seeds, configs, settings, factors and code versions, and counts a re-run once, the latest', () => {
    const noise = [
      run('nli', 0.25, 0.9, (r) => { r.seed = 1; }),
      run('nli', 0.25, 0.9, (r) => { r.method.config = { include_norm_bias: false }; }),
      run('nli', 0.25, 0.9, (r) => { r.training.batch_size = 64; }),
      run('nli', 2, 0.9),
      run('nli', 0.25, 0.9, (r) => { r.model = { ...r.model, id: 'naive' }; }),
      // Made by older code than the method's latest run: the grid runs that spec again.
      run('nli', 0.25, 0.9, (r) => { r.code_version = 'older'; r.provenance = { ...r.provenance, finished_at: '2025-06-01T00:00:00.000Z' }; }),
    ];
    const rerun = run('sql', 4, 0.35, (r) => { r.provenance = { ...r.provenance, finished_at: '2026-01-01T00:00:00.000Z' }; });
    const [bitfit] = lrChoicesFromRecords([...complete, ...noise, rerun], { protocol: 'converge', model: 'base' }, plan);
    expect(bitfit!.valid.nli!['0.25']).toBe(0.5);
    expect(bitfit!.valid.sql!['4']).toBe(0.35);
    expect(bitfit!.finished).toBe(6);
    // The re-run moves x4 to first on sql: every factor's mean rank is 2, and the tie goes to x1.
    expect(bitfit!.meanRank).toEqual({ '0.25': 2, '1': 2, '4': 2 });
    expect(bitfit!.chosen?.factor).toBe(1);
  });

  it('leaves a method with an unfinished search unchosen, counting its finished runs', () => {
    const [bitfit] = lrChoicesFromRecords(complete.slice(0, 4), { protocol: 'converge', model: 'base' }, plan);
    expect(bitfit).toMatchObject({ finished: 4, planned: 6, chosen: null, meanRank: null });
    expect(bitfit!.valid.sql).toEqual({ '0.25': 0.3, '1': null, '4': null });
  });

  // Reads all of results/ (1,700+ files): seconds on a busy machine.
  it('reads the committed records\' search under the exported plan', { timeout: 60_000 }, async () => {
    const { records } = await readRecords(RESULTS);
    const choices = lrChoicesFromRecords(records, { protocol: 'converge', model: 'base' });
    expect(choices.length).toBeGreaterThan(0);
    for (const c of choices) {
      expect(c.planned).toBe(c.tasks.length * c.factors.length);
      expect(c.chosen === null).toBe(c.finished < c.planned);
    }
  });
});
