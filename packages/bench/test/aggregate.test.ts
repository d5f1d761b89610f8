import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRecord, type RunRecord } from '@peft-bench/results/record/schema';
import { matrixFrom, deltaReport, normReport, compareUpdates } from '@peft-bench/core/analysis/index';
import { readRecords } from '@peft-bench/results/record/read';
import { seal } from '@peft-bench/results/test/fixtures';
import {
  aggregate, aggregateDir, toCsv, toJson, writeAggregated, metricInfo, paretoFrontier, sampleStd, findingsMarkdown,
} from '@peft-bench/results/aggregate/index';

let counter = 0;
type Overrides = {
  method?: string; family?: string; config?: Record<string, unknown>; rank?: number | null;
  task?: string; taskFamily?: 'simple' | 'reasoning'; metric?: string; seed?: number; lr?: number;
  status?: 'ok' | 'diverged' | 'failed'; primary?: number | null; valid?: number; trainable?: number; spikes?: number;
  before?: number | null; after?: number | null; analysis?: Record<string, unknown> | null; trainSeconds?: number; steps?: number;
};

/** A schema-valid record; every test states the fields it relies on. */
function rec(o: Overrides = {}): RunRecord {
  counter += 1;
  const status = o.status ?? 'ok';
  const primary = o.primary === undefined ? (status === 'ok' ? 0.5 : null) : o.primary;
  // The validation score mirrors test unless a test sets it: selection is on valid.
  const valid = o.valid ?? primary;
  const record = {
    schema_version: 2,
    run_id: counter.toString(16).padStart(16, '0'),
    code_version: '0123456789abcdef',
    status,
    reason: status === 'ok' ? null : `${status} for the test`,
    method: { id: o.method ?? 'lora', family: o.family ?? 'low-rank', config: o.config ?? { r: o.rank ?? 8 }, rank: o.rank === undefined ? 8 : o.rank },
    task: { id: o.task ?? 'nli', tier: 'synthetic', family: o.taskFamily ?? 'simple', primary_metric: o.metric ?? 'acc', config: {} },
    model: { id: 'tiny', hash: 'abc', params: 1000 },
    seed: o.seed ?? 0,
    training: { steps: o.steps ?? 10, batch_size: 4, micro_batch_size: 4, lr: o.lr ?? 1e-3, schedule: 'cosine', warmup_steps: 0, weight_decay: 0, grad_clip: 1, max_seq_len: 64, eval_every: 0 },
    metrics: {
      primary,
      valid: valid === null ? {} : { [o.metric ?? 'acc']: valid },
      test: primary === null ? {} : { [o.metric ?? 'acc']: primary },
      base_lm_loss_before: o.before === undefined ? 2 : o.before,
      base_lm_loss_after: o.after === undefined ? 2.5 : o.after,
    },
    params: { trainable: o.trainable ?? 100, total: 1100, adapter_bytes: 400, optimizer_state_bytes: 800 },
    cost: { train_seconds: o.trainSeconds ?? 10, eval_seconds: 1, tokens_per_s: 1000, peak_memory_bytes: 1 << 20 },
    curves: { train_loss: [{ step: 0, value: 3 }], valid_loss: [], valid_metric: [], loss_spikes: o.spikes ?? 0 },
    analysis: o.analysis ?? null,
    provenance: {
      backend: 'wasm', accelerated: false, threads: 1, versions: { node: '20' }, cpu: 'test cpu', gpu: null,
      git_commit: 'deadbeef', git_dirty: false, started_at: '2025-01-01T00:00:00Z', finished_at: '2025-01-01T00:00:10Z',
    },
  };
  return runRecord.parse(record);
}

