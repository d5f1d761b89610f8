// `pnpm bench report --json` over the committed records: its scope and the discriminability block.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/run/code-version.ts';
import { runCli } from './helpers.ts';

const RESULTS = path.join(REPO_ROOT, 'results');

describe('pnpm bench report --json', { timeout: 120_000 }, () => {
  it('covers converge on base by default, though fixed-300 on naive has more records, and lists the others with their run counts', async () => {
    const result = await runCli(['report', '--json', '--results', RESULTS]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.scope).toMatchObject({ protocol: 'converge', model: 'base' });
    const fixed = report.other_scopes.find((s: { protocol: string; model: string }) => s.protocol === 'fixed-300' && s.model === 'naive');
    expect(fixed.runs).toBeGreaterThanOrEqual(1608);
    expect(fixed.runs).toBeGreaterThan(report.records);
    // Every question, as the Markdown has it: its tables, or the sentence said while it has none.
    expect(report.questions.map((q: { id: string }) => q.id)).toEqual(['rank', 'complement', 'grow', 'layernorm', 'stability', 'pretraining', 'batch-size', 'targets', 'lr']);
    const markdown = await runCli(['report', '--results', RESULTS]);
    expect(markdown.stdout.split('\n')[0]).toBe('# PEFT Bench report: converge on base');
    for (const q of report.questions as { title: string; empty: string; tables: unknown[] }[]) {
      expect(markdown.stdout).toContain(`## ${q.title}\n`);
      if (q.tables.length === 0) expect(markdown.stdout).toContain(q.empty);
    }
    expect(markdown.stdout).toContain(`Protocol: converge (train to a validation plateau, best checkpoint on valid) on base, ${report.records} runs.`);
    expect(markdown.stdout).toContain(`fixed-300 on naive (${fixed.runs.toLocaleString('en-US')} runs)`);
    const old = await runCli(['report', '--results', RESULTS, '--protocol', 'fixed-300']);
    expect(old.stdout.split('\n')[0]).toBe('# PEFT Bench report: fixed-300 on naive');
  });

  it('names its scope and gains discriminability.<model>.<task> over the parameter-efficient methods at r=8', async () => {
    const result = await runCli(['report', '--json', '--results', RESULTS, '--protocol', 'fixed-300']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.scope).toMatchObject({ protocol: 'fixed-300', model: 'naive' });
    for (const task of ['sql', 'nli', 'summarize', 'math']) {
      const d = report.discriminability.naive[task];
      expect(d.methods).toBeGreaterThan(5);
      expect(d.pairs).toBe((d.methods * (d.methods - 1)) / 2);
      expect(d.separable_pairs).toBeGreaterThanOrEqual(0);
      expect(d.separable_pairs).toBeLessThanOrEqual(d.pairs);
      expect(d.spread).toBeGreaterThanOrEqual(0);
      expect(d.ratio).toBeCloseTo(d.spread / d.pooled_sd, 9);
      // fixed-300 records do not record how training ended.
      expect(report.leaderboard[task].lora.steps_to_best).toBeNull();
      // The calibration verdict: full fine-tuning against the frozen base, as the leaderboard reports them.
      const c = report.calibration[task];
      expect(c.frozen).toBe(report.leaderboard[task].none.mean);
      expect(c.full).toBe(report.leaderboard[task].full.mean);
      expect(c.calibrated).toBe(c.full - c.frozen >= c.rule.min_gain && c.full <= c.rule.max_full);
      expect(c.off === null).toBe(c.calibrated);
    }
  });
});
