// Seed-averaged views of two analysis outputs, for the site's figures (the per-run pieces stay in
// AnalysisData):
//   subspace   the LoRA paper's Fig. 3 between two updates, from `analysis.subspaceSimilarity` (lora-complement
//              writes it, see packages/methods/src/analysis.ts): per task and compared pair, the module-mean
//              φ grid and each module's grid, averaged over the runs (seeds) that compare the same pair
//   overlapW   overlap of each update with the pretrained W (modules x "left top8", ...): per task, method and
//              rank, the mean over runs whose matrices have the same rows and columns
//   findings   `analysis.complement` means (energyKept, phiTop1, phiSmallRank, phiFull) over a group of runs
import type { RunRecord } from '../record/schema.ts';
import type { Heatmap } from './analysis.ts';
import { mean, sampleStd } from './stats.ts';

export interface PhiGrid {
  /** Widths i of the first (smaller) update's top singular directions: the rows of phi. */
  is: number[];
  /** Widths j of the second (larger) update's: the columns of phi. */
  js: number[];
  /** phi[a][b] = φ(is[a], js[b]), in [0, 1], averaged over runs. */
  phi: number[][];
}

export interface ModulePhiGrid extends PhiGrid {
  module: string;
  /** Share of the larger update's energy outside the smaller one's subspaces, mean over runs (null when not reported). */
  energyKept: number | null;
  /** Rows of the module's weight in [out, in]: the dimension of the space the left singular vectors live in. */
  outDim: number | null;
  runs: number;
}

export interface SubspaceGroup {
  task: string;
  /** Where the two compared updates come from, as the records name them ('small_adapter', 'large_adapter', 'trained update'). */
  small: string;
  large: string;
  /** Rank of the run each side's adapter came from (its record's method.rank), else the largest width compared. */
  smallRank: number;
  largeRank: number;
  /** Which singular vectors φ compares ('left': the output space of ΔW in [out, in]). */
  vectors: string;
  /** The methods whose runs carry this comparison (lora-complement, usually). */
  methods: string[];
  runIds: string[];
  seeds: number[];
  /** Mean over runs of each run's module-mean grid, on the widths every run has. */
  mean: PhiGrid;
  /** Per module (model order), mean over the runs that compared it. */
  modules: ModulePhiGrid[];
  /** Output dimension shared by every compared module, null when they differ or the records do not say. */
  outDim: number | null;
}

export interface OverlapGroup {
  task: string;
  method: string;
  rank: number | null;
  /** Module rows and "left top8"-style columns, as in the per-run matrices averaged. */
  rowLabels: string[];
  colLabels: string[];
  /** Mean over runs per cell; NaN where no run has the cell. */
  matrix: number[][];
  runIds: string[];
  seeds: number[];
}

export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

