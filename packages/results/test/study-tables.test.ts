// The tables of the studies on rank, pretraining coverage, batch size, LoRA's targets and high learning
// rates, on records built here: numbers worked out by hand, configurations kept apart, and each
// study's empty sentence until its comparison has two sides.
import { describe, expect, it } from 'vitest';
import { aggregate, aggregateLookup, findings, findingsMarkdown, type FindingsSection } from '../src/aggregate/index.ts';
import { declaredLr, defaultLr, methodInfo } from '../src/methods.ts';
import { runRecord, type RunRecord } from '../src/record/schema.ts';
import { shareOfGain } from '../studies/pretraining/index.ts';
import { lrFactorOf, study } from '../studies/index.ts';
import { sampleRecord } from './fixtures.ts';

const TASKS = {
  nli: { id: 'nli', tier: 'synthetic', family: 'simple', primary_metric: 'acc', config: {} },
  sql: { id: 'sql', tier: 'synthetic', family: 'simple', primary_metric: 'exec_acc', config: {} },
  summarize: { id: 'summarize', tier: 'synthetic', family: 'simple', primary_metric: 'rougeL', config: {} },
} as const;

/** The method's hyperparameters at their defaults, the rank and `set` applied. */
function configOf(method: string, rank: number | null, set: Record<string, unknown> = {}): Record<string, unknown> {
  const info = methodInfo(method)!;
  const config = Object.fromEntries(info.hyperparameters.map((h) => [h.name, h.default]));
  if (rank !== null && info.rankParam) config[info.rankParam] = rank;
  return { ...config, ...set };
}

let next = 0;
interface Run {
  method: string;
  rank?: number | null;
  set?: Record<string, unknown>;
  task?: keyof typeof TASKS;
  model?: 'naive' | 'base';
  seed?: number;
  /** Multiple of the method's default learning rate (chosen on valid where it was). */
  lrFactor?: number;
  /** lrFactor multiplies the declared rate instead, as a grid's lr_factors do. */
  ofDeclared?: boolean;
  /** Test score; null for a diverged run. */
  score: number | null;
  valid?: number;
  batch?: number;
  steps?: number;
  convergence?: { steps: number; best_step: number; stopped: 'plateau' | 'max_steps' | 'diverged' };
  trainable?: number;
}

/** A converge-protocol record of one run (schema-valid). */
function run(o: Run): RunRecord {
  const base = sampleRecord((next++).toString(16).padStart(20, '0'));
  const task = TASKS[o.task ?? 'nli'];
  const model = o.model ?? 'base';
  const metric = task.primary_metric;
  const diverged = o.score === null;
  const rank = o.rank ?? null;
  const record = {
    ...base,
    protocol: 'converge',
    status: diverged ? 'diverged' : 'ok',
    reason: diverged ? 'loss was NaN at step 40' : null,
    method: { id: o.method, family: methodInfo(o.method)!.family, config: configOf(o.method, rank, o.set), rank },
    task,
    model: { id: model, hash: `${model}-hash`, params: 1000 },
    seed: o.seed ?? 0,
    training: {
      ...base.training, lr: (o.ofDeclared ? declaredLr : defaultLr)(model, o.method, 'converge') * (o.lrFactor ?? 1), batch_size: o.batch ?? 16,
      micro_batch_size: o.batch === 64 ? 8 : (o.batch ?? 16), steps: o.steps ?? 3000, eval_every: 50, patience: 6,
    },
    metrics: {
      ...base.metrics,
      primary: o.score,
      valid: diverged ? {} : { [metric]: o.valid ?? o.score },
      test: diverged ? {} : { [metric]: o.score },
    },
    params: { ...base.params, trainable: o.trainable ?? 100 },
    ...(o.convergence ? { convergence: { ...o.convergence, best_valid_loss: 1 } } : {}),
  };
  return runRecord.parse(record);
}

const section = (sections: FindingsSection[], id: string) => sections.find((s) => s.id === id)!;