describe('readRecords', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'peft-read-'));
    const good = seal(rec({ seed: 1 }));
    await writeFile(join(dir, `${good.run_id}.json`), JSON.stringify(good));
    await writeFile(join(dir, 'corrupt.json'), '{"schema_version": 1, "run_id": "ab');
    await writeFile(join(dir, 'foreign.json'), JSON.stringify({ name: 'some package', version: '1.0.0' }));
    await writeFile(join(dir, 'ffffffffffffffff.json'), JSON.stringify({ ...good, run_id: 'ffffffffffffffff', status: 'maybe' }));
    await writeFile(join(dir, 'old.json'), JSON.stringify({ ...good, schema_version: 99 }));
    await writeFile(join(dir, `${good.run_id}.json.tmp`), '{half');
    await writeFile(join(dir, 'notes.txt'), 'not a record');
    await mkdir(join(dir, 'nested'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('returns valid records and one problem per bad file, each with its path and reason', async () => {
    const { records, problems } = await readRecords(dir);
    expect(records).toHaveLength(1);
    expect(records[0].seed).toBe(1);
    const byName = Object.fromEntries(problems.map((p) => [p.path.slice(dir.length + 1), p.message]));
    expect(Object.keys(byName).sort()).toEqual(['corrupt.json', 'ffffffffffffffff.json', 'foreign.json', 'old.json']);
    expect(byName['corrupt.json']).toMatch(/not valid JSON/);
    expect(byName['foreign.json']).toMatch(/not a run record/);
    expect(byName['ffffffffffffffff.json']).toMatch(/^invalid run record: status:/);
    expect(byName['old.json']).toMatch(/unsupported schema_version 99/);
    for (const message of Object.values(byName)) expect(message).not.toContain('\n');
  });

  it('treats a missing directory as empty', async () => {
    expect(await readRecords(join(dir, 'does-not-exist'))).toEqual({ records: [], problems: [] });
  });
});