export interface ComplementFindings {
  /** Which subspaces were removed (both, row, column); several values joined with ', ' when runs differ. */
  side: string | null;
  energyKept: MeanStd | null;
  phiTop1: MeanStd | null;
  phiSmallRank: MeanStd | null;
  phiFull: MeanStd | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** A {is, js, phi} object with phi of is.length rows of js.length finite numbers, else null. */
function phiGridOf(v: unknown): PhiGrid | null {
  if (!isObject(v) || !isNumbers(v.is) || !isNumbers(v.js) || !Array.isArray(v.phi)) return null;
  const { is, js, phi } = v as { is: number[]; js: number[]; phi: unknown[] };
  if (phi.length !== is.length || !phi.every((row) => isNumbers(row) && row.length === js.length)) return null;
  return { is, js, phi: phi as number[][] };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Cell-wise mean of grids on the widths all of them have (the same rule the method uses across modules). */
function meanGrid(grids: PhiGrid[]): PhiGrid {
  const common = (pick: (g: PhiGrid) => number[]) => pick(grids[0]!).filter((t) => grids.every((g) => pick(g).includes(t)));
  const is = common((g) => g.is);
  const js = common((g) => g.js);
  return {
    is, js,
    phi: is.map((i) => js.map((j) => round4(grids.reduce((acc, g) => acc + g.phi[g.is.indexOf(i)]![g.js.indexOf(j)]!, 0) / grids.length))),
  };
}

function meanStd(values: number[]): MeanStd | null {
  const m = mean(values);
  return m === null ? null : { mean: m, std: sampleStd(values) as number, n: values.length };
}

export interface SubspaceInput {
  record: RunRecord;
  /**
   * What the compared pair is, independent of the seed (records of one task and key are averaged together),
   * and the ranks of the runs each side's adapter came from when known.
   */
  pairKey: string;
  smallRank: number | null;
  largeRank: number | null;
}

/** Fig. 3 grids averaged over the runs comparing the same pair of updates on a task; records without the block are skipped. */
export function subspaceGroups(inputs: SubspaceInput[]): SubspaceGroup[] {
  interface Parsed { input: SubspaceInput; sim: Record<string, unknown>; mean: PhiGrid; modules: [string, PhiGrid, number | null][] }
  const byKey = new Map<string, Parsed[]>();
  for (const input of inputs) {
    const sim = input.record.analysis?.subspaceSimilarity;
    if (!isObject(sim)) continue;
    const grid = phiGridOf(sim.mean);
    if (grid === null || grid.is.length === 0 || grid.js.length === 0) continue;
    const modules: [string, PhiGrid, number | null][] = [];
    for (const [name, m] of Object.entries(isObject(sim.modules) ? sim.modules : {})) {
      const g = phiGridOf(m);
      if (g) modules.push([name, g, typeof (m as Record<string, unknown>).energyKept === 'number' ? (m as { energyKept: number }).energyKept : null]);
    }
    const key = JSON.stringify([input.record.task.id, input.pairKey, sim.small, sim.large]);
    const list = byKey.get(key) ?? [];
    list.push({ input, sim, mean: grid, modules });
    byKey.set(key, list);
  }

  const groups: SubspaceGroup[] = [];
  for (const runs of byKey.values()) {
    const first = runs[0]!;
    const names: string[] = [];
    for (const r of runs) for (const [name] of r.modules) if (!names.includes(name)) names.push(name);
    const modules: ModulePhiGrid[] = names.map((name) => {
      const found = runs.flatMap((r) => r.modules.filter(([n]) => n === name).map(([, g, e]) => ({ g, e, record: r.input.record })));
      const kept = found.map((f) => f.e).filter((e): e is number => e !== null);
      const outDims = [...new Set(found.map((f) => outDimOf(f.record, name)))];
      return {
        module: name,
        ...meanGrid(found.map((f) => f.g)),
        energyKept: kept.length ? round4(mean(kept)!) : null,
        outDim: outDims.length === 1 ? outDims[0]! : null,
        runs: found.length,
      };
    });
    const grid = meanGrid(runs.map((r) => r.mean));
    const dims = [...new Set(modules.map((m) => m.outDim))];
    groups.push({
      task: first.input.record.task.id,
      small: String(first.sim.small ?? 'first update'),
      large: String(first.sim.large ?? 'second update'),
      smallRank: first.input.smallRank ?? Math.max(...grid.is),
      largeRank: first.input.largeRank ?? Math.max(...grid.js),
      vectors: String(first.sim.vectors ?? 'left'),
      methods: [...new Set(runs.map((r) => r.input.record.method.id))],
      runIds: runs.map((r) => r.input.record.run_id),
      seeds: runs.map((r) => r.input.record.seed),
      mean: grid,
      modules,
      outDim: dims.length === 1 ? dims[0]! : null,
    });
  }
  return groups;
}

/** The module's output dimension from the record's own low-rank report (`modules.<name>.shape` = [out, in]). */
function outDimOf(record: RunRecord, module: string): number | null {
  const report = record.analysis?.modules;
  if (!isObject(report) || !isObject(report[module])) return null;
  const shape = (report[module] as Record<string, unknown>).shape;
  return isNumbers(shape) && shape.length === 2 ? shape[0]! : null;
}

/** Means of `analysis.complement` over runs; null when none of them reports it. */
export function complementFindings(records: RunRecord[]): ComplementFindings | null {
  const blocks = records.map((r) => r.analysis?.complement).filter(isObject);
  if (blocks.length === 0) return null;
  const pick = (key: string) => meanStd(blocks.map((b) => b[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
  const sides = [...new Set(blocks.map((b) => b.side).filter((s): s is string => typeof s === 'string'))];
  return {
    side: sides.length ? sides.join(', ') : null,
    energyKept: pick('energyKept'),
    phiTop1: pick('phiTop1'),
    phiSmallRank: pick('phiSmallRank'),
    phiFull: pick('phiFull'),
  };
}

/** Overlap-with-W matrices averaged per task, method and rank over runs with the same rows and columns. */
export function overlapGroups(heatmaps: Heatmap[], include: (runId: string) => boolean): OverlapGroup[] {
  const byKey = new Map<string, Heatmap[]>();
  for (const h of heatmaps) {
    if (!include(h.runId)) continue;
    const key = JSON.stringify([h.task, h.method, h.rank, h.rowLabels, h.colLabels]);
    byKey.set(key, [...(byKey.get(key) ?? []), h]);
  }
  return [...byKey.values()].map((maps) => {
    const { task, method, rank, rowLabels, colLabels } = maps[0]!;
    const matrix = rowLabels.map((_, i) => colLabels.map((_, j) => {
      const cells = maps.map((m) => m.matrix[i]![j]!).filter((v) => Number.isFinite(v));
      return cells.length ? round4(mean(cells)!) : Number.NaN;
    }));
    return { task, method, rank, rowLabels: [...rowLabels], colLabels: [...colLabels], matrix, runIds: maps.map((m) => m.runId), seeds: maps.map((m) => m.seed) };
  });
}
