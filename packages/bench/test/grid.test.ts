import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandGrid, findGridFile, gridSchema, loadGrid, type GridFile, type RunRequest } from '../src/grid/grid.ts';
import { shardOf, parseShard } from '../src/cli/grid-command.ts';
import { canonicalJson } from '@peft-bench/results/record/run-id';
import { checkEstimates } from '../src/grid/estimate-check.ts';
import { cpuPace, estimateGrid, estimateRunSeconds, formatDuration, onCpu, paceRatio, remainingWallSeconds } from '../src/grid/estimate.ts';
import { defaultRateRequests, waitingForLr } from '../src/grid/lr-wait.ts';

const methods = [
  { id: 'lora', rankParam: 'r' },
  { id: 'full', rankParam: null },
  { id: 'ln-outlier', rankParam: 'n' },
];

function grid(experiments: unknown[], defaults: unknown = { tasks: ['sql', 'nli'], seeds: 2 }): GridFile {
  return gridSchema.parse({ name: 't', defaults, experiments });
}

describe('grid expansion', () => {
  it('multiplies methods x ranks x tasks x seeds x lrs, one rank for rank-less methods', () => {
    const requests = expandGrid(grid([{ name: 'a', methods: 'all', ranks: [1, 8], lrs: [1e-3, 1e-2] }]), methods);
    const lora = requests.filter((r) => r.method === 'lora');
    const full = requests.filter((r) => r.method === 'full');
    expect(lora).toHaveLength(2 * 2 * 2 * 2);
    expect(full).toHaveLength(1 * 2 * 2 * 2);
    expect(new Set(full.map((r) => r.rank))).toEqual(new Set([null]));
    expect(new Set(lora.map((r) => r.seed))).toEqual(new Set([0, 1]));
    expect(requests).toHaveLength(16 + 8 + 16);
    // Seed by seed: every seed-0 run comes before any seed-1 run, in block order within a seed.
    const firstSeedOne = requests.findIndex((r) => r.seed === 1);
    expect(requests.slice(0, firstSeedOne).every((r) => r.seed === 0)).toBe(true);
    expect(requests.slice(firstSeedOne).every((r) => r.seed === 1)).toBe(true);
    expect(requests.slice(0, firstSeedOne).map((r) => r.method)).toEqual(requests.slice(firstSeedOne).map((r) => r.method));
  });

  it('applies per-method overrides, merging set/training and replacing lists', () => {
    const requests = expandGrid(
      grid([
        {
          name: 'b',
          methods: ['lora', 'full'],
          ranks: [4],
          seeds: [7],
          set: { lora_alpha: 8 },
          training: { steps: 10 },
          overrides: { full: { lr_factors: [0.5], training: { batch_size: 2 } }, lora: { set: { lora_dropout: 0.1 } } },
        },
      ]),
      methods,
    );
    const full = requests.filter((r) => r.method === 'full');
    const lora = requests.filter((r) => r.method === 'lora');
    expect(full.every((r) => r.lrFactor === 0.5 && r.training.steps === 10 && r.training.batch_size === 2)).toBe(true);
    expect(lora.every((r) => r.lrFactor === null && r.set.lora_alpha === 8 && r.set.lora_dropout === 0.1)).toBe(true);
    expect(requests.every((r) => r.seed === 7)).toBe(true);
  });

  it('rejects unknown methods naming the valid ones, and bad fields naming the field', () => {
    expect(() => expandGrid(grid([{ name: 'c', methods: ['lorra'] }]), methods)).toThrow(/unknown method "lorra".*lora, full, ln-outlier/);
    expect(gridSchema.safeParse({ name: 't', experiments: [{ name: 'x', methods: 'all', rankz: [1] }] }).success).toBe(false);
    expect(() => expandGrid(grid([{ name: 'd', methods: ['lora'] }], {}), methods)).toThrow(/no tasks/);
  });

  it('finds grids by name or path and reports invalid YAML by file', () => {
    const leaderboard = findGridFile('leaderboard');
    expect(leaderboard).toMatch(/grids\/leaderboard\.yaml$/);
    expect(loadGrid(leaderboard).name).toBe('leaderboard');
    expect(() => findGridFile('nope')).toThrow(/no grid named "nope".*leaderboard/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-grid-'));
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'name: x\nexperiments: [ {');
    expect(() => loadGrid(bad)).toThrow(/bad\.yaml is not valid YAML/);
    fs.writeFileSync(bad, 'name: x\nexperiments: []');
    expect(() => loadGrid(bad)).toThrow(/bad\.yaml is invalid: experiments/);
    // A grid of the studies' blocks: each study folder's blocks under the grid's name, in question order.
    expect(loadGrid(findGridFile('leaderboard-fixed300')).experiments.map((e) => e.name)).toEqual([
      'rank-sweep', 'rank-sweep-rslora', 'complement-pairs', 'complement-posthoc', 'complement-train', 'slices', 'slices-tail',
      'grow', 'lora-init-pissa', 'lora-init-milora', 'lora-init-pool', 'ln-outlier', 'lr-stability',
    ]);
    fs.writeFileSync(bad, 'name: no-study-has-me\nstudies: true');
    expect(() => loadGrid(bad)).toThrow(/bad\.yaml is invalid: experiments/);
    fs.writeFileSync(bad, 'name: leaderboard-fixed300\nstudies: true\nexperiments: [{ name: rank-sweep, methods: all }]');
    expect(() => loadGrid(bad)).toThrow(/two experiment blocks are named 'rank-sweep'/);
  });
});