describe('aggregate', () => {
  // lora on nli: r=8 at lr 1e-3 (3 seeds), r=8 at lr 1e-2 (2 ok + 1 diverged), r=64 at lr 1e-3 (1 seed),
  // r=8 at lr 1e-1 (only failed). Plus a none baseline and a math (reasoning, lower-is-better) task.
  const records = [
    rec({ seed: 0, primary: 0.6, spikes: 1 }),
    rec({ seed: 1, primary: 0.7 }),
    rec({ seed: 2, primary: 0.8, spikes: 2 }),
    rec({ seed: 0, lr: 1e-2, primary: 0.9 }),
    rec({ seed: 1, lr: 1e-2, primary: 0.45 }),
    rec({ seed: 2, lr: 1e-2, status: 'diverged', spikes: 4 }),
    rec({ seed: 0, rank: 64, config: { r: 64 }, primary: 0.72, trainable: 800 }),
    rec({ seed: 0, lr: 1e-1, status: 'failed' }),
    rec({ method: 'none', family: 'baseline', config: {}, rank: null, primary: 0.3, trainable: 0, before: 2, after: 2 }),
    rec({ task: 'math', taskFamily: 'reasoning', metric: 'error_rate', seed: 0, primary: 0.4 }),
    rec({ task: 'math', taskFamily: 'reasoning', metric: 'error_rate', seed: 0, rank: 64, config: { r: 64 }, primary: 0.2, trainable: 800 }),
  ];
  const agg = aggregate(records);
  const group = (task: string, label: string) => agg.groups.find((g) => g.task === task && g.method === 'lora' && g.configLabel === label)!;

  it('computes mean, sample std (n-1), n, min and max per configuration over ok seeds', () => {
    const g = group('nli', 'r=8, lr=0.001');
    expect(g.stats.n).toBe(3);
    expect(g.stats.mean).toBeCloseTo(0.7, 12);
    // deviations -0.1, 0, 0.1 -> sum of squares 0.02 / (3-1) = 0.01 -> std 0.1
    expect(g.stats.std).toBeCloseTo(0.1, 12);
    expect([g.stats.min, g.stats.max]).toEqual([0.6, 0.8]);
    expect(g.stats.stdFromOneSeed).toBe(false);
  });

  it('counts diverged and failed runs beside the statistics instead of averaging them', () => {
    const g = group('nli', 'r=8, lr=0.01');
    expect(g.stats.n).toBe(2);
    expect(g.stats.mean).toBeCloseTo(0.675, 12);
    expect(g.stats.std).toBeCloseTo(Math.sqrt(0.10125), 12); // (0.225^2 + 0.225^2) / (2-1)
    expect(g.counts).toEqual({ ok: 2, diverged: 1, failed: 0, total: 3 });
    const failedOnly = group('nli', 'r=8, lr=0.1');
    expect(failedOnly.stats).toMatchObject({ n: 0, mean: null, std: null });
    expect(failedOnly.counts.failed).toBe(1);
  });

  it('reports std 0 for a single seed and flags it', () => {
    const g = group('nli', 'r=64, lr=0.001');
    expect(g.stats).toMatchObject({ n: 1, std: 0, stdFromOneSeed: true });
    expect(sampleStd([])).toBeNull();
  });

  it('picks the best configuration, best lr and the share of the lr grid within 95% of the best', () => {
    const mt = agg.methodTask.find((m) => m.method === 'lora' && m.task === 'nli')!;
    // means: r8/1e-3 0.7 (3 seeds), r8/1e-2 0.675 (2 ok), r64/1e-3 0.72 (1 seed): the choice is among the
    // configurations with the most seeds, so r=8 at 1e-3, though r=64's one seed scores higher
    expect(mt.bestConfigLabel).toBe('r=8, lr=0.001');
    expect(mt.best!.mean).toBeCloseTo(0.7, 12);
    expect(mt.nConfigs).toBe(3);
    expect(mt.bestLr).toBe(1e-3);
    // grid: r=8 is run at three learning rates (r=64 at one), so the grid follows r=8: 1e-3 -> 0.7,
    // 1e-2 -> 0.675, 1e-1 -> no ok run; 95% of 0.7 = 0.665: 1e-3 and 1e-2 are within
    expect(mt.lrGrid.map((p) => [p.lr, p.score, p.runs, p.diverged])).toEqual([[1e-3, expect.closeTo(0.7, 12), 3, 0], [1e-2, 0.675, 3, 1], [1e-1, null, 1, 0]]);
    expect(mt.lrNearBestShare).toBeCloseTo(2 / 3, 12);
    // divergence: 1 diverged of 6 ok + 1 diverged (failed excluded)
    expect([mt.ok, mt.diverged, mt.failed]).toEqual([6, 1, 1]);
    expect(mt.divergenceRate).toBeCloseTo(1 / 7, 12);
    expect(mt.lossSpikes.total).toBe(7);
  });

  it('chooses the reported configuration on valid, never on test, and says how many were searched', () => {
    const agg = aggregate([
      // r=4 is best on test but worse on valid; r=16 is best on valid.
      ...[0, 1, 2].map((seed) => rec({ method: 'vera', rank: 4, seed, primary: 0.9, valid: 0.4 })),
      ...[0, 1, 2].map((seed) => rec({ method: 'vera', rank: 16, seed, primary: 0.6 + seed * 0.01, valid: 0.7 })),
      rec({ method: 'vera', rank: 32, seed: 0, primary: 0.95, valid: 0.1 }),
      ...[0, 1, 2].map((seed) => rec({ method: 'ia3', rank: null, config: {}, seed, primary: 0.5 + seed * 0.01, valid: 0.5 })),
    ]);
    const vera = agg.methodTask.find((m) => m.method === 'vera')!;
    expect(vera.best!.mean).toBeCloseTo(0.61, 12);
    expect(vera.validMean).toBeCloseTo(0.7, 12);
    expect(vera.nConfigs).toBe(3);
    expect(vera.selectedOn).toBe('valid');
    // Three seeds: a t interval over seed means (no per-example scores in these records).
    expect(vera.intervalKind).toBe('seeds-only');
    expect(vera.ci95![0]).toBeCloseTo(0.61 - (4.303 * 0.01) / Math.sqrt(3), 6);
    expect(vera.isBest).toBe(true);
    const ia3 = agg.methodTask.find((m) => m.method === 'ia3')!;
    expect(ia3.nConfigs).toBe(1);
    // 0.51 +- 0.025 does not reach 0.61 and 0.61 +- 0.025 does not reach 0.51: not tied.
    expect(ia3.tiedWithBest).toBe(false);
  });

  it('leaves post-hoc (derived) configurations out of the leaderboard and the Pareto frontier', () => {
    const agg = aggregate([
      rec({ method: 'svd-slice', rank: 8, steps: 0, trainable: 0, primary: 0.9, valid: 0.9 }),
      rec({ method: 'lora-complement', rank: 64, steps: 0, trainable: 0, primary: 0.9, valid: 0.9 }),
      rec({ method: 'lora-complement', rank: 64, steps: 300, trainable: 5000, primary: 0.4, valid: 0.4 }),
      rec({ method: 'ln-random', rank: 4, trainable: 36, primary: 0.41, valid: 0.41 }),
    ]);
    expect(agg.methodTask.find((m) => m.method === 'svd-slice')!.bestConfigKey).toBeNull();
    expect(agg.methodTask.find((m) => m.method === 'lora-complement')!.best!.mean).toBe(0.4);
    expect(agg.pareto.map((p) => p.method).sort()).toEqual(['ln-random', 'lora-complement']);
    // With the zero-parameter derived rows gone, the 36-parameter run is on the frontier.
    expect(agg.pareto.find((p) => p.method === 'ln-random')!.frontier).toBe(true);
  });

  it('uses the declared direction: a lower-is-better metric picks the smallest mean', () => {
    expect(metricInfo('error_rate').direction).toBe('lower');
    expect(metricInfo('exec_acc')).toMatchObject({ direction: 'higher', known: true });
    const mt = agg.methodTask.find((m) => m.method === 'lora' && m.task === 'math')!;
    expect(mt.best!.mean).toBe(0.2);
    expect(agg.tasks.map((t) => [t.id, t.family, t.direction])).toEqual([['nli', 'simple', 'higher'], ['math', 'reasoning', 'lower']]);
  });

  it('marks the Pareto frontier of score vs trainable parameters per task', () => {
    const nli = agg.pareto.filter((p) => p.task === 'nli').map((p) => [p.method, p.configLabel, p.trainable, p.frontier]);
    // none (0 params, 0.3), lora r8/1e-3 (100, 0.7) and r64 (800, 0.72) are on it; r8/1e-2 (100, 0.675)
    // is dominated by r8/1e-3 (same params, better score).
    expect(nli).toEqual(expect.arrayContaining([
      ['none', 'default', 0, true],
      ['lora', 'r=64, lr=0.001', 800, true],
      ['lora', 'r=8, lr=0.001', 100, true],
      ['lora', 'r=8, lr=0.01', 100, false],
    ]));
    expect(paretoFrontier([{ cost: 1, score: 0.5 }, { cost: 2, score: 0.4 }, { cost: 2, score: 0.9 }], 'higher')).toEqual([true, false, true]);
    expect(paretoFrontier([{ cost: 1, score: 0.5 }, { cost: 2, score: 0.4 }], 'lower')).toEqual([true, true]);
  });

  it('builds accuracy-vs-rank curves from the configuration run at the most ranks', () => {
    // lr 1e-3 is run at r=8 and r=64; lr 1e-2 only at r=8, so it is not on the curve.
    const curve = agg.rankCurves.filter((p) => p.method === 'lora' && p.task === 'nli').map((p) => [p.rank, p.mean, p.configLabel]);
    expect(curve.map(([rank, , label]) => [rank, label])).toEqual([[8, 'r=8, lr=0.001'], [64, 'r=64, lr=0.001']]);
    expect(curve[0][1]).toBeCloseTo(0.7, 12);
    expect(curve[1][1]).toBe(0.72);
  });

  it('keeps a better learning rate or initialisation at one rank off the rank curve', () => {
    // The sweep: r = 1, 8, 64 at lr 2e-3 with lora_alpha 8 (equal to r only at r=8). At r=8 a learning-rate
    // grid and a PiSSA variant score higher; the best-of-several pick would put a bump at r=8.
    const lora = (r: number, primary: number, extra: { lr?: number; init?: string; rslora?: boolean } = {}) => rec({
      rank: r, config: { r, lora_alpha: 8, init_lora_weights: extra.init ?? 'default', use_rslora: extra.rslora ?? false }, lr: extra.lr ?? 2e-3, primary,
    });
    const sweep = aggregate([
      lora(1, 0.5), lora(8, 0.52), lora(64, 0.51),
      lora(8, 0.7, { lr: 4e-3 }), lora(8, 0.65, { lr: 1e-3 }), lora(8, 0.6, { init: 'pissa' }), lora(64, 0.9, { init: 'pissa' }),
      rec({ method: 'lora-complement', family: 'seed-idea', config: { mode: 'train' }, rank: 64, primary: 0.4 }),
      // Scored without training (steps 0 in its configuration): not a point of accuracy against rank.
      rec({ method: 'lora-complement', family: 'seed-idea', config: { mode: 'posthoc' }, rank: 64, steps: 0, primary: 0 }),
      // r=128 only with other settings: the curve still shows it, with the best of them.
      lora(128, 0.55, { lr: 1e-3 }), lora(128, 0.6, { lr: 4e-3 }),
      // A second sweep over the same ranks with better scores: its own series, not the main curve.
      lora(1, 0.8, { rslora: true }), lora(8, 0.8, { rslora: true }), lora(64, 0.8, { rslora: true }),
    ]);
    const curve = sweep.rankCurves.filter((p) => p.series === 'lora').map((p) => [p.rank, p.mean]);
    expect(curve).toEqual([[1, 0.5], [8, 0.52], [64, 0.51], [128, 0.6]]);
    expect(sweep.rankCurves.filter((p) => p.method === 'lora-complement').map((p) => p.mean)).toEqual([0.4]);
    const rslora = sweep.rankCurves.filter((p) => p.method === 'lora' && p.variant !== '');
    expect(rslora.map((p) => [p.series, p.rank, p.mean])).toEqual([1, 8, 64].map((r) => ['lora (use_rslora=true)', r, 0.8]));
    // The complement table compares against the same sweep runs.
    expect([sweep.complement[0].lora8!.mean, sweep.complement[0].lora64!.mean]).toEqual([0.52, 0.51]);
    // The learning-rate grid follows the r=8 default-init configuration across its three learning rates.
    expect(sweep.methodTask.find((m) => m.method === 'lora')!.lrGrid.map((p) => [p.lr, p.score])).toEqual([[1e-3, 0.65], [2e-3, 0.52], [4e-3, 0.7]]);
    // The leaderboard's best configuration still ranges over everything.
    expect(sweep.methodTask.find((m) => m.method === 'lora')!.best!.mean).toBe(0.9);
  });

  it('computes forgetting, cost, shares and provenance totals', () => {
    expect(group('nli', 'r=8, lr=0.001').forgetting).toBeCloseTo(0.5, 12);
    const none = agg.groups.find((g) => g.method === 'none')!;
    expect(none.forgetting).toBe(0);
    expect(none.params.share).toBe(0);
    expect(group('nli', 'r=64, lr=0.001').params.share).toBeCloseTo(800 / 1100, 12);
    expect(agg.provenance.totalTrainSeconds).toBe(records.length * 10);
    expect(agg.provenance.backends).toEqual([{ name: 'wasm', accelerated: false, runs: records.length }]);
    expect(agg.methods.map((m) => m.id)).toEqual(['none', 'lora']);
    expect(agg.methods[0]).toMatchObject({ isBaseline: true, folder: 'packages/methods/none/', title: null });
  });

  it('builds the ln-outlier vs ln-random curve and the lora-complement comparison', () => {
    const ln = aggregate([
      rec({ method: 'ln-outlier', family: 'selective', config: { n: 4 }, rank: 4, primary: 0.5 }),
      rec({ method: 'ln-outlier', family: 'selective', config: { n: 4 }, rank: 4, primary: 0.7, seed: 1 }),
      rec({ method: 'ln-random', family: 'selective', config: { n: 4 }, rank: 4, primary: 0.4 }),
      rec({ method: 'lora', rank: 8, primary: 0.6 }),
      rec({ method: 'lora', rank: 64, config: { r: 64 }, primary: 0.65 }),
      rec({ method: 'lora-complement', family: 'seed-idea', config: { from: 'r64-r8' }, rank: null, primary: 0.45,
        analysis: { kind: 'low-rank', modules: {}, complement: { side: 'both', energyKept: 0.3, phiTop1: 0.9, phiSmallRank: 0.5, phiFull: 0.7 } } }),
    ]);
    expect(ln.lnCurve.map((p) => [p.method, p.n, p.mean, p.runs])).toEqual([['ln-outlier', 4, 0.6, 2], ['ln-random', 4, 0.4, 1]]);
    expect(ln.lnCurve[0].mean).toBeCloseTo(0.6, 12);
    expect(ln.complement).toHaveLength(1);
    expect(ln.complement[0].lora8!.mean).toBe(0.6);
    expect(ln.complement[0].lora64!.mean).toBe(0.65);
    expect(ln.complement[0].complement[0].stats.mean).toBe(0.45);
    expect(ln.analysis.complement.map((c) => [c.path, c.value])).toEqual([
      ['complement.energyKept', 0.3], ['complement.phiTop1', 0.9], ['complement.phiSmallRank', 0.5], ['complement.phiFull', 0.7],
    ]);
  });

  it('passes analysis through by the schema of its kind: heatmaps, amplification, singular values, histograms', () => {
    const phi = [[1, 0.5, 0.4], [0.5, 0.9, 0.3]];
    const a = aggregate([
      rec({
        analysis: {
          kind: 'low-rank',
          modules: { 'blocks.0.attn.q': { shape: [4, 4], rank: 3, frobenius: 3.7, singularValues: [3, 2, 1], energy: { top1: 0.64 }, amplification: { r: 2, factor: 6.5, projectedWNorm: 1, deltaNorm: 3.7 } } },
          subspaceSimilarity: { small: 'a', large: 'b', vectors: 'left', mean: { is: [1, 2], js: [1, 2, 3], phi }, modules: {} },
        },
      }),
      rec({ seed: 1, analysis: { kind: 'norm', layers: { 'blocks.0.ln1': { dim: 8, mean: 1, std: 0.1, histogram: { min: 0, max: 3, counts: [1, 5, 2] }, bimodality: 0.61, maxZ: 2 } } } }),
      // Not of a known kind or shape: kept verbatim in raw, nothing guessed from its key names.
      rec({ seed: 2, analysis: { singular_values: [3, 2, 1], amplification_factor: 6.5 } }),
    ]).analysis;
    expect(a.heatmaps).toHaveLength(1);
    expect(a.heatmaps[0]).toMatchObject({ path: 'subspaceSimilarity.mean.phi', matrix: phi, rowLabels: ['1', '2'], colLabels: ['1', '2', '3'] });
    expect(a.amplification.map((x) => [x.path, x.value])).toEqual([['modules.blocks.0.attn.q.amplification.factor', 6.5]]);
    expect(a.singularValues.map((x) => x.values)).toEqual([[3, 2, 1]]);
    expect(a.histograms).toHaveLength(1);
    expect(a.histograms[0]).toMatchObject({ path: 'layers.blocks.0.ln1.histogram', counts: [1, 5, 2], edges: [0, 1, 2, 3], bimodality: 0.61 });
    expect(a.raw).toHaveLength(3);
  });

  it('reads the analysis the core analysis module actually writes (deltaReport, normReport, compareUpdates)', () => {
    // Seeded pseudo-random matrices: a rank-2 update of an 8x6 weight.
    let state = 1;
    const next = () => ((state = (state * 16807) % 2147483647) / 2147483647) - 0.5;
    const w = matrixFrom(Array.from({ length: 48 }, next), 8, 6);
    const a = matrixFrom(Array.from({ length: 16 }, next), 8, 2);
    const b = matrixFrom(Array.from({ length: 12 }, next), 2, 6);
    const delta = a.mmul(b);
    const wide = matrixFrom(Array.from({ length: 48 }, next), 8, 6);
    const report = deltaReport(delta, w, 2);
    const compared = compareUpdates(delta, wide, 2, 6);
    const analysis = {
      kind: 'low-rank',
      modules: { 'blocks.0.attn.q': report, 'blocks.1.attn.q': deltaReport(wide, w, 2) },
      subspaceSimilarity: { small: 'r8', large: 'r64', vectors: 'left', mean: compared, modules: {} },
    };
    const norms = { kind: 'norm', layers: { 'blocks.0.ln1': normReport([1, 1.1, 0.9, 1, 3, -1, 1, 1.05], { tunedIndices: [4, 5] }) } };
    const found = aggregate([rec({ analysis }), rec({ seed: 1, analysis: norms })]).analysis;
    // amplification: only the factor, one per module
    expect(found.amplification.map((x) => [x.path, x.value])).toEqual([
      ['modules.blocks.0.attn.q.amplification.factor', report.amplification!.factor],
      ['modules.blocks.1.attn.q.amplification.factor', expect.any(Number)],
    ]);
    expect(found.singularValues[0]).toMatchObject({ path: 'modules.blocks.0.attn.q.singularValues', values: report.singularValues });
    // the scalar overlaps with W become one matrix: modules x (side, top-k)
    const overlap = found.heatmaps.find((h) => h.path === 'overlapWithW')!;
    expect(overlap.rowLabels).toEqual(['blocks.0.attn.q', 'blocks.1.attn.q']);
    expect(overlap.colLabels[0]).toBe(`left ${Object.keys(report.overlapWithW!.left)[0]}`);
    expect(overlap.matrix[0][0]).toBe(Object.values(report.overlapWithW!.left)[0]);
    // the similarity grid between two updates keeps its i/j ticks as labels
    const grid = found.heatmaps.find((h) => h.path === 'subspaceSimilarity.mean.phi')!;
    expect(grid.rowLabels).toEqual(compared.is.map(String));
    expect(grid.colLabels).toEqual(compared.js.map(String));
    // histogram from min/max + counts, bimodality from the layer report
    const hist = found.histograms[0];
    const layer = norms.layers['blocks.0.ln1'];
    expect(hist.path).toBe('layers.blocks.0.ln1.histogram');
    expect(hist.counts).toEqual(layer.histogram.counts);
    expect(hist.edges).toHaveLength(layer.histogram.counts.length + 1);
    expect(hist.edges[0]).toBe(-1);
    expect(hist.edges[hist.edges.length - 1]).toBeCloseTo(3, 12);
    expect(hist.bimodality).toBe(layer.bimodality);
  });

  it('is deterministic regardless of input order', () => {
    expect(toJson(aggregate([...records].reverse()))).toBe(toJson(agg));
  });
});

