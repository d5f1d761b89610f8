// Seed-averaged analysis figures: lora-complement's Fig. 3 grids per task and compared pair, the complement
// findings beside the scores, the overlap with W per task/method/rank, and `run:<id>` references that
// must not split one configuration into one group per seed.
import { describe, it, expect } from 'vitest';
import { runRecord, type RunRecord } from '@peft-bench/results/record/schema';
import { aggregate } from '@peft-bench/results/aggregate/index';
import { sampleRecord } from '@peft-bench/results/test/fixtures';

let counter = 0;
function rec(o: {
  method: string; rank: number | null; config?: Record<string, unknown>; seed: number; task?: string; primary?: number;
  status?: 'ok' | 'diverged'; analysis?: Record<string, unknown> | null; runId?: string;
}): RunRecord {
  counter += 1;
  const base = sampleRecord(o.runId ?? `5ab${counter.toString(16).padStart(13, '0')}`);
  const status = o.status ?? 'ok';
  return runRecord.parse({
    ...base,
    status,
    reason: status === 'ok' ? null : 'loss was NaN',
    method: { id: o.method, family: o.method === 'lora' ? 'low-rank' : 'seed-idea', config: o.config ?? { r: o.rank }, rank: o.rank },
    task: { ...base.task, id: o.task ?? 'nli' },
    seed: o.seed,
    metrics: { ...base.metrics, primary: status === 'ok' ? (o.primary ?? 0.5) : null },
    analysis: o.analysis ?? null,
  });
}

const grid = (phi: number[][], is = [1, 2, 4, 8], js = [1, 2, 4, 8, 16, 32, 64]) => ({ is, js, phi });
/** A 4 x 7 φ grid whose cells are all `v` (enough to check averaging cell by cell). */
const flat = (v: number, rows = 4, cols = 7) => Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => v + i * 0.01 + j * 0.001));

/** One module of a low-rank analysis (the schema's deltaModule) with the given overlaps with W. */
const deltaModule = (overlapWithW: { left: Record<string, number>; right: Record<string, number> }) =>
  ({ shape: [128, 128], rank: 64, frobenius: 1, singularValues: [1, 0.5], energy: { top1: 0.8 }, overlapWithW });

/** A lora-complement analysis block of the shape packages/methods/src/analysis.ts writes. */
function complementAnalysis(meanPhi: number[][], qPhi: number[][], vPhi: number[][], summary: { energyKept: number; phiTop1: number; phiSmallRank: number; phiFull: number }, large = 'large_adapter') {
  return {
    kind: 'low-rank',
    modules: {
      'blocks.0.attn.q': deltaModule({ left: { top1: 0.1, top2: 0.2 }, right: { top1: 0.3, top2: 0.4 } }),
      'blocks.0.attn.v': deltaModule({ left: { top1: 0.5, top2: 0.6 }, right: { top1: 0.7, top2: 0.8 } }),
    },
    subspaceSimilarity: {
      small: 'small_adapter', large, vectors: 'left',
      mean: grid(meanPhi),
      modules: {
        'blocks.0.attn.q': { ...grid(qPhi), energyKept: summary.energyKept - 0.02 },
        'blocks.0.attn.v': { ...grid(vPhi), energyKept: summary.energyKept + 0.02 },
      },
    },
    complement: { side: 'both', ...summary },
  };
}

