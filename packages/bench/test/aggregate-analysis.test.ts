// The analysis real attachments write, through aggregate(): lora-complement's r=2 vs r=8 subspace
// similarity becomes heatmaps between two updates (with its i/j ticks as labels) and complement
// findings; a lora run's overlap with the pretrained W becomes one modules x widths heatmap.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@peft-bench/core/backend/index';
import { createModel, type Model } from '@peft-bench/core/model/model';
import { train, type Batch } from '@peft-bench/core/train/trainer';
import { getMethod, type Attachment } from '@peft-bench/methods';
import { runRecord, type RunRecord } from '@peft-bench/results/record/schema';
import { aggregate } from '@peft-bench/results/aggregate/index';
import { sampleRecord } from '@peft-bench/results/test/fixtures';

const MODULES = ['blocks.0.attn.q', 'blocks.0.attn.v', 'blocks.1.attn.q', 'blocks.1.attn.v'];

function batch(seed: number): Batch {
  const B = 2;
  const T = 12;
  return {
    tokens: Int32Array.from({ length: B * T }, (_, i) => (i * 7 + seed * 5 + 3) % 48),
    targets: Int32Array.from({ length: B * T }, (_, i) => (i * 11 + seed + 1) % 48),
    weights: new Float32Array(B * T).fill(1),
    B, T,
  };
}

async function trainSteps(model: Model, att: Attachment, steps: number, seed: number): Promise<void> {
  const result = await train({ model, trainable: att.trainable, data: () => batch(seed), steps, lr: 3e-2, schedule: 'constant', gradClip: null });
  expect(result.status).toBe('ok');
}

function record(method: string, rank: number | null, analysis: Record<string, unknown>, runId: string): RunRecord {
  const r = sampleRecord(runId);
  return runRecord.parse({ ...r, method: { id: method, family: method === 'lora' ? 'low-rank' : 'seed-idea', config: {}, rank }, analysis });
}