describe('exports', () => {
  const agg = aggregate([rec({ primary: 0.5 }), rec({ primary: 0.7, seed: 1 }), rec({ method: 'none', family: 'baseline', config: {}, rank: null, primary: 0.25, trainable: 0 })]);

  it('writes the leaderboard as CSV with a header and one row per (method, task)', () => {
    const lines = toCsv(agg, 'leaderboard').trim().split('\n');
    expect(lines[0]).toBe('method,family,task,task_family,metric,mean,std,n,ci95_lo,ci95_hi,interval,valid_mean,selected_on,n_configs,best_config,best_lr,trainable,is_best,tied_with_best');
    expect(lines).toHaveLength(3);
    const lora = lines.find((l) => l.startsWith('lora,'))!.split(',');
    expect(Number(lora[5])).toBeCloseTo(0.6, 12);
    expect(Number(lora[6])).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(lora[7]).toBe('2');
  });

  it('rejects an unknown table with the valid names', () => {
    expect(() => toCsv(agg, 'nope' as never)).toThrow(/Unknown CSV table "nope". Valid tables: leaderboard, configurations/);
  });

  it('aggregateDir + writeAggregated round-trip through files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peft-agg-'));
    try {
      const r = seal(rec({ primary: 0.9 }));
      await writeFile(join(dir, `${r.run_id}.json`), JSON.stringify(r));
      await writeFile(join(dir, 'broken.json'), '{');
      const fromDir = await aggregateDir(dir);
      expect(fromDir.recordCount).toBe(1);
      expect(fromDir.problems.map((p) => p.path)).toEqual([join(dir, 'broken.json')]);
      const written = await writeAggregated(fromDir, join(dir, 'out'));
      expect(written.map((p) => p.slice(dir.length + 5))).toEqual(['aggregated.json', 'leaderboard.csv', 'configurations.csv', 'runs.csv', 'pareto.csv', 'rank.csv', 'stability.csv']);
      expect(JSON.parse(await readFile(written[0], 'utf8')).methodTask[0].best.mean).toBe(0.9);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('findings and findingsMarkdown', () => {
  const lora = (r: number, seed: number, primary: number, extra: { lr?: number; init?: string; task?: string } = {}) => rec({
    rank: r, seed, primary, task: extra.task, lr: extra.lr ?? 2e-3,
    config: { r, lora_alpha: 8, init_lora_weights: extra.init ?? 'default' },
  });
  const report = findingsMarkdown(aggregate([
    lora(1, 0, 0.5), lora(1, 1, 0.6), lora(8, 0, 0.6), lora(8, 1, 0.6), lora(64, 0, 0.62),
    lora(8, 0, 0.9, { lr: 4e-3 }), lora(8, 0, 0.3, { lr: 1e-3 }), lora(8, 0, 0.64, { init: 'pissa' }),
    rec({ method: 'none', family: 'baseline', config: {}, rank: null, lr: 2e-3, primary: 0.33 }),
    rec({ method: 'full', family: 'baseline', config: {}, rank: null, lr: 5e-4, primary: 0.8 }),
    rec({ method: 'full', family: 'baseline', config: {}, rank: null, lr: 1e-3, primary: 0.85 }),
    rec({ method: 'ln', family: 'selective', config: {}, rank: null, lr: 4e-3, primary: 0.55 }),
    rec({ method: 'svd-slice', family: 'seed-idea', config: { from: 9, to: 64 }, rank: null, primary: 0.34 }),
    rec({ method: 'lora-complement', family: 'seed-idea', config: { mode: 'posthoc', r: 64 }, rank: 64, primary: 0.35 }),
    rec({ method: 'ln-outlier', family: 'selective', config: { n: 4 }, rank: 4, primary: 0.4, trainable: 36 }),
    rec({ method: 'ln-random', family: 'selective', config: { n: 4 }, rank: 4, primary: 0.45, trainable: 36 }),
  ]));
  const row = (start: string) => report.split('\n').find((l) => l.startsWith(start));

  it('has one section per question and says what the cells are', () => {
    expect(report.match(/^## \d\. .*$/gm)).toEqual([
      '## 1. Does a low rank suffice?', '## 2. What lives outside the top directions?', '## 3. Can a small update be grown into a large one?',
      '## 4. How much do LayerNorm weights carry?', '## 5. Which methods are stable?', '## 6. How much does pretraining coverage matter?',
      '## 7. Does the batch size change convergence?', '## 8. Which layers should LoRA target?', '## 9. Does LoRA diverge at high learning rates?',
    ]);
    expect(report).toContain('16 run records (16 ok, 0 diverged, 0 failed), seeds 0, 1');
  });

  it('tabulates the rank sweep with mean ± std (seeds), not the best learning rate or init at r=8', () => {
    expect(row('| method | r=1')).toBe('| method | r=1 | r=8 | r=64 |');
    // r=1: 0.5 and 0.6 -> 0.550 ± 0.071; r=8 stays 0.600 though lr 4e-3 scored 0.9 and PiSSA 0.64.
    expect(row('| lora |')).toBe('| lora | 0.550 ± 0.071 (2) | 0.600 ± 0.000 (2) | 0.620 (1) |');
    // The references are at each method's default learning rate (full's 1e-3 run is its learning-rate grid).
    expect(report).toContain('Frozen base 0.330 (1); full fine-tuning 0.800 (1). Without a rank: ln 0.550 (1).');
  });

  it('puts the complement, the init variants and the LayerNorm curve beside their references', () => {
    expect(row('| nli |')).toBe('| nli | 0.600 ± 0.000 (2) | 0.620 (1) | — | 0.340 (1) | 0.350 (1) | — | 0.330 (1) |');
    expect(row('| lora r=8, pissa init |')).toBe('| lora r=8, pissa init | 0.640 (1) |');
    expect(row('| ln-outlier n=4 |')).toBe('| ln-outlier n=4 | 36 | 0.400 (1) |');
    expect(row('| ln-random n=4 |')).toBe('| ln-random n=4 | 36 | 0.450 (1) |');
  });

  it('lists the learning-rate grid lowest first as multiples of the default, and the seed spread', () => {
    // lr 1e-3 / 2e-3 / 4e-3 of the r=8 default-init configuration; within 95% of 0.9: only 0.9.
    expect(row('| lora | 0.300')).toBe('| lora | 0.300 / 0.600 / 0.900 (33%) |');
    expect(report).toContain('(for example lora on nli: lr 0.5x, 1x, 2x of its default 0.002)');
    // Pooled std: r=1 has variance 0.005, r=8 has 0 -> sqrt(0.0025) = 0.05.
    expect(row('| lora | 0.050')).toBe('| lora | 0.050 | 8 | 0 | 0 |');
  });
});

describe('rank curves on the committed records (converge on base)', () => {
  it("follow each method's default configuration, and show LoRA on q,v as a variant of its own", async () => {
    const { records } = await readRecords(join(import.meta.dirname, '../../../results'));
    const agg = aggregate(records, [], { protocol: 'converge', model: 'base' });
    const lora = agg.rankCurves.filter((p) => p.method === 'lora');
    const configOf = (key: string) => agg.groups.find((g) => g.configKey === key)!.config;
    const main = lora.filter((p) => p.variant === '');
    expect(main.length).toBeGreaterThan(0);
    // LoRA's default targets every linear layer: the q,v runs (targets-qv, swept at r = 1, 8, 64) are not its curve.
    for (const p of main) expect(configOf(p.configKey).target_modules, `lora r=${p.rank} on ${p.task}`).toEqual(['all-linear']);
    const qv = lora.filter((p) => p.variant !== '');
    expect(new Set(qv.map((p) => p.series))).toEqual(new Set(['lora (target_modules=q,v)']));
    for (const p of qv) expect(configOf(p.configKey).target_modules).toEqual(['q', 'v']);
  });
});