describe('pretraining coverage: naive against base', () => {
  // Scores per model, task and method, over two seeds (means in the comments).
  const scores: Record<'naive' | 'base', Record<'nli' | 'sql', Record<string, [number, number]>>> = {
    naive: {
      nli: { none: [0.3, 0.3], full: [0.7, 0.9], lora: [0.5, 0.6], ia3: [0.4, 0.4] }, // 0.3, 0.8, 0.55, 0.4
      sql: { none: [0.2, 0.2], full: [0.2, 0.2], lora: [0.3, 0.3], ia3: [0.1, 0.1] }, // full gains nothing: no share
    },
    base: {
      nli: { none: [0.5, 0.5], full: [0.9, 0.9], lora: [0.8, 0.8], ia3: [0.7, 0.7] }, // 0.5, 0.9, 0.8, 0.7
      sql: { none: [0.4, 0.4], full: [0.8, 0.8], lora: [0.8, 0.8], ia3: [0.6, 0.5] }, // 0.4, 0.8, 0.8, 0.55
    },
  };
  const rankOf = (m: string) => (m === 'lora' ? 8 : null);
  // The frozen base trains nothing: its records' learning rate (here half the default) is not held against it.
  const records = (['naive', 'base'] as const).flatMap((model) => (['nli', 'sql'] as const).flatMap((task) =>
    Object.entries(scores[model][task]).flatMap(([method, pair]) => pair.map((score, seed) =>
      run({ method, rank: rankOf(method), task, model, seed, score, lrFactor: method === 'none' ? 0.5 : 1, trainable: method === 'none' ? 0 : 100 })))));
  // On base, LoRA r=8 also at x4 its default rate (better on valid) and at batch 64: neither is the study's configuration.
  records.push(
    run({ method: 'lora', rank: 8, task: 'nli', model: 'base', lrFactor: 4, score: 0.99, valid: 0.99 }),
    run({ method: 'lora', rank: 8, task: 'nli', model: 'base', batch: 64, steps: 750, score: 0.98, valid: 0.98 }),
    // A task where only the frozen base has run: no table of its own.
    run({ method: 'none', task: 'summarize', model: 'base', score: 0.2, trainable: 0 }),
    // IA3 on base at its declared rate (naive's), below the chosen one on valid: only the rate table shows it.
    run({ method: 'ia3', task: 'nli', model: 'base', ofDeclared: true, score: 0.45, valid: 0.45 }),
  );

  it('computes the share of full fine-tuning\'s gain, signed by the metric\'s direction, and none where full gains nothing', () => {
    expect(shareOfGain(0.55, 0.3, 0.8, { direction: 'higher' })).toBeCloseTo(0.5, 12);
    expect(shareOfGain(2.5, 3, 2, { direction: 'lower' })).toBeCloseTo(0.5, 12);
    expect(shareOfGain(0.3, 0.2, 0.2, { direction: 'higher' })).toBeNull();
    expect(shareOfGain(0.3, 0.2, 0.1, { direction: 'higher' })).toBeNull();
    expect(shareOfGain(null, 0.2, 0.5, { direction: 'higher' })).toBeNull();
  });

  it('reads naive through the lookup and reports each method on both models with its share per task and on average', () => {
    const agg = aggregate(records);
    expect(agg.scope).toMatchObject({ protocol: 'converge', model: 'base' });
    // Without a lookup the study sees base alone: nothing to compare.
    expect(section(findings(agg), 'pretraining').tables).toEqual([]);
    const s = section(findings(agg, aggregateLookup(records, [], agg)), 'pretraining');
    expect(s.tables.map((t) => t.title)).toEqual([
      'nli (acc)', 'sql (exec_acc)', 'Share of full fine-tuning\'s gain, mean over tasks', 'Where the learning rates differ: base at naive\'s rate',
    ]);
    const [nli, sql, summary, rates] = s.tables;
    expect(nli!.title).toBe('nli (acc)');
    expect(nli!.rows).toEqual([
      ['frozen', '0.300 ± 0.000 (2)', '0.500 ± 0.000 (2)', '0%', '0%'],
      ['full', '0.800 ± 0.141 (2)', '0.900 ± 0.000 (2)', '100%', '100%'],
      // (0.55 - 0.3) / (0.8 - 0.3) = 50% on naive; (0.8 - 0.5) / (0.9 - 0.5) = 75% on base, not the x4 or batch-64 runs.
      ['lora r=8', '0.550 ± 0.071 (2)', '0.800 ± 0.000 (2)', '50%', '75%'],
      ['ia3', '0.400 ± 0.000 (2)', '0.700 ± 0.000 (2)', '20%', '50%'],
    ]);
    expect(sql!.rows.find((r) => r[0] === 'lora r=8')).toEqual(['lora r=8', '0.300 ± 0.000 (2)', '0.800 ± 0.000 (2)', '—', '100%']);
    expect(sql!.rows.find((r) => r[0] === 'ia3')).toEqual(['ia3', '0.100 ± 0.000 (2)', '0.550 ± 0.071 (2)', '—', '38%']);
    expect(summary!.headers).toEqual(['method', 'naive', 'base']);
    // lora: naive 50% (nli only); base (75% + 100%) / 2. ia3: naive 20%; base (50% + 37.5%) / 2.
    expect(summary!.rows).toEqual([['lora r=8', '50% (1)', '88% (2)'], ['ia3', '20% (1)', '44% (2)']]);
    expect(nli!.note).toBeUndefined();
    // Full fine-tuning and IA3 train at other rates on base (chosen on valid) than on naive (declared):
    // base at naive's rate is the 0.45 run for IA3 on nli, and none elsewhere. LoRA's rate is the same on both.
    expect(rates!.headers).toEqual(['method', 'task', 'naive', 'base', 'base at naive\'s rate']);
    expect(rates!.rows).toEqual([
      ['full', 'nli', '0.800 ± 0.141 (2) at 0.00125', '0.900 ± 0.000 (2) at 0.000313', '—'],
      ['full', 'sql', '0.200 ± 0.000 (2) at 0.00125', '0.800 ± 0.000 (2) at 0.000313', '—'],
      ['ia3', 'nli', '0.400 ± 0.000 (2) at 0.01', '0.700 ± 0.000 (2) at 0.04', '0.450 (1) at 0.01'],
      ['ia3', 'sql', '0.100 ± 0.000 (2) at 0.01', '0.550 ± 0.071 (2) at 0.04', '—'],
    ]);
    expect(rates!.note).toContain('declared rate');
    expect(rates!.note).not.toContain('"diverged (k of n)"');
  });

  it('says where a configuration diverged: every run ("diverged (k of n)", no share) or some of them', () => {
    const withDivergence = [
      ...records,
      // LoRA r=64: on base nli both seeds diverged; on naive nli one of two.
      run({ method: 'lora', rank: 64, task: 'nli', model: 'base', seed: 0, score: null }),
      run({ method: 'lora', rank: 64, task: 'nli', model: 'base', seed: 1, score: null }),
      run({ method: 'lora', rank: 64, task: 'nli', model: 'naive', seed: 0, score: 0.8 }),
      run({ method: 'lora', rank: 64, task: 'nli', model: 'naive', seed: 1, score: null }),
    ];
    const agg = aggregate(withDivergence);
    const [nli, sql, summary] = section(findings(agg, aggregateLookup(withDivergence, [], agg)), 'pretraining').tables;
    // (0.8 - 0.3) / (0.8 - 0.3) = 100% on naive from the run that did not diverge.
    expect(nli!.rows.find((r) => r[0] === 'lora r=64')).toEqual(['lora r=64', '0.800 (1), 1 diverged', 'diverged (2 of 2)', '100%', '—']);
    expect(nli!.note).toContain('"diverged (k of n)"');
    expect(sql!.note).toBeUndefined();
    expect(summary!.rows.find((r) => r[0] === 'lora r=64')).toEqual(['lora r=64', '100% (1)', '— (0)']);
  });

  it('reads the page\'s protocol: the same study on naive\'s aggregate compares with base too', () => {
    const naive = aggregate(records, [], { model: 'naive' });
    const s = section(findings(naive, aggregateLookup(records, [], naive)), 'pretraining');
    expect(s.tables[0]!.rows[2]).toEqual(['lora r=8', '0.550 ± 0.071 (2)', '0.800 ± 0.000 (2)', '50%', '75%']);
  });
});