describe('shards and estimates', () => {
  it('assigns every run id to exactly one shard in 1..n', () => {
    const ids = Array.from({ length: 200 }, (_, i) => createHash('sha256').update(String(i)).digest('hex').slice(0, 20));
    const shards = ids.map((id) => shardOf(id, 8));
    expect(shards.every((s) => s >= 1 && s <= 8)).toBe(true);
    expect(new Set(shards).size).toBe(8);
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    expect(() => parseShard('9/8')).toThrow(/Invalid --shard "9\/8"/);
  });

  it('estimates from measured runs, scaled by steps and divided over workers', () => {
    const run = (method: string, steps: number) =>
      ({ spec: { model: { id: 'm' }, method: { id: method }, task: { id: 'nli' }, training: { steps } } }) as never;
    const timings = [{ model: 'm', method: 'lora', task: 'nli', steps: 100, seconds: 50 }];
    const estimate = estimateGrid([run('lora', 100), run('lora', 200), run('full', 100)], timings, 2)!;
    expect(estimate.totalSeconds).toBeCloseTo(50 + 90 + 50);
    expect(estimate.wallSeconds).toBeCloseTo(95);
    expect(estimateGrid([run('lora', 100)], [], 2)).toBeNull();
    expect(formatDuration(3 * 3600 + 125)).toBe('3h 2m');
  });

  it('corrects the time left by how the finished runs compared with their estimates, not by their pace', () => {
    // Two long runs finished first, each taking twice its estimate: what is left (1,000 s of estimates)
    // takes twice as long, shared by 2 workers. Their pace alone (2,000 s a run) would say far more.
    expect(remainingWallSeconds(1000, [{ seconds: 2000, estimated: 1000 }, { seconds: 1600, estimated: 800 }], 2)).toBeCloseTo(1000);
    // Runs without an estimate do not count; with none to compare, there is no correction to make.
    expect(remainingWallSeconds(1000, [{ seconds: 50, estimated: 100 }, { seconds: 999, estimated: null }], 1)).toBeCloseTo(500);
    expect(remainingWallSeconds(1000, [{ seconds: 999, estimated: null }], 1)).toBeNull();
    expect(remainingWallSeconds(1000, [], 2)).toBeNull();
    expect(paceRatio([{ seconds: 300, estimated: 100 }, { seconds: 100, estimated: 100 }])).toBeCloseTo(2);
  });

  it('measures how much slower this CPU trains than the others, on the configurations measured on both', () => {
    const t = (method: string, task: string, cpu: string, tokensPerS: number) => ({ model: 'm', protocol: 'converge', method, task, rank: 16, steps: 100, seconds: 10, trainSeconds: 9, tokensPerS, cpu });
    const timings = [
      t('lora', 'sql', 'fast', 10_000), t('lora', 'sql', 'fast', 8_000), t('lora', 'sql', 'slow', 5_000),
      t('dora', 'sql', 'fast', 6_000), t('dora', 'sql', 'slow', 4_000),
      t('loha', 'nli', 'fast', 9_000), t('loha', 'nli', 'slow', 3_000),
      // Measured on one CPU only: no comparison.
      t('full', 'math', 'fast', 12_000), t('ia3', 'math', 'slow', 1_000),
    ];
    // Fastest elsewhere over fastest here: 2, 1.5, 3; the median is 2.
    expect(cpuPace(timings, 'slow')).toEqual({ cpu: 'slow', slower: 2, configurations: 3 });
    expect(cpuPace(timings, 'fast')!.slower).toBeCloseTo(0.5);
    expect(cpuPace(timings, 'another')).toBeNull();
  });

  it('takes records made on another CPU at this CPU\'s pace, once: a faster CPU is not credited twice', () => {
    const run = { spec: { model: { id: 'm' }, method: { id: 'lora', rank: 8 }, task: { id: 'sql' }, training: { steps: 300, batch_size: 16 } } } as never;
    // 300 steps x 16 rows x 80 tokens = 384,000 tokens; eval 4 s, setup 2 s on the CPU the record was made on.
    const record = (cpu: string, tokensPerS: number) => ({ model: 'm', method: 'lora', task: 'sql', steps: 300, rank: 8, batch: 16, seconds: 384_000 / tokensPerS + 4, trainSeconds: 384_000 / tokensPerS, evalSeconds: 4, setupSeconds: 2, tokensPerS, cpu });
    const elsewhere = record('fast', 12_000);
    // On a CPU 2x slower the record's 38 s become 76 s.
    expect(estimateRunSeconds(run, onCpu([elsewhere], { cpu: 'slow', slower: 2, configurations: 3 }))).toBeCloseTo(2 * (32 + 4 + 2));
    // On a CPU 2x faster, the other CPU's 12,000 tokens/s count as 24,000 here (not 12,000, and not
    // 48,000 by scaling the result again), and its evaluation and setup take half as long. With this
    // CPU's own record (8,000, made under load) the pace is their median, 16,000: 24 s of training.
    const here = record('faster', 8_000);
    const timings = onCpu([elsewhere, here], { cpu: 'faster', slower: 0.5, configurations: 3 });
    expect(timings[1]).toBe(here);
    expect(estimateRunSeconds(run, onCpu([elsewhere], { cpu: 'faster', slower: 0.5, configurations: 3 }))).toBeCloseTo(16 + 2 + 1);
    expect(estimateRunSeconds(run, timings)).toBeCloseTo(24 + 3 + 1);
  });

  it('estimates a run from measured throughput: its tokens over the method\'s tokens/s, plus the task\'s eval and setup seconds', () => {
    const run = (method: string, rank: number | null, steps: number, batch = 16) =>
      ({ spec: { model: { id: 'm' }, method: { id: method, rank }, task: { id: 'sql' }, training: { steps, batch_size: batch } } }) as never;
    // lora r=8 on sql: 300 steps x 16 rows x 80 tokens = 384,000 tokens at 12,000 tokens/s = 32 s; eval 4 s; setup 2 s.
    const lora = { model: 'm', method: 'lora', task: 'sql', steps: 300, seconds: 36, rank: 8, batch: 16, trainSeconds: 32, evalSeconds: 4, setupSeconds: 2, tokensPerS: 12_000 };
    // full on nli: 6,000 tokens/s (its rows are another task's: they do not set sql's row length).
    const full = { model: 'm', method: 'full', task: 'nli', steps: 300, seconds: 50, rank: null, batch: 16, trainSeconds: 40, evalSeconds: 10, setupSeconds: 1, tokensPerS: 6_000 };
    expect(estimateRunSeconds(run('lora', 8, 300), [lora, full])).toBeCloseTo(32 + 4 + 2);
    expect(estimateRunSeconds(run('lora', 8, 600, 32), [lora, full])).toBeCloseTo(4 * 32 + 4 + 2);
    // Full fine-tuning on sql: sql's tokens per row at full's tokens/s.
    expect(estimateRunSeconds(run('full', null, 300), [lora, full])).toBeCloseTo(64 + 4 + 2);
    expect(estimateRunSeconds(run('lora', 8, 300), [])).toBeNull();
  });

  it('trains at the median pace measured for the method on the task (runs of one configuration train up to 2x apart as the machine is shared)', () => {
    const run = ({ spec: { model: { id: 'm' }, method: { id: 'lora', rank: 8 }, task: { id: 'sql' }, training: { steps: 300, batch_size: 16 } } }) as never;
    // Both records trained 300 x 16 rows x 80 tokens; the second ran while other jobs took half the cores.
    const quiet = { model: 'm', method: 'lora', task: 'sql', steps: 300, seconds: 36, rank: 8, batch: 16, trainSeconds: 32, evalSeconds: 4, setupSeconds: 2, tokensPerS: 12_000 };
    const shared = { ...quiet, seconds: 70, trainSeconds: 64, evalSeconds: 6, setupSeconds: 3, tokensPerS: 6_000 };
    // On another task the method ran faster still: sql's own records come first.
    const nli = { ...quiet, task: 'nli', tokensPerS: 20_000, trainSeconds: 19.2 };
    // Training at the median of sql's 12,000 and 6,000 tokens/s, 9,000 (42.7 s); the median evaluation (5 s:
    // it grows with an early-stopped run's checks); the fastest setup.
    expect(estimateRunSeconds(run, [quiet, shared, nli])).toBeCloseTo(384_000 / 9_000 + 5 + 2);
  });

  it('charges a method measured never to train (the frozen base) for its own evaluation and setup alone', () => {
    const run = (method: string, rank: number | null) =>
      ({ spec: { model: { id: 'm' }, method: { id: method, rank }, task: { id: 'sql' }, training: { steps: 3000, batch_size: 16 } } }) as never;
    const lora = { model: 'm', method: 'lora', task: 'sql', steps: 300, seconds: 36, rank: 8, batch: 16, trainSeconds: 32, evalSeconds: 4, setupSeconds: 2, tokensPerS: 12_000 };
    const frozen = { model: 'm', method: 'none', task: 'sql', steps: 3000, seconds: 1.5, rank: null, batch: 16, trainSeconds: 0, evalSeconds: 1.5, setupSeconds: 3, tokensPerS: 0 };
    expect(estimateRunSeconds(run('none', null), [lora, frozen])).toBeCloseTo(1.5 + 3);
    // A trained method keeps the task's figures, not the frozen run's.
    expect(estimateRunSeconds(run('lora', 8), [lora, frozen])).toBeCloseTo(10 * 32 + 4 + 2);
  });

  it('takes an early-stopped run\'s length from runs at its own learning rate where there are some', () => {
    const run = (lr: number) =>
      ({ spec: { protocol: 'converge', model: { id: 'm' }, method: { id: 'lora', rank: 8 }, task: { id: 'math' }, training: { steps: 3000, batch_size: 16, lr, patience: 6 } } }) as never;
    const at = (lr: number, steps: number) => ({ protocol: 'converge', model: 'm', method: 'lora', task: 'math', steps, seconds: steps / 10, rank: 8, lr, batch: 16, trainSeconds: steps / 10, evalSeconds: 5, setupSeconds: 1, tokensPerS: 16_000 });
    // 100 tokens per row: a step is 0.1 s. A low rate ran to the maximum; the default stopped at 1,000.
    const timings = [at(0.005, 1000), at(0.005, 1000), at(0.00125, 3000)];
    expect(estimateRunSeconds(run(0.00125), timings)).toBeCloseTo(300 + 5 + 1);
    expect(estimateRunSeconds(run(0.005), timings)).toBeCloseTo(100 + 5 + 1);
    // No run at this rate yet: the method's median on the task.
    expect(estimateRunSeconds(run(0.02), timings)).toBeCloseTo(100 + 5 + 1);
  });

  it('takes the pace and length of runs with the same configuration and batch size before the rank\'s or the rate\'s', () => {
    const allLinear = { r: 64, target_modules: ['all-linear'] };
    const qv = { r: 64, target_modules: ['q', 'v'] };
    const run = (config: Record<string, unknown>, batch = 16) =>
      ({ spec: { protocol: 'converge', model: { id: 'm' }, method: { id: 'lora', rank: 64, config }, task: { id: 'math' }, training: { steps: 3000, batch_size: batch, lr: 0.005, patience: 6 } } }) as never;
    // 100 tokens per row at batch 16.
    const at = (config: Record<string, unknown>, steps: number, tokensPerS: number, batch = 16) =>
      ({ protocol: 'converge', model: 'm', method: 'lora', task: 'math', steps, rank: 64, config: canonicalJson(config), lr: 0.005, batch, seconds: 0, trainSeconds: (steps * batch * 100) / tokensPerS, evalSeconds: 5, setupSeconds: 1, tokensPerS });
    // q,v at the same rank trains twice as fast and stops sooner; batch 64 (another study) takes far fewer steps.
    const timings = [at(qv, 1000, 16_000), at(allLinear, 2000, 8_000), at(allLinear, 500, 8_000, 64), at(allLinear, 400, 8_000, 64)];
    // 2,000 steps x 16 rows x 100 tokens at 8,000 tokens/s = 400 s.
    expect(estimateRunSeconds(run(allLinear), timings)).toBeCloseTo(400 + 5 + 1);
    expect(estimateRunSeconds(run(qv), timings)).toBeCloseTo(100 + 5 + 1);
    // At batch 64: the median of its own batch's runs (450 steps x 64 x 100 / 8,000 = 360 s).
    expect(estimateRunSeconds(run(allLinear, 64), timings)).toBeCloseTo(360 + 5 + 1);
  });
});

