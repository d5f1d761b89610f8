// Pass-through of method analysis outputs (record.analysis) for the site. The record schema leaves analysis
// free-form (each method reports what it can), so this walks the JSON and picks out recognisable pieces by
// shape and by the name of the key they sit under, keeping the key path as the label:
//   heatmaps        a rectangular number[][] under a key naming similarity / overlap / phi
//                   (axis labels from sibling arrays i/j, rows/cols or row_labels/col_labels when present)
//   amplification   a number under a key naming amplification (LoRA paper §7 amplification factor)
//   singularValues  a number[] under a key naming singular values
//   histograms      an object with counts: number[] and edges | bin_edges | bins: number[] (LN weight
//                   distributions), optional bimodality | bimodality_coefficient
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
  amplification: ScalarFinding[];
  singularValues: VectorFinding[];
  histograms: Histogram[];
  complement: ScalarFinding[];
  raw: (AnalysisSource & { analysis: Record<string, unknown> })[];
}

/** Heatmaps larger than this on either side are skipped (they would not be readable on the site). */
export const MAX_HEATMAP_SIDE = 128;

const SIMILARITY_KEY = /simil|overlap|phi|heatmap/i;
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
  return { heatmaps: [], amplification: [], singularValues: [], histograms: [], complement: [], raw: [] };
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
          rowLabels: labelsFrom(parent, ['i', 'rows', 'row_labels'], value.length),
          colLabels: labelsFrom(parent, ['j', 'cols', 'col_labels'], value[0].length),
        });
      }
      return;
    }
    if (isNumberArray(value)) {
      if (SINGULAR_KEY.test(label)) out.singularValues.push({ ...source, path: label, values: value });
      return;
    }
    if (typeof value === 'number' && Number.isFinite(value)) {
      if (AMPLIFICATION_KEY.test(label)) out.amplification.push({ ...source, path: label, value });
      else if (COMPLEMENT_KEY.test(label)) out.complement.push({ ...source, path: label, value });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((element, i) => walk(element, [...path, elementLabel(element, i)], null));
      return;
    }
    if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const edges = obj.edges ?? obj.bin_edges ?? obj.bins;
      if (isNumberArray(obj.counts) && isNumberArray(edges)) {
        const bimodality = obj.bimodality ?? obj.bimodality_coefficient;
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
  walk(record.analysis, [], null);
}