describe('batch size and convergence', () => {
  const settings = { 4: 12000, 16: 3000, 64: 750 } as const;
  const records: RunRecord[] = [];
  for (const [batch, steps] of Object.entries(settings).map(([b, s]) => [Number(b), s] as const)) {
    for (const seed of [0, 1]) {
      // Best step differs per seed: means are (400 + 600) / 2 = 500 at every batch here, for lora.
      const best = seed === 0 ? 400 : 600;
      records.push(run({ method: 'lora', rank: 8, seed, batch, steps, score: 0.5 + batch / 1000 + seed / 100, convergence: { steps: best + 100, best_step: best, stopped: 'plateau' } }));
      if (batch !== 4) records.push(run({ method: 'full', seed, batch, steps, score: 0.7, convergence: { steps, best_step: steps - 50, stopped: 'max_steps' } }));
    }
  }

  it('keeps each batch size a configuration of its own', () => {
    const lora = aggregate(records).groups.filter((g) => g.method === 'lora');
    expect(lora.map((g) => g.config.batch_size).sort((a, b) => Number(a) - Number(b))).toEqual([4, 16, 64]);
    expect(lora.every((g) => g.stats.n === 2)).toBe(true);
  });

  it('reports steps and examples to the best checkpoint, steps taken and the test score per batch', () => {
    expect(section(findings(aggregate(records.filter((r) => r.training.batch_size === 16))), 'batch-size').tables).toEqual([]);
    const [nli] = section(findings(aggregate(records)), 'batch-size').tables;
    expect(nli!.headers).toEqual(['method', 'batch', 'steps to best', 'examples to best', 'steps taken', 'test']);
    expect(nli!.rows).toEqual([
      ['lora r=8', '4', '500', '2,000', '600 of 12,000 (plateau 2)', '0.509 ± 0.007 (2)'],
      ['lora r=8', '16', '500', '8,000', '600 of 3,000 (plateau 2)', '0.521 ± 0.007 (2)'],
      ['lora r=8', '64', '500', '32,000', '600 of 750 (plateau 2)', '0.569 ± 0.007 (2)'],
      ['full', '16', '2,950', '47,200', '3,000 of 3,000 (max_steps 2)', '0.700 ± 0.000 (2)'],
      ['full', '64', '700', '44,800', '750 of 750 (max_steps 2)', '0.700 ± 0.000 (2)'],
    ]);
  });
});