describe('aggregate() on the analysis of real lora and lora-complement attachments', () => {
  let tmp: string;
  let model: Model;
  let loraAnalysis: Record<string, unknown>;
  let complementAnalysis: Record<string, unknown>;

  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    tmp = mkdtempSync(join(tmpdir(), 'peft-aggregate-analysis-'));
    model = createModel({ family: 'llama', vocabSize: 48, d: 32, nLayer: 2, nHead: 4, maxSeq: 16, mlpHidden: 64 }, 7);
    const lora = await getMethod('lora');
    const dirs: Record<number, string> = {};
    for (const r of [2, 8]) {
      const att = await lora.attach(model, { r, lora_alpha: r, target_modules: ['q', 'v'] }, { seed: r });
      try {
        await trainSteps(model, att, 6, r);
        if (r === 8) loraAnalysis = att.analysis!();
        dirs[r] = join(tmp, `r${r}`);
        await att.save(dirs[r]!);
      } finally {
        att.detach();
      }
    }
    const complement = await (await getMethod('lora-complement')).attach(model, { small_adapter: dirs[2], large_adapter: dirs[8] }, { seed: 1 });
    try {
      complementAnalysis = complement.analysis!();
    } finally {
      complement.detach();
    }
  }, 60_000);

  afterAll(() => {
    model?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('lora-complement: the module-mean grid and one grid per module become heatmaps labelled by i and j; the summary becomes complement findings', () => {
    const a = aggregate([record('lora-complement', 64, complementAnalysis, 'c0c0c0c0c0c0c0c0')]).analysis;
    const sim = complementAnalysis.subspaceSimilarity as { mean: { is: number[]; js: number[]; phi: number[][] }; modules: Record<string, { phi: number[][] }> };
    const mean = a.heatmaps.find((h) => h.path === 'subspaceSimilarity.mean.phi')!;
    expect(mean).toBeDefined();
    expect(mean.rowLabels).toEqual(['1', '2']);
    expect(mean.colLabels).toEqual(['1', '2', '4', '8']);
    expect(mean.matrix).toEqual(sim.mean.phi);
    expect(mean).toMatchObject({ method: 'lora-complement', rank: 64, runId: 'c0c0c0c0c0c0c0c0' });
    for (const name of MODULES) {
      const h = a.heatmaps.find((x) => x.path === `subspaceSimilarity.modules.${name}.phi`)!;
      expect(h.matrix).toEqual(sim.modules[name]!.phi);
      expect(h.rowLabels).toEqual(['1', '2']);
      expect(h.colLabels).toEqual(['1', '2', '4', '8']);
    }
    // Nothing from the comparison is mistaken for an overlap with W (the site files those apart).
    const betweenUpdates = a.heatmaps.filter((h) => h.path.startsWith('subspaceSimilarity.'));
    expect(betweenUpdates).toHaveLength(1 + MODULES.length);
    expect(betweenUpdates.every((h) => !/pretrain|overlap/i.test(h.path))).toBe(true);
    const summary = complementAnalysis.complement as Record<string, number>;
    expect(a.complement.map((c) => [c.path, c.value])).toEqual([
      ['complement.energyKept', summary.energyKept],
      ['complement.phiTop1', summary.phiTop1],
      ['complement.phiSmallRank', summary.phiSmallRank],
      ['complement.phiFull', summary.phiFull],
    ]);
    // The complement's own update, against W: the same modules x widths matrix as any low-rank run.
    expect(a.heatmaps.find((h) => h.path === 'overlapWithW')!.rowLabels).toEqual(MODULES);
  });

  it('lora-complement: one run gives one Fig. 3 group whose grids are the record\'s, with the modules\' output dimension', () => {
    const agg = aggregate([record('lora-complement', 64, complementAnalysis, 'c0c0c0c0c0c0c0c0')]);
    const sim = complementAnalysis.subspaceSimilarity as { mean: { is: number[]; js: number[]; phi: number[][] }; modules: Record<string, { phi: number[][]; energyKept: number }> };
    expect(agg.subspace).toHaveLength(1);
    const s = agg.subspace[0]!;
    expect(s.mean).toEqual(sim.mean);
    // no run references in this record: the ranks are the widest widths compared (r=2 and r=8 adapters)
    expect([s.smallRank, s.largeRank, s.outDim]).toEqual([2, 8, 32]);
    expect(s.modules.map((m) => m.module)).toEqual(MODULES);
    for (const m of s.modules) {
      expect(m.phi).toEqual(sim.modules[m.module]!.phi);
      expect(m.energyKept).toBe(sim.modules[m.module]!.energyKept);
    }
    const findings = agg.complement[0]!.complement[0]!.findings!;
    expect(findings.phiFull!.mean).toBe((complementAnalysis.complement as Record<string, number>).phiFull);
  });

  it('lora: overlap with the pretrained W is one heatmap per run, a row per module and a column per side and width of W', () => {
    const a = aggregate([record('lora', 8, loraAnalysis, 'a0a0a0a0a0a0a0a0')]).analysis;
    const overlaps = a.heatmaps.filter((h) => /pretrain|overlap/i.test(h.path));
    expect(overlaps).toHaveLength(1);
    const h = overlaps[0]!;
    expect(h.rowLabels).toEqual(MODULES);
    // 32x32 weights, r=8: W's widths 1, 2, 4, 8, 16 on each side (32 spans the whole space, so it is left out)
    expect(h.colLabels).toEqual(['left top1', 'left top2', 'left top4', 'left top8', 'left top16', 'right top1', 'right top2', 'right top4', 'right top8', 'right top16']);
    const modules = loraAnalysis.modules as Record<string, { overlapWithW: { left: Record<string, number>; right: Record<string, number> } }>;
    MODULES.forEach((name, row) => {
      expect(h.matrix[row]).toEqual([...Object.values(modules[name]!.overlapWithW.left), ...Object.values(modules[name]!.overlapWithW.right)]);
    });
    for (const v of h.matrix.flat()) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });
});