describe('checking the estimate against what runs took', () => {
  // lora r=8 on sql: 300 steps x 16 rows x 80 tokens at 12,000 tokens/s = 32 s of training, 4 s of evaluation.
  const record = (id: string, start: string, wall: number, o: { model?: string; cpu?: string } = {}) =>
    ({
      run_id: id, status: 'ok', seed: 0, protocol: 'fixed-300', model: { id: o.model ?? 'm', hash: 'h' },
      method: { id: 'lora', rank: 8, config: { r: 8 } }, task: { id: 'sql', config: {} },
      training: { steps: 300, batch_size: 16, lr: 0.002 },
      cost: { train_seconds: 32, eval_seconds: 4, tokens_per_s: 12_000 },
      provenance: { started_at: start, finished_at: new Date(Date.parse(start) + wall * 1000).toISOString(), cpu: o.cpu ?? 'cpu' },
    }) as never;
  const records = [
    // Before the moment: what the estimate has to go by (38 s of wall time: 2 s of setup).
    record('a', '2026-12-01T10:00:00Z', 38),
    // After: one took its estimate, one twice it, one on a model nothing was measured on, one after --until.
    record('b', '2026-12-02T10:00:00Z', 38),
    record('c', '2026-12-02T11:00:00Z', 76),
    record('d', '2026-12-02T12:00:00Z', 50, { model: 'other' }),
    record('e', '2026-12-03T10:00:00Z', 380),
  ];

  it('estimates each later run from the records made before the moment, and compares with its wall time', () => {
    const check = checkEstimates(records, '2026-12-02T00:00:00Z', () => true, '2026-12-03T00:00:00Z');
    expect(check.basis).toBe(1);
    expect(check.runs.map((r) => [r.runId, r.took, r.estimated])).toEqual([['b', 38, 38], ['c', 76, 38]]);
    expect(check.unestimated).toBe(1);
    expect(check.took / check.estimated).toBeCloseTo(1.5);
    expect(check.quartiles).toEqual([1.25, 1.5, 1.75]);
    expect(check.within1_5).toBe(1);
    // Without --until the slow run counts too; a filter keeps runs out.
    expect(checkEstimates(records, '2026-12-02T00:00:00Z').runs).toHaveLength(3);
    expect(checkEstimates(records, '2026-12-02T00:00:00Z', (r) => r.run_id !== 'c').runs.map((r) => r.runId)).toEqual(['b', 'e']);
  });
});