describe('LoRA targets: q,v against all linear layers', () => {
  const qv = { target_modules: ['q', 'v'] };
  const records = [
    ...[1, 8].flatMap((rank) => [0, 1, 2].flatMap((seed) => [
      run({ method: 'lora', rank, seed, set: qv, score: 0.4 + rank / 100, trainable: 1024 * rank }),
      run({ method: 'lora', rank, seed, score: 0.5 + rank / 100 + seed / 100, trainable: 4096 * rank }),
    ])),
    // r=64 on all linear layers only; and a q,v run at another rate, not the study's.
    run({ method: 'lora', rank: 64, score: 0.9, trainable: 262144 }),
    run({ method: 'lora', rank: 8, set: qv, lrFactor: 2, score: 0.1 }),
  ];

  it('puts q,v beside all-linear at r = 1, 8, 64 with their trainable parameters', () => {
    expect(section(findings(aggregate(records.filter((r) => r.method.config.target_modules?.toString() === 'q,v'))), 'targets').tables).toEqual([]);
    const s = section(findings(aggregate(records)), 'targets');
    expect(s.tables).toHaveLength(1);
    expect(s.tables[0]!.headers).toEqual(['r', 'q,v', 'q,v trainable', 'all-linear', 'all-linear trainable']);
    expect(s.tables[0]!.rows).toEqual([
      ['r=1', '0.410 ± 0.000 (3)', '1,024', '0.520 ± 0.010 (3)', '4,096'],
      ['r=8', '0.480 ± 0.000 (3)', '8,192', '0.590 ± 0.010 (3)', '32,768'],
      ['r=64', '—', '—', '0.900 (1)', '262,144'],
    ]);
  });

  it('says where every run of a configuration diverged, and how many diverged beside a score', () => {
    const withDivergence = [
      ...records,
      // sql: all-linear r=8 diverged on every seed; q,v r=8 lost one of its seeds.
      ...[0, 1].map((seed) => run({ method: 'lora', rank: 8, seed, task: 'sql', score: null, trainable: 32768 })),
      run({ method: 'lora', rank: 8, seed: 0, task: 'sql', set: qv, score: 0.3, trainable: 8192 }),
      run({ method: 'lora', rank: 8, seed: 1, task: 'sql', set: qv, score: null, trainable: 8192 }),
    ];
    const tables = section(findings(aggregate(withDivergence)), 'targets').tables;
    const sql = tables.find((t) => t.title?.startsWith('sql'))!;
    expect(sql.rows).toEqual([
      ['r=1', '—', '—', '—', '—'],
      ['r=8', '0.300 (1), 1 diverged', '8,192', 'diverged (2 of 2)', '32,768'],
      ['r=64', '—', '—', '—', '—'],
    ]);
    expect(sql.note).toMatch(/every run of that configuration diverged/);
    // The table without divergence carries no such note.
    expect(tables.find((t) => t.title?.startsWith('nli'))!.note).toBeUndefined();
  });
});

