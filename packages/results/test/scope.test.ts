// Which scope (protocol x model) aggregation and the report show when none is asked for: the bench's
// default protocol on its default model whenever that has records, else the scope with the most.
import { describe, expect, it } from 'vitest';
import { aggregate, defaultScope, latestPerSeed, primaryScope } from '../src/aggregate/aggregate.ts';
import { scopeMarkdown, scopeSentence } from '../src/aggregate/report.ts';
import { defaultScopeIds } from '../src/methods.ts';
import catalogue from '../src/methods.json' with { type: 'json' };
import type { RunRecord } from '../src/record/schema.ts';
import { sampleRecord } from './fixtures.ts';

let next = 0;
function records(n: number, protocol: string, model: string, hash = `${model}-hash`): RunRecord[] {
  return Array.from({ length: n }, (_, seed) => {
    const r = sampleRecord((next++).toString(16).padStart(20, '0'));
    return { ...r, protocol, seed, model: { ...r.model, id: model, hash } } as RunRecord;
  });
}

describe('the default scope', () => {
  it('comes from methods.json, which `pnpm bench export-methods` writes from the bench defaults', () => {
    expect(defaultScopeIds()).toEqual({ protocol: catalogue.default_protocol, model: catalogue.default_model });
    expect(defaultScopeIds()).toEqual({ protocol: 'converge', model: 'base' });
  });

  it('is the default protocol on the default model as soon as it has one record, though another scope has more', () => {
    const old = records(12, 'fixed-300', 'naive');
    const fresh = records(2, 'converge', 'base');
    const other = records(5, 'converge', 'naive');
    const all = [...old, ...other, ...fresh];
    expect(primaryScope(all)).toMatchObject({ protocol: 'fixed-300', model: 'naive' });
    expect(defaultScope(all)).toMatchObject({ protocol: 'converge', model: 'base' });
    const agg = aggregate(all);
    expect(agg.scope).toMatchObject({ protocol: 'converge', model: 'base' });
    expect(agg.recordCount).toBe(2);
    expect(agg.scopes.map((s) => [s.protocol, s.model, s.runs])).toEqual([['fixed-300', 'naive', 12], ['converge', 'naive', 5], ['converge', 'base', 2]]);
  });

  it('falls back to the scope with the most records when the default has none', () => {
    const all = [...records(3, 'fixed-300', 'naive'), ...records(7, 'converge', 'naive'), ...records(1, 'fixed-300', 'base')];
    expect(defaultScope(all)).toMatchObject({ protocol: 'converge', model: 'naive' });
    expect(aggregate(all).recordCount).toBe(7);
    expect(defaultScope([])).toBeNull();
    expect(aggregate([]).scope).toBeNull();
  });

  it('of several checkpoints of the default model takes the one with the most records', () => {
    const all = [...records(2, 'converge', 'base', 'old'), ...records(4, 'converge', 'base', 'new'), ...records(9, 'fixed-300', 'naive')];
    expect(defaultScope(all)).toMatchObject({ protocol: 'converge', model: 'base', modelHash: 'new' });
  });

  it('fills a partial choice with the default, and an explicit choice still selects any scope', () => {
    const all = [...records(6, 'fixed-300', 'naive'), ...records(3, 'fixed-300', 'base'), ...records(2, 'converge', 'base'), ...records(4, 'converge', 'naive')];
    expect(aggregate(all, [], { protocol: 'fixed-300' }).scope).toMatchObject({ protocol: 'fixed-300', model: 'base' });
    expect(aggregate(all, [], { model: 'naive' }).scope).toMatchObject({ protocol: 'converge', model: 'naive' });
    expect(aggregate(all, [], { protocol: 'fixed-300', model: 'naive' }).recordCount).toBe(6);
    expect(aggregate(all, [], { protocol: 'converge', model: 'tiny-random' }).scope).toBeNull();
  });

  it('is named at the top of the report, with the other scopes and their run counts', () => {
    const all = [...records(1200, 'fixed-300', 'naive'), ...records(3, 'converge', 'base')];
    const head = scopeMarkdown(aggregate(all));
    expect(head.split('\n')[0]).toBe('# PEFT Bench report: converge on base');
    expect(head).toContain(`Protocol: ${scopeSentence({ protocol: 'converge', model: 'base', runs: 3 })}.`);
    expect(head).toContain('converge (train to a validation plateau, best checkpoint on valid) on base, 3 runs');
    expect(head).toContain('not pooled with these (`--protocol`, `--model`): fixed-300 on naive (1,200 runs).');
    expect(scopeMarkdown(aggregate(all, [], { protocol: 'fixed-300' }))).toContain('fixed-300 (300 fixed steps, final weights) on naive, 1,200 runs');
  });
});

describe('one record per seed', () => {
  it('counts the same configuration and seed recorded under two code versions once, keeping the later', () => {
    const [a, b, c] = records(3, 'converge', 'base');
    const at = (r: RunRecord, seed: number, finished: string, primary: number, code: string): RunRecord =>
      ({ ...r, seed, code_version: code, provenance: { ...r.provenance, finished_at: finished }, metrics: { ...r.metrics, primary } }) as RunRecord;
    const older = at(a!, 0, '2026-12-01T10:00:00Z', 0.5, 'aaaaaaaaaaaaaaaa');
    const newer = at(b!, 0, '2026-12-02T10:00:00Z', 0.7, 'bbbbbbbbbbbbbbbb');
    const seed1 = at(c!, 1, '2026-12-01T11:00:00Z', 0.9, 'aaaaaaaaaaaaaaaa');
    expect(latestPerSeed([older, newer, seed1])).toEqual([newer, seed1]);
    const group = aggregate([older, newer, seed1]).groups.find((g) => g.method === older.method.id && g.task === older.task.id)!;
    expect(group.stats.n).toBe(2);
    expect(group.stats.mean).toBeCloseTo(0.8, 9);
    expect(group.counts.total).toBe(2);
  });
});