describe('grid blocks with methods still to come', () => {
  it('skip unregistered methods with a warning when the block allows it', () => {
    const warnings: string[] = [];
    const requests = expandGrid(grid([{ name: 'e', methods: ['lora', 'lora-grow'], ranks: [8], skip_unregistered: true }]), methods, warnings);
    expect(new Set(requests.map((r) => r.method))).toEqual(new Set(['lora']));
    expect(warnings).toEqual(['experiment e: skipping unregistered method(s) lora-grow']);
  });
});

describe('the shipped grids', () => {
  it('every run of the quick grid is a run of the leaderboard grid (same spec, same run id)', async () => {
    const { loadCatalog } = await import('../src/run/registries.ts');
    const { resolveRequests } = await import('../src/run/resolve.ts');
    const catalog = await loadCatalog();
    const methodInfo = catalog.methods().map((m) => ({ id: m.id, rankParam: m.rankParam }));
    const ids = async (name: string) => {
      const requests = expandGrid(loadGrid(findGridFile(name)), methodInfo);
      const runs = await resolveRequests(requests, catalog, { codeVersion: 'test', defaultModel: 'default' });
      return new Set(runs.map((r) => r.runId));
    };
    const quick = await ids('quick');
    const leaderboard = await ids('leaderboard-fixed300');
    expect(quick.size).toBeGreaterThan(150);
    expect([...quick].filter((id) => !leaderboard.has(id))).toEqual([]);
  }, 60_000);

  it('the pretraining study\'s runs on base are the leaderboard\'s wherever the leaderboard runs the same configuration', async () => {
    const { loadCatalog } = await import('../src/run/registries.ts');
    const { resolveRequests } = await import('../src/run/resolve.ts');
    const catalog = await loadCatalog();
    const methodInfo = catalog.methods().map((m) => ({ id: m.id, rankParam: m.rankParam }));
    const resolved = async (name: string) => resolveRequests(expandGrid(loadGrid(findGridFile(name)), methodInfo), catalog, { codeVersion: 'test', defaultModel: 'base' });
    const leaderboard = new Set((await resolved('leaderboard')).map((r) => r.runId));
    const study = await resolved('study-pretraining');
    const atNaiveRates = study.filter((r) => r.experiment === 'base-naive-rates');
    const onBase = study.filter((r) => r.spec.model.id === 'base' && !atNaiveRates.includes(r));
    const onNaive = study.filter((r) => r.spec.model.id === 'naive');
    // base-naive-rates: full fine-tuning, IA3 and BitFit on base at the rates naive trains them at (the
    // labels name the rate), not at the ones chosen on base.
    expect(atNaiveRates.every((r) => r.spec.model.id === 'base')).toBe(true);
    expect(atNaiveRates).toHaveLength(36);
    const naiveLabels = new Set(onNaive.map((r) => r.label));
    const baseLabels = new Set(onBase.map((r) => r.label));
    expect(atNaiveRates.filter((r) => !naiveLabels.has(r.label) || baseLabels.has(r.label)).map((r) => r.label)).toEqual([]);
    // The same methods and configurations on both models, 4 tasks x 3 seeds each.
    const configs = (runs: typeof study) => [...new Set(runs.map((r) => r.label.split(' on ')[0]))].sort();
    expect(configs(onBase)).toEqual(configs(onNaive));
    expect(onBase).toHaveLength(onNaive.length);
    // DoRA and Houlsby at r = 8 and prompt tuning at its 20 virtual tokens are not leaderboard configurations (its ranks are 1, 4, 16, 64).
    const own = /^(dora r=8|houlsby r=8|prompt r=20)$/;
    const shared = onBase.filter((r) => !own.test(r.label.split(' on ')[0]!));
    expect([...new Set(shared.map((r) => r.label.split(' on ')[0]))].sort()).toEqual(['bitfit', 'full', 'ia3', 'ln', 'lora r=64', 'lora r=8', 'none', 'vera r=256']);
    expect(shared.filter((r) => !leaderboard.has(r.runId)).map((r) => r.label)).toEqual([]);
    // LoRA on q,v at r = 8 (base-qv) is the leaderboard's targets-qv run.
    expect(shared.filter((r) => r.experiment === 'base-qv')).toHaveLength(12);
    expect(shared).toHaveLength(108);
    expect(onBase.filter((r) => own.test(r.label.split(' on ')[0]!)).every((r) => !leaderboard.has(r.runId))).toBe(true);
  }, 60_000);

  it('the fixed-300 grids still reach every committed record (same specs, same run ids)', async () => {
    const { loadCatalog } = await import('../src/run/registries.ts');
    const { resolveRequests } = await import('../src/run/resolve.ts');
    const { readRecords } = await import('@peft-bench/results/record/read');
    const { REPO_ROOT } = await import('../src/run/code-version.ts');
    const catalog = await loadCatalog();
    const methodInfo = catalog.methods().map((m) => ({ id: m.id, rankParam: m.rankParam }));
    const read = await readRecords(`${REPO_ROOT}/results`);
    expect(read.problems).toEqual([]);
    // The fixed-300 records (the converge calibration runs are checked in calibration.test.ts).
    const records = read.records.filter((r) => r.protocol === 'fixed-300');
    expect(records.length).toBeGreaterThanOrEqual(1608);
    // Resolved under each code version the records were made with, as planning does through code-equivalence.json.
    const versions = [...new Set(records.map((r) => r.code_version))];
    const reached = new Map<string, Set<string>>();
    for (const name of ['leaderboard-fixed300', 'synthesis']) {
      const requests = expandGrid(loadGrid(findGridFile(name)), methodInfo);
      const ids = new Set<string>();
      for (const version of versions) {
        for (const run of await resolveRequests(requests, catalog, { codeVersion: () => version, defaultModel: 'default' })) ids.add(run.runId);
      }
      reached.set(name, ids);
    }
    const all = new Set([...reached.get('leaderboard-fixed300')!, ...reached.get('synthesis')!]);
    expect(records.filter((r) => !all.has(r.run_id)).map((r) => r.run_id)).toEqual([]);
    // The leaderboard grid's finished runs before it became leaderboard-fixed300: 1,560 of its 1,656.
    expect(records.filter((r) => reached.get('leaderboard-fixed300')!.has(r.run_id)).length).toBe(1560);
  }, 300_000);
});