describe('rank: a rank where the default configuration diverged', () => {
  const records = [
    ...[0, 1].map((seed) => run({ method: 'lora', rank: 1, seed, score: 0.5 + seed / 10 })),
    // r=8: every seed diverged at the defaults; a batch-64 run at r=8 scored, but it is another configuration.
    ...[0, 1].map((seed) => run({ method: 'lora', rank: 8, seed, score: null })),
    run({ method: 'lora', rank: 8, batch: 64, steps: 750, score: 0.9, valid: 0.9 }),
    // r=16: one of two seeds diverged.
    run({ method: 'lora', rank: 16, seed: 0, score: 0.6 }),
    run({ method: 'lora', rank: 16, seed: 1, score: null }),
  ];

  it('keeps the point on the curve with no score, and the table says it diverged instead of showing another configuration', () => {
    const agg = aggregate(records);
    const curve = agg.rankCurves.filter((p) => p.series === 'lora').map((p) => [p.rank, p.mean, p.diverged, p.runs]);
    expect(curve).toEqual([[1, 0.55, 0, 2], [8, null, 2, 2], [16, 0.6, 1, 2]]);
    const table = section(findings(agg), 'rank').tables.find((t) => t.title?.startsWith('nli'))!;
    expect(table.headers).toEqual(['method', 'r=1', 'r=8', 'r=16']);
    expect(table.rows).toEqual([['lora', '0.550 ± 0.071 (2)', 'diverged (2 of 2)', '0.600 (1), 1 diverged']]);
    expect(table.note).toMatch(/every run of that configuration diverged/);
  });

  it('has no divergence note where nothing diverged', () => {
    const table = section(findings(aggregate(records.slice(0, 2))), 'rank').tables[0]!;
    expect(table.rows).toEqual([['lora', '0.550 ± 0.071 (2)']]);
    expect(table.note).not.toMatch(/diverged/);
  });
});

