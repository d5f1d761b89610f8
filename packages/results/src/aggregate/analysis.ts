// Pass-through of method analysis outputs (record.analysis) for the site. Each method declares the schema of
// what it reports (analysis-schema.ts: kind 'low-rank' for weight updates, 'norm' for LayerNorm tuning), and
// this parses by that kind and picks out:
//   heatmaps        φ grids between two updates (subspaceSimilarity: the mean and one per module); plus, per run,
//                   one matrix of the overlaps with W (modules x "left top8", ...; see overlapMatrix below)
//   overlap         each module's overlapWithW.left/right.topK
//   amplification   each module's amplification factor
//   singularValues  each module's singular values
//   histograms      each LayerNorm weight vector's histogram (equal-width bins from min and max) and bimodality
//   complement      the complement summary (energy kept, φ), lora-complement's
// Everything is also kept verbatim in `raw`, so nothing a method reports is lost.
import type { RunRecord } from '../record/schema.ts';
import { parseAnalysis } from '../analysis-schema.ts';

export interface AnalysisSource {
  runId: string;
  method: string;
  task: string;
  rank: number | null;
  seed: number;
}

export interface Heatmap extends AnalysisSource {
  path: string;
  matrix: number[][];
  rowLabels: string[];
  colLabels: string[];
}

export interface ScalarFinding extends AnalysisSource {
  path: string;
  value: number;
}

export interface VectorFinding extends AnalysisSource {
  path: string;
  values: number[];
}

export interface Histogram extends AnalysisSource {
  path: string;
  edges: number[];
  counts: number[];
  bimodality: number | null;
}

export interface AnalysisData {
  heatmaps: Heatmap[];
  overlap: ScalarFinding[];
  amplification: ScalarFinding[];
  singularValues: VectorFinding[];
  histograms: Histogram[];
  complement: ScalarFinding[];
  raw: (AnalysisSource & { analysis: Record<string, unknown> })[];
}

/** Heatmaps larger than this on either side are skipped (they would not be readable on the site). */
export const MAX_HEATMAP_SIDE = 128;

const isNumberArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

function isMatrix(v: unknown): v is number[][] {
  if (!Array.isArray(v) || v.length === 0 || !v.every(isNumberArray)) return false;
  const width = (v[0] as number[]).length;
  return (v as number[][]).every((row) => row.length === width);
}

export function emptyAnalysis(): AnalysisData {
  return { heatmaps: [], overlap: [], amplification: [], singularValues: [], histograms: [], complement: [], raw: [] };
}

/**
 * Adds the analysis pieces of one record to `out`, parsed by the schema of its kind (analysis-schema.ts).
 * An analysis of another kind or shape is kept in `raw` only.
 */
export function collectAnalysis(record: RunRecord, out: AnalysisData): void {
  if (record.analysis === null || Object.keys(record.analysis).length === 0) return;
  const source: AnalysisSource = {
    runId: record.run_id,
    method: record.method.id,
    task: record.task.id,
    rank: record.method.rank,
    seed: record.seed,
  };
  out.raw.push({ ...source, analysis: record.analysis });
  const parsed = parseAnalysis(record.analysis);
  if (!parsed.ok) return;
  const analysis = parsed.analysis;
  if (analysis.kind === 'norm') {
    for (const [name, layer] of Object.entries(analysis.layers)) {
      const { counts, min, max } = layer.histogram;
      if (counts.length === 0) continue;
      const width = (max - min) / counts.length;
      out.histograms.push({
        ...source,
        path: `layers.${name}.histogram`,
        edges: Array.from({ length: counts.length + 1 }, (_, i) => min + i * width),
        counts,
        bimodality: layer.bimodality,
      });
    }
    return;
  }
  const heatmap = (path: string, grid: { is: number[]; js: number[]; phi: (number | null)[][] }) => {
    const matrix = grid.phi;
    if (!isMatrix(matrix) || matrix.length > MAX_HEATMAP_SIDE || matrix[0].length > MAX_HEATMAP_SIDE) return;
    const labels = (axis: number[], length: number) => (axis.length === length ? axis.map(String) : Array.from({ length }, (_, i) => String(i + 1)));
    out.heatmaps.push({ ...source, path, matrix, rowLabels: labels(grid.is, matrix.length), colLabels: labels(grid.js, matrix[0].length) });
  };
  const overlaps: ScalarFinding[] = [];
  for (const [name, m] of Object.entries(analysis.modules)) {
    if (isNumberArray(m.singularValues)) out.singularValues.push({ ...source, path: `modules.${name}.singularValues`, values: m.singularValues });
    if (m.amplification && Number.isFinite(m.amplification.factor)) {
      out.amplification.push({ ...source, path: `modules.${name}.amplification.factor`, value: m.amplification.factor });
    }
    for (const side of ['left', 'right'] as const) {
      for (const [k, value] of Object.entries(m.overlapWithW?.[side] ?? {})) {
        if (Number.isFinite(value)) overlaps.push({ ...source, path: `modules.${name}.overlapWithW.${side}.${k}`, value });
      }
    }
  }
  const similarity = analysis.subspaceSimilarity;
  if (similarity) {
    heatmap('subspaceSimilarity.mean.phi', similarity.mean);
    for (const [name, grid] of Object.entries(similarity.modules)) heatmap(`subspaceSimilarity.modules.${name}.phi`, grid);
  }
  const complement = analysis.complement;
  if (complement) {
    for (const key of ['energyKept', 'phiTop1', 'phiSmallRank', 'phiFull'] as const) {
      if (Number.isFinite(complement[key])) out.complement.push({ ...source, path: `complement.${key}`, value: complement[key] });
    }
  }
  out.overlap.push(...overlaps);
  const matrix = overlapMatrix(overlaps);
  if (matrix) out.heatmaps.push({ ...source, ...matrix });
}

/**
 * Scalar overlaps of one run as a matrix: a row per module (the path before the overlap key, without a
 * leading "modules"), a column per what follows it ("left top8"). Missing cells are NaN (null in JSON).
 */
function overlapMatrix(overlaps: ScalarFinding[]): Pick<Heatmap, 'path' | 'matrix' | 'rowLabels' | 'colLabels'> | null {
  if (overlaps.length === 0) return null;
  const cells = overlaps.map((o) => {
    const parts = o.path.split('.');
    const at = parts.findIndex((p) => p === 'overlapWithW');
    const row = parts.slice(0, at).filter((p, i) => !(i === 0 && p === 'modules')).join('.') || '(all)';
    return { row, col: parts.slice(at + 1).join(' ') || parts[at], key: parts[at], value: o.value };
  });
  const rowLabels = [...new Set(cells.map((c) => c.row))];
  const colLabels = [...new Set(cells.map((c) => c.col))];
  const matrix = rowLabels.map(() => colLabels.map(() => Number.NaN));
  for (const c of cells) matrix[rowLabels.indexOf(c.row)][colLabels.indexOf(c.col)] = c.value;
  return { path: cells[0].key, matrix, rowLabels, colLabels };
}
