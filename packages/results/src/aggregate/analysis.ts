// Pass-through of method analysis outputs (record.analysis) for the site. The record schema leaves analysis
// free-form (each method reports what it can), so this walks the JSON and picks out recognisable pieces by
// shape and by the name of the key they sit under, keeping the key path as the label:
//   heatmaps        a rectangular number[][] under a key naming similarity / overlap / phi (axis labels from
//                   sibling arrays is/js, i/j, rows/cols or row_labels/col_labels when present); plus, per run,
//                   one matrix built from scalar overlaps (modules x "left top8", ...; see overlapWithW below)
//   overlap         a number under a key naming overlap, e.g. core's deltaReport overlapWithW.left.top8
//   amplification   a number whose key names amplification, or `factor` inside an amplification object
//   singularValues  a number[] under a key naming singular values (singularValues, singular_values)
//   histograms      an object with counts: number[] and either edges | bin_edges | bins: number[] or
//                   numeric min and max (equal-width bins, as core's normReport writes); bimodality |
//                   bimodality_coefficient from the object or the object holding it
//   complement      a number under a key naming complement (lora-complement scores)
// Everything is also kept verbatim in `raw`, so nothing a method reports is lost.
import type { RunRecord } from '../record/schema.ts';

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

const SIMILARITY_KEY = /simil|overlap|phi|heatmap/i;
const OVERLAP_KEY = /overlap/i;
const AMPLIFICATION_KEY = /amplif/i;
const SINGULAR_KEY = /singular|sigma/i;
const COMPLEMENT_KEY = /complement/i;

const isNumberArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

function isMatrix(v: unknown): v is number[][] {
  if (!Array.isArray(v) || v.length === 0 || !v.every(isNumberArray)) return false;
  const width = (v[0] as number[]).length;
  return (v as number[][]).every((row) => row.length === width);
}

function labelsFrom(parent: Record<string, unknown> | null, keys: string[], length: number): string[] {
  for (const key of keys) {
    const candidate = parent?.[key];
    if (Array.isArray(candidate) && candidate.length === length) return candidate.map(String);
  }
  return Array.from({ length }, (_, i) => String(i + 1));
}

/** A readable path segment for an array element: its module/name/layer field when it has one. */
function elementLabel(element: unknown, index: number): string {
  if (element !== null && typeof element === 'object' && !Array.isArray(element)) {
    const obj = element as Record<string, unknown>;
    for (const key of ['module', 'name', 'layer', 'id', 'label']) {
      if (typeof obj[key] === 'string') return obj[key] as string;
    }
  }
  return String(index);
}

export function emptyAnalysis(): AnalysisData {
  return { heatmaps: [], overlap: [], amplification: [], singularValues: [], histograms: [], complement: [], raw: [] };
}

/** Adds the analysis pieces of one record to `out`. */
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

  const walk = (value: unknown, path: string[], parent: Record<string, unknown> | null): void => {
    const label = path.join('.');
    if (isMatrix(value)) {
      if (SIMILARITY_KEY.test(label) && value.length <= MAX_HEATMAP_SIDE && value[0].length <= MAX_HEATMAP_SIDE) {
        out.heatmaps.push({
          ...source,
          path: label,
          matrix: value,
          rowLabels: labelsFrom(parent, ['is', 'i', 'rows', 'row_labels'], value.length),
          colLabels: labelsFrom(parent, ['js', 'j', 'cols', 'col_labels'], value[0].length),
        });
      }
      return;
    }
    if (isNumberArray(value)) {
      if (SINGULAR_KEY.test(label)) out.singularValues.push({ ...source, path: label, values: value });
      return;
    }
    if (typeof value === 'number' && Number.isFinite(value)) {
      const key = path[path.length - 1] ?? '';
      // An amplification object also carries its norms and r: only the factor is the amplification.
      if (AMPLIFICATION_KEY.test(key) || (key === 'factor' && AMPLIFICATION_KEY.test(label))) {
        out.amplification.push({ ...source, path: label, value });
      } else if (OVERLAP_KEY.test(label)) overlaps.push({ ...source, path: label, value });
      else if (COMPLEMENT_KEY.test(label)) out.complement.push({ ...source, path: label, value });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((element, i) => walk(element, [...path, elementLabel(element, i)], null));
      return;
    }
    if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const edges = histogramEdges(obj);
      if (isNumberArray(obj.counts) && edges !== null) {
        const bimodality = [obj.bimodality, obj.bimodality_coefficient, parent?.bimodality, parent?.bimodality_coefficient]
          .find((b) => typeof b === 'number');
        out.histograms.push({
          ...source,
          path: label,
          edges,
          counts: obj.counts,
          bimodality: typeof bimodality === 'number' ? bimodality : null,
        });
        return;
      }
      for (const [key, child] of Object.entries(obj)) walk(child, [...path, key], obj);
    }
  };
  const overlaps: ScalarFinding[] = [];
  walk(record.analysis, [], null);
  out.overlap.push(...overlaps);
  const matrix = overlapMatrix(overlaps);
  if (matrix) out.heatmaps.push({ ...source, ...matrix });
}

/** Bin edges from explicit edges, or from min/max for equal-width bins; null when neither is there. */
function histogramEdges(obj: Record<string, unknown>): number[] | null {
  const explicit = obj.edges ?? obj.bin_edges ?? obj.bins;
  if (isNumberArray(explicit)) return explicit;
  if (isNumberArray(obj.counts) && typeof obj.min === 'number' && typeof obj.max === 'number') {
    const bins = obj.counts.length;
    const width = (obj.max - obj.min) / bins;
    return Array.from({ length: bins + 1 }, (_, i) => obj.min as number + i * width);
  }
  return null;
}

/**
 * Scalar overlaps of one run as a matrix: a row per module (the path before the overlap key, without a
 * leading "modules"), a column per what follows it ("left top8"). Missing cells are NaN (null in JSON).
 */
function overlapMatrix(overlaps: ScalarFinding[]): Pick<Heatmap, 'path' | 'matrix' | 'rowLabels' | 'colLabels'> | null {
  if (overlaps.length === 0) return null;
  const cells = overlaps.map((o) => {
    const parts = o.path.split('.');
    const at = parts.findIndex((p) => OVERLAP_KEY.test(p));
    const row = parts.slice(0, at).filter((p, i) => !(i === 0 && p === 'modules')).join('.') || '(all)';
    return { row, col: parts.slice(at + 1).join(' ') || parts[at], key: parts[at], value: o.value };
  });
  const rowLabels = [...new Set(cells.map((c) => c.row))];
  const colLabels = [...new Set(cells.map((c) => c.col))];
  const matrix = rowLabels.map(() => colLabels.map(() => Number.NaN));
  for (const c of cells) matrix[rowLabels.indexOf(c.row)][colLabels.indexOf(c.col)] = c.value;
  return { path: cells[0].key, matrix, rowLabels, colLabels };
}
