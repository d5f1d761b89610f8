// A grid's head (blocks marked `first`): its runs, every seed of them, go before any other block's, and
// the pool keeps them ahead, so a grid stopped early has a complete comparison of its head.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandGrid, gridSchema, selectExperiments, type RunRequest } from '../src/grid/grid.ts';
import { runPool, type PoolJob } from '../src/grid/pool.ts';
import { loadCatalog } from '../src/run/registries.ts';
import { resolveRequests } from '../src/run/resolve.ts';

const methods = [
  { id: 'lora', rankParam: 'r' },
  { id: 'full', rankParam: null },
];

describe('a grid head', () => {
  it('expands the blocks marked first before all others, seed by seed among themselves', () => {
    const grid = gridSchema.parse({
      name: 't',
      defaults: { tasks: ['sql', 'nli'], seeds: 3 },
      experiments: [
        { name: 'sweep', methods: 'all', ranks: [1, 16] },
        { name: 'head', methods: 'all', ranks: [16], first: true },
      ],
    });
    const requests = expandGrid(grid, methods);
    const head = requests.filter((r) => r.experiment === 'head');
    expect(head).toHaveLength(2 * 2 * 3);
    expect(requests.slice(0, head.length).every((r) => r.experiment === 'head')).toBe(true);
    expect(head.map((r) => r.seed)).toEqual([...head.map((r) => r.seed)].sort());
    // The rest keeps its order: seed by seed.
    const rest = requests.slice(head.length);
    expect(rest.map((r) => r.seed)).toEqual([...rest.map((r) => r.seed)].sort());
    // Without a head block nothing moves.
    const plain = expandGrid(gridSchema.parse({ ...grid, experiments: [grid.experiments[0]] }), methods);
    expect(plain.map((r) => r.seed)).toEqual([...plain.map((r) => r.seed)].sort());
  });

  it('runs only the experiments asked for (--experiments), shared runs under the block asked for', () => {
    const grid = gridSchema.parse({
      name: 't',
      defaults: { tasks: ['sql'], seeds: 1 },
      experiments: [
        { name: 'sweep', methods: 'all', ranks: [1, 16] },
        { name: 'targets', methods: ['lora'], ranks: [1, 8] },
      ],
    });
    const only = expandGrid(selectExperiments(grid, ['targets']), methods);
    expect(only.map((r) => `${r.experiment} ${r.method} r=${r.rank}`)).toEqual(['targets lora r=1', 'targets lora r=8']);
    // The same request as the full grid's duplicate (a run id is its spec, not its block).
    const { experiment: _a, ...fromAll } = expandGrid(grid, methods).find((r) => r.method === 'lora' && r.rank === 1)!;
    const { experiment: _b, ...fromOnly } = only[0]!;
    expect(fromOnly).toEqual(fromAll);
    expect(() => selectExperiments(grid, ['targets', 'rank'])).toThrow('grid t has no experiment "rank". Its experiments: sweep, targets.');
  });

  it('is not jumped by a worker that prefers runs on the task and seed it already holds', { timeout: 180_000 }, async () => {
    const request = (overrides: Partial<RunRequest>): RunRequest => ({
      experiment: 'test', method: 'lora', rank: 2, task: 'nli', seed: 0, lr: null, lrFactor: null, set: {},
      training: { steps: 4 }, taskConfig: { train: 16, valid: 4, test: 4 }, model: 'tiny-random', keepAdapters: false, protocol: 'fixed-300',
      ...overrides,
    });
    const catalog = await loadCatalog();
    const runs = await resolveRequests(
      [request({}), request({ task: 'sql' }), request({ rank: 4 })],
      catalog,
      { codeVersion: 'grid-head-test', defaultModel: 'tiny-random' },
    );
    const toJob = (i: number, head: boolean): PoolJob => {
      const run = runs[i]!;
      return { runId: run.runId, spec: run.spec, meta: run.meta, label: run.label, modelSource: run.modelSource, keepAdapter: false, dependsOn: [], head };
    };
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-grid-head-'));
    const worker = { outDir: out, backend: undefined, threads: 1, dataDir: undefined, adapterRoot: path.join(out, '.adapters'), keepAdapter: false };
    // Head: nli, then sql; after them a non-head run on nli. Once the worker holds nli it would take the
    // later nli run next if the head did not come first.
    const order = async (heads: boolean[]) => {
      const summary = await runPool([toJob(0, heads[0]!), toJob(1, heads[1]!), toJob(2, heads[2]!)], { workers: 1, worker });
      return summary.results.map((r) => runs.findIndex((run) => run.runId === r.job.runId));
    };
    expect(await order([true, true, false])).toEqual([0, 1, 2]);
    // Among runs of one tier the preference for the data held stays.
    expect(await order([false, false, false])).toEqual([0, 2, 1]);
  });
});