describe('protocols in run specs', () => {
  const request = (overrides: Partial<RunRequest>): RunRequest => ({
    experiment: 'e', method: 'lora', rank: 8, task: 'nli', seed: 0, lr: null, lrFactor: null, set: {}, training: {}, taskConfig: {},
    model: 'naive', keepAdapters: false, ...overrides,
  });

  it('converge specs state their protocol, early stopping, 200+ validation examples and all-linear LoRA; fixed-300 specs state none of it', async () => {
    const { loadCatalog } = await import('../src/run/registries.ts');
    const { resolveRequests } = await import('../src/run/resolve.ts');
    const catalog = await loadCatalog();
    const resolve = async (overrides: Partial<RunRequest>) => (await resolveRequests([request(overrides)], catalog, { codeVersion: 'test', defaultModel: 'default' }))[0]!.spec;
    const converge = await resolve({ model: 'default' });
    expect(converge.protocol).toBe('converge');
    expect(converge.model.id).toBe('base');
    expect(converge.training).toMatchObject({ schedule: 'constant', patience: 6, min_rel_improvement: 0.005, micro_batch_size: 8 });
    expect(converge.task.config.valid).toBeGreaterThanOrEqual(200);
    // Calibrated knobs under converge: math draws from 20,000 training examples; fixed-300 keeps 2,000.
    expect((await resolve({ model: 'default', task: 'math' })).task.config.train).toBe(20000);
    expect((await resolve({ protocol: 'fixed-300', task: 'math' })).task.config.train).toBe(2000);
    expect(converge.method.config.target_modules).toEqual(['all-linear']);
    // HF PEFT's string form, as a grid may write it, and the LoRA paper's q,v as a named configuration.
    expect((await resolve({ set: { target_modules: 'all-linear' } })).method.config.target_modules).toEqual(['all-linear']);
    expect((await resolve({ set: { target_modules: ['q', 'v'] } })).method.config.target_modules).toEqual(['q', 'v']);
    const fixed = await resolve({ protocol: 'fixed-300' });
    expect(fixed.protocol).toBeUndefined();
    expect(fixed.model.id).toBe('default');
    expect(fixed.training).toEqual({ steps: 300, batch_size: 16, micro_batch_size: 16, lr: 2e-3, schedule: 'cosine', warmup_steps: 10, weight_decay: 0, grad_clip: 1, max_seq_len: 256, eval_every: 50 });
    expect(fixed.task.config.valid).toBe(50);
    expect(fixed.method.config.target_modules).toEqual(['q', 'v']);
    await expect(resolve({ protocol: 'fixed-300', training: { patience: 3 } })).rejects.toThrow(/fixed-300 protocol does not use/);
    await expect(resolve({ protocol: 'nope' })).rejects.toThrow(/Unknown protocol "nope". Valid protocols: converge, fixed-300/);
    await expect(resolve({ training: { eval_every: 0 } })).rejects.toThrow(/patience=6 needs validation during training/);
  });
});