describe('aggregate(): lora-complement analysis averaged over seeds', () => {
  // Two seeds: lora r=8 and r=64 per seed, and a complement of each pair that names them as run:<id>.
  const records: RunRecord[] = [];
  const complements: RunRecord[] = [];
  for (const seed of [0, 1]) {
    const r8 = rec({ method: 'lora', rank: 8, seed, primary: 0.6 + seed * 0.02 });
    const r64 = rec({ method: 'lora', rank: 64, seed, primary: 0.7 + seed * 0.02 });
    const summary = { energyKept: 0.8 + seed * 0.1, phiTop1: 0.6 + seed * 0.2, phiSmallRank: 0.3, phiFull: 0.5 + seed * 0.1 };
    const c = rec({
      method: 'lora-complement', rank: 64, seed, primary: 0.3 + seed * 0.1,
      config: { mode: 'posthoc', small_adapter: `run:${r8.run_id}`, large_adapter: `run:${r64.run_id}`, side: 'both', r: 64 },
      analysis: complementAnalysis(flat(0.2 + seed * 0.2), flat(0.1 + seed * 0.2), flat(0.3 + seed * 0.2), summary),
    });
    records.push(r8, r64, c);
    complements.push(c);
  }

  it('references to the runs of one seed do not make each seed its own configuration', () => {
    const agg = aggregate(records);
    const groups = agg.groups.filter((g) => g.method === 'lora-complement');
    expect(groups).toHaveLength(1);
    expect(groups[0]!.stats.n).toBe(2);
    expect(groups[0]!.config.small_adapter).toMatch(/^lora r=8 run #[0-9a-f]{6}$/);
    expect(groups[0]!.config.large_adapter).toMatch(/^lora r=64 run #[0-9a-f]{6}$/);
    expect(agg.methods.find((m) => m.id === 'lora-complement')!.varyingFields).toEqual([]);
  });

  it('a reference to a run that is not in the records is kept as it is', () => {
    const lone = rec({ method: 'lora-complement', rank: 64, seed: 0, config: { small_adapter: 'run:00000000deadbeef00', large_adapter: 'run:00000000deadbeef01' } });
    const g = aggregate([lone]).groups[0]!;
    expect(g.config.small_adapter).toBe('run:00000000deadbeef00');
  });

  it('one Fig. 3 group per task: the mean grid and each module grid averaged cell by cell over seeds', () => {
    const { subspace } = aggregate(records);
    expect(subspace).toHaveLength(1);
    const s = subspace[0]!;
    expect(s).toMatchObject({ task: 'nli', small: 'small_adapter', large: 'large_adapter', smallRank: 8, largeRank: 64, vectors: 'left', outDim: 128, methods: ['lora-complement'] });
    expect(s.seeds.sort()).toEqual([0, 1]);
    expect(s.mean.is).toEqual([1, 2, 4, 8]);
    expect(s.mean.js).toEqual([1, 2, 4, 8, 16, 32, 64]);
    // seed 0 has 0.2 + i/100 + j/1000, seed 1 0.4 + ...: the mean is 0.3 + ...
    expect(s.mean.phi[0]![0]).toBeCloseTo(0.3, 10);
    expect(s.mean.phi[3]![6]).toBeCloseTo(0.3 + 0.03 + 0.006, 10);
    expect(s.modules.map((m) => m.module)).toEqual(['blocks.0.attn.q', 'blocks.0.attn.v']);
    expect(s.modules[0]!.phi[2]![1]).toBeCloseTo(0.2 + 0.02 + 0.001, 10);
    expect(s.modules[1]!.phi[0]![0]).toBeCloseTo(0.4, 10);
    expect(s.modules[0]!.energyKept).toBeCloseTo(0.83, 10);
    expect(s.modules.every((m) => m.runs === 2 && m.outDim === 128)).toBe(true);
  });

  it('the complement row carries the findings (mean ± std over seeds) beside lora r=8 and r=64', () => {
    const row = aggregate(records).complement[0]!;
    expect(row.lora8!.mean).toBeCloseTo(0.61, 10);
    expect(row.lora64!.mean).toBeCloseTo(0.71, 10);
    expect(row.complement).toHaveLength(1);
    const { stats, findings } = row.complement[0]!;
    expect(stats.mean).toBeCloseTo(0.35, 10);
    expect(findings!.side).toBe('both');
    expect(findings!.energyKept!.mean).toBeCloseTo(0.85, 10);
    expect(findings!.energyKept!.n).toBe(2);
    expect(findings!.phiTop1!.mean).toBeCloseTo(0.7, 10);
    expect(findings!.phiTop1!.std).toBeCloseTo(Math.sqrt(0.02), 10);
    expect(findings!.phiSmallRank!.mean).toBeCloseTo(0.3, 10);
    expect(findings!.phiFull!.mean).toBeCloseTo(0.55, 10);
  });

  it('grids of different widths average on the widths all runs have; a diverged run is left out', () => {
    const narrow = rec({
      method: 'lora-complement', rank: 64, seed: 2,
      config: { ...complements[0]!.method.config },
      analysis: { kind: 'low-rank', modules: {}, subspaceSimilarity: { small: 'small_adapter', large: 'large_adapter', vectors: 'left', mean: grid([[0.9, 0.9], [0.9, 0.9]], [1, 8], [1, 64]), modules: {} } },
    });
    const diverged = rec({ method: 'lora-complement', rank: 64, seed: 3, status: 'diverged', config: { ...complements[0]!.method.config }, analysis: complementAnalysis(flat(1), flat(1), flat(1), { energyKept: 1, phiTop1: 1, phiSmallRank: 1, phiFull: 1 }) });
    // the same config as seed 0's complement: the reference resolves to seed 0's lora runs, the same pair
    const s = aggregate([...records, narrow, diverged]).subspace;
    expect(s).toHaveLength(1);
    expect(s[0]!.mean.is).toEqual([1, 8]);
    expect(s[0]!.mean.js).toEqual([1, 64]);
    expect(s[0]!.mean.phi[0]![0]).toBeCloseTo((0.2 + 0.4 + 0.9) / 3, 4);
    expect(s[0]!.runIds).not.toContain(diverged.run_id);
  });

  it('a comparison with the update a run trained itself is a separate group from the one between two adapters', () => {
    const trained = rec({
      method: 'lora-complement', rank: 64, seed: 0,
      config: { mode: 'train', small_adapter: complements[0]!.method.config.small_adapter, side: 'both', r: 64 },
      analysis: complementAnalysis(flat(0), flat(0), flat(0), { energyKept: 1, phiTop1: 0, phiSmallRank: 0, phiFull: 0 }, 'trained update'),
    });
    const s = aggregate([...records, trained]).subspace;
    expect(s.map((g) => [g.large, g.runIds.length])).toEqual([['large_adapter', 2], ['trained update', 1]]);
    expect(s[1]!.largeRank).toBe(64); // no reference: the largest width compared
  });

  it('overlap with W: one matrix per task, method and rank, the mean of its runs', () => {
    const { overlapW } = aggregate(records);
    expect(overlapW.map((o) => [o.task, o.method, o.rank, o.runIds.length])).toEqual([['nli', 'lora-complement', 64, 2]]);
    const o = overlapW[0]!;
    expect(o.rowLabels).toEqual(['blocks.0.attn.q', 'blocks.0.attn.v']);
    expect(o.colLabels).toEqual(['left top1', 'left top2', 'right top1', 'right top2']);
    expect(o.matrix).toEqual([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]);
  });

  it('overlap with W: runs with other rows or columns are not averaged in; missing cells stay empty', () => {
    const report = (left: Record<string, number>) => ({ kind: 'low-rank', modules: { 'blocks.0.attn.q': deltaModule({ left, right: { top1: 0.2 } }) } });
    const a = rec({ method: 'lora', rank: 8, seed: 0, task: 'math', analysis: report({ top1: 0.1, top8: 0.4 }) });
    const b = rec({ method: 'lora', rank: 8, seed: 1, task: 'math', analysis: report({ top1: 0.3, top8: 0.6 }) });
    const other = rec({ method: 'lora', rank: 8, seed: 2, task: 'math', analysis: { kind: 'low-rank', modules: { 'blocks.1.attn.q': deltaModule({ left: { top1: 0.9 }, right: {} }) } } });
    const groups = aggregate([a, b, other]).overlapW;
    expect(groups).toHaveLength(2);
    expect(groups[0]!.runIds).toEqual([a.run_id, b.run_id]);
    expect(groups[0]!.matrix[0]![0]).toBeCloseTo(0.2, 10);
    expect(groups[0]!.matrix[0]![1]).toBeCloseTo(0.5, 10);
    expect(groups[1]!.rowLabels).toEqual(['blocks.1.attn.q']);
  });
});
