// Leaderboard uncertainty and views from real aggregation: paired bootstrap intervals and ties where records
// carry per-example scores (seed-only intervals, marked, where they do not), the defaults view, and what each
// method adds to the deployed model.
import { describe, expect, it } from 'vitest';
import { aggregate } from '../src/aggregate/index.ts';
import { defaultsJson, leaderboardJson } from '../src/aggregate/leaderboard.ts';
import { defaultLr, methodInfo } from '../src/methods.ts';
import type { RunRecord } from '../src/record/schema.ts';
import { sampleRecord, seal } from './fixtures.ts';

const N = 60;
const IDS = '0123456789abcdef';

/** `correct` of N examples right (a 0/1 string); `shift` rotates which ones, so seeds differ. */
function scores(correct: number, shift = 0): string {
  return Array.from({ length: N }, (_, i) => ((i + shift) % N < correct ? '1' : '0')).join('');
}

function run(method: string, config: Record<string, unknown>, seed: number, perExample: string | null, lr = 1e-3): RunRecord {
  const base = sampleRecord();
  const acc = perExample ? [...perExample].filter((c) => c === '1').length / N : 0.5;
  return seal({
    ...base,
    seed,
    method: { ...base.method, id: method, config, rank: typeof config.r === 'number' ? config.r : null },
    training: { ...base.training, lr },
    metrics: { ...base.metrics, primary: acc, valid: { accuracy: acc }, test: { accuracy: acc } },
    ...(perExample ? { test_examples: { n: N, ids_hash: IDS, scores: { accuracy: perExample } } } : {}),
  });
}

const cell = (agg: ReturnType<typeof aggregate>, method: string) => leaderboardJson(agg)[agg.tasks[0]!.id]![method]!;

describe('leaderboard intervals', () => {
  it('are a paired bootstrap over examples and seeds with per-example scores, else over seed means, marked as such', () => {
    const withScores = [0, 1, 2].map((s) => run('lora', { r: 8 }, s, scores(40 + s, s)));
    const without = [0, 1, 2].map((s) => run('dora', { r: 8 }, s, null));
    const agg = aggregate([...withScores, ...without]);
    const lora = cell(agg, 'lora');
    expect(lora.interval).toBe('paired-bootstrap');
    expect(lora.ci95![0]).toBeLessThan(lora.mean!);
    expect(lora.ci95![1]).toBeGreaterThan(lora.mean!);
    // About ±2 standard errors of a mean of 180 scores near 0.68: far from the degenerate seed-only width.
    expect(lora.ci95![1] - lora.ci95![0]).toBeGreaterThan(0.08);
    expect(lora.ci95![1] - lora.ci95![0]).toBeLessThan(0.4);
    const dora = cell(agg, 'dora');
    expect(dora.interval).toBe('seeds-only');
    expect(dora.ci95).toEqual([0.5, 0.5]); // three identical seed means: a t interval of width 0, not invented
  });

  it('ties are decided by the paired bootstrap of the difference when both carry per-example scores', () => {
    const best = [0, 1, 2].map((s) => run('lora', { r: 8 }, s, scores(45)));
    const close = [0, 1, 2].map((s) => run('dora', { r: 8 }, s, scores(44)));
    const far = [0, 1, 2].map((s) => run('loha', { r: 8 }, s, scores(25)));
    const agg = aggregate([...best, ...close, ...far]);
    expect(cell(agg, 'lora').is_best).toBe(true);
    expect(cell(agg, 'dora').tied_with_best).toBe(true);
    expect(cell(agg, 'loha').tied_with_best).toBe(false);
  });
});

describe('the defaults view', () => {
  it('shows each method at its documented defaults and default learning rate, and nothing else', () => {
    const info = methodInfo('lora')!;
    const defaults = Object.fromEntries(info.hyperparameters.map((h) => [h.name, h.default]));
    const lr = defaultLr('tiny-random', 'lora', 'fixed-300');
    const atDefaults = [0, 1].map((s) => run('lora', defaults, s, null, lr));
    const tuned = [0, 1].map((s) => run('lora', { ...defaults, r: 64 }, s, scores(50), lr));
    const otherLr = [0, 1].map((s) => run('dora', Object.fromEntries(methodInfo('dora')!.hyperparameters.map((h) => [h.name, h.default])), s, null, lr * 2));
    const agg = aggregate([...atDefaults, ...tuned, ...otherLr]);
    const view = defaultsJson(agg)[agg.tasks[0]!.id]!;
    expect(Object.keys(view)).toEqual(['lora']);
    expect(view.lora!.mean).toBe(0.5);
    expect(view.lora!.seeds).toBe(2);
    // The tuned view picks the better r=64 configuration instead.
    expect(cell(agg, 'lora').mean).toBeCloseTo(50 / N, 10);
  });
});

describe('the defaults view under converge', () => {
  it('takes the rate chosen for that protocol and model, not the fixed-300 rate', () => {
    const defaults = Object.fromEntries(methodInfo('bitfit')!.hyperparameters.map((h) => [h.name, h.default]));
    const onBase = (lr: number, seed: number) => {
      const r = run('bitfit', defaults, seed, null, lr);
      return seal({ ...r, protocol: 'converge', model: { ...r.model, id: 'base' } });
    };
    const chosen = defaultLr('base', 'bitfit', 'converge');
    const fixed300 = defaultLr('base', 'bitfit', 'fixed-300');
    expect(chosen).not.toBe(fixed300);
    const agg = aggregate([onBase(chosen, 0), onBase(chosen, 1), onBase(fixed300, 0)]);
    expect(agg.scope?.protocol).toBe('converge');
    const view = defaultsJson(agg)[agg.tasks[0]!.id]!;
    expect(view.bitfit!.seeds).toBe(2);
  });
});

describe('parameter accounting', () => {
  it('counts what the deployed model carries: nothing for merged or in-place updates, the trainable count for added modules', () => {
    const agg = aggregate([run('houlsby', { bottleneck: 8 }, 0, null), run('lora', { r: 8 }, 0, null), run('full', {}, 0, null), run('retired-method', {}, 0, null)]);
    const added = Object.fromEntries(agg.groups.map((g) => [g.method, g.params.addedAtInference]));
    expect(added).toEqual({ houlsby: 100, lora: 0, full: 0, 'retired-method': null });
    const lora = cell(agg, 'lora');
    expect([lora.trainable, lora.adapter_bytes, lora.added_at_inference]).toEqual([100, 400, 0]);
  });
});