describe('runs waiting for a chosen learning rate', () => {
  const run = (id: string, method: string, protocol?: string) =>
    ({ runId: id, spec: { protocol, model: { id: 'base' }, method: { id: method } } }) as never;

  it('only requests without a rate or a factor are at the default rate', () => {
    const requests = [{ lr: null, lrFactor: null }, { lr: null, lrFactor: 1 }, { lr: null, lrFactor: 4 }, { lr: 0.01, lrFactor: null }];
    expect(defaultRateRequests(requests)).toEqual([{ lr: null, lrFactor: null }]);
  });

  it('holds default-rate runs of methods the search tunes until their rate is chosen, and nothing else', () => {
    const runs = ['a', 'b', 'c', 'd'].map((id) => run(id, 'lora', 'converge')).concat([run('e', 'none', 'converge'), run('f', 'bitfit', 'converge'), run('g', 'lora')]);
    // At the default rate: 'a', 'b' (also a search run), 'e' (the frozen base, not tuned), 'f' (bitfit,
    // chosen) and 'g' (another scope: a spec without a protocol is fixed-300). 'c' and 'd' are at a
    // factor or an explicit rate, so they are not in this list.
    const defaultRate = ['a', 'b', 'e', 'f', 'g'].map((id) => runs.find((r: { runId: string }) => r.runId === id)!);
    const search = [run('b', 'lora', 'converge'), run('x', 'lora', 'converge'), run('s', 'bitfit', 'converge')];
    const { waiting, methods } = waitingForLr(runs, defaultRate, search, { 'converge/base': { bitfit: { lr: 0.0025, factor: 0.25 } as never } });
    expect(waiting.map((r: { runId: string }) => r.runId)).toEqual(['a']);
    expect(methods).toEqual(['lora']);
    expect(waitingForLr(runs, defaultRate, search, { 'converge/base': { lora: { lr: 0.005, factor: 1 } as never, bitfit: { lr: 0.0025, factor: 0.25 } as never } }).waiting).toEqual([]);
  });
});