describe('LoRA and full fine-tuning at high learning rates', () => {
  // The study's factors are of the declared rate (grids/study-lr.yaml multiplies it), whatever was chosen.
  const atDeclared = (o: Run) => run({ ...o, ofDeclared: true });
  const records = [
    ...[0, 1, 2].map((seed) => atDeclared({ method: 'lora', rank: 8, seed, score: 0.6 })),
    // x4: one of three diverged; the others score 0.5 and 0.7.
    atDeclared({ method: 'lora', rank: 8, seed: 0, lrFactor: 4, score: 0.5 }),
    atDeclared({ method: 'lora', rank: 8, seed: 1, lrFactor: 4, score: 0.7 }),
    atDeclared({ method: 'lora', rank: 8, seed: 2, lrFactor: 4, score: null }),
    // x16 on sql: every run diverged.
    ...[0, 1].map((seed) => atDeclared({ method: 'lora', rank: 8, seed, task: 'sql', lrFactor: 16, score: null })),
    atDeclared({ method: 'full', seed: 0, lrFactor: 2, score: 0.8 }),
    // LoRA r=16 at x4 is not the study's configuration.
    atDeclared({ method: 'lora', rank: 16, seed: 0, lrFactor: 4, score: null }),
  ];

  it('is empty while no run is above the default rate', () => {
    expect(section(findings(aggregate(records.slice(0, 3))), 'lr').tables).toEqual([]);
    expect(study('lr').empty).toMatch(/above their declared learning rate/);
  });

  it('counts diverged runs per task and overall, and scores only the runs that did not diverge', () => {
    const [divergence, scores] = section(findings(aggregate(records)), 'lr').tables;
    expect(divergence!.headers).toEqual(['method', 'lr', 'nli', 'sql', 'runs', 'diverged', 'divergence rate']);
    expect(divergence!.rows).toEqual([
      ['lora r=8', 'x1 (0.005)', '0/3', '—', '3', '0', '0%'],
      ['lora r=8', 'x4 (0.02)', '1/3', '—', '3', '1', '33%'],
      ['lora r=8', 'x16 (0.08)', '—', '2/2', '2', '2', '100%'],
      ['full', 'x2 (0.0025)', '0/1', '—', '1', '0', '0%'],
    ]);
    expect(scores!.rows).toEqual([
      ['lora r=8', 'x1 (0.005)', '0.600 ± 0.000 (3)', '—'],
      ['lora r=8', 'x4 (0.02)', '0.600 ± 0.141 (2)', '—'],
      ['lora r=8', 'x16 (0.08)', '—', '—'],
      ['full', 'x2 (0.0025)', '0.800 (1)', '—'],
    ]);
  });
});

describe('learning-rate factors', () => {
  it('are of the default rate (chosen on valid where it was), or of the declared rate that grids multiply', () => {
    // BitFit's converge rate on base was chosen on valid (x0.25 of its declared rate).
    expect(defaultLr('base', 'bitfit', 'converge')).toBeCloseTo(declaredLr('base', 'bitfit', 'converge') / 4, 12);
    const agg = aggregate([run({ method: 'bitfit', score: 0.5 })]);
    const g = agg.groups[0]!;
    expect(g.lr).toBe(defaultLr('base', 'bitfit', 'converge'));
    expect(lrFactorOf(agg, g)).toBeCloseTo(1, 12);
    expect(lrFactorOf(agg, g, 'declared')).toBeCloseTo(0.25, 12);
    // Without a chosen rate the two agree.
    expect(defaultLr('naive', 'lora', 'converge')).toBe(declaredLr('naive', 'lora', 'converge'));
  });
});

describe('the report', () => {
  it('prints each new study with the grid that holds its runs, or its empty sentence', () => {
    const md = findingsMarkdown(aggregate([run({ method: 'none', score: 0.2 })]));
    for (const id of ['pretraining', 'batch-size', 'targets', 'lr']) {
      const s = study(id);
      expect(md).toContain(`## ${s.title}\n`);
      expect(md).toContain(`${s.empty}\n`);
    }
    expect(md).toContain('Its runs: `pnpm bench --grid study-pretraining`.');
    expect(md).toContain('Its runs: `pnpm bench --grid leaderboard --experiments targets-qv,targets-all-linear`.');
  });
});
