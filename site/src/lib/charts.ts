// Vega-Lite specs, built at build time from aggregated data only; the browser just renders them (vega-embed,
// svg renderer). Each function returns a complete spec with its data inlined.
import type { TopLevelSpec } from 'vega-lite';

type Spec = TopLevelSpec;

/** Every method id in a fixed order, so a method has the same colour in every chart on every page. */
let methodOrder: string[] = [];
export function setMethodOrder(methods: string[]): void {
  methodOrder = [...methods];
}
// tableau10 followed by tableau20's lighter tones: enough distinct colours for a large catalogue.
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac',
  '#1f77b4', '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#dbdb8d', '#9edae5'];
const colorOf = (method: string) => {
  const i = methodOrder.indexOf(method);
  return PALETTE[(i < 0 ? methodOrder.length : i) % PALETTE.length];
};
/** Colour encoding by method: the legend lists only the methods in this chart, each in its fixed colour. */
const methodColor = (present: string[]) => {
  const domain = [...new Set(present)].sort((a, b) => methodOrder.indexOf(a) - methodOrder.indexOf(b));
  return { field: 'method', type: 'nominal', title: 'method', scale: { domain, range: domain.map(colorOf) } };
};
/** Powers of ten spanning the values, for readable log axes. */
function decades(values: number[]): number[] {
  const pos = values.filter((v) => v > 0);
  if (pos.length === 0) return [1];
  const out: number[] = [];
  // Number(`1e${k}`), not 10 ** k: 10 ** -4 is 0.00009999999999999999, just outside a domain starting at 1e-4.
  for (let k = Math.floor(Math.log10(Math.min(...pos))); k <= Math.ceil(Math.log10(Math.max(...pos))); k++) out.push(Number(`1e${k}`));
  return out;
}
/** 1, 2 and 5 times each power of ten from the decade below the smallest value to the one above the largest: log-axis ticks that never crowd. */
function logTicks(values: number[]): number[] {
  const d = decades(values);
  return d.flatMap((x, k) => (k === d.length - 1 ? [x] : [x, Number((2 * x).toPrecision(1)), Number((5 * x).toPrecision(1))]));
}
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 380;
const HEIGHT = 230;
const base = { $schema: SCHEMA, width: WIDTH, height: HEIGHT, config: { font: 'system-ui, sans-serif', view: { stroke: '#ddd' } } } as const;

/** Score vs learning rate (log x), one line per method. */
export function lrSensitivity(metric: string, points: { method: string; lr: number; score: number }[]): Spec {
  return {
    ...base,
    data: { values: points },
    mark: { type: 'line', point: { filled: true, size: 50 } },
    encoding: {
      x: { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate (log)', axis: { format: '.0e', values: decades(points.map((p) => p.lr)) } },
      y: { field: 'score', type: 'quantitative', title: metric, scale: { zero: false } },
      color: methodColor(points.map((p) => p.method)),
      tooltip: [{ field: 'method' }, { field: 'lr', format: '.0e' }, { field: 'score', format: '.3f' }],
    },
  } as Spec;
}

/** Divergence rate per method and task (bars). */
export function divergenceBars(points: { method: string; task: string; rate: number }[]): Spec {
  return {
    ...base,
    width: 520,
    data: { values: points },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'method', type: 'nominal', title: null, axis: { labelAngle: -30 } },
      xOffset: { field: 'task' },
      y: { field: 'rate', type: 'quantitative', title: 'divergence rate', axis: { format: '%' } },
      color: { field: 'task', type: 'nominal', title: 'task' },
      tooltip: [{ field: 'method' }, { field: 'task' }, { field: 'rate', format: '.1%' }],
    },
  } as Spec;
}

/** Primary metric vs trainable parameters (log x), frontier joined by a line, frozen baseline as a rule. */
export function pareto(
  metric: string,
  points: { method: string; family: string; config: string; trainable: number; mean: number; frontier: boolean }[],
  frozenScore: number | null,
): Spec {
  const shown = points.filter((p) => p.trainable > 0); // log scale: 0 trainable (frozen) drawn as the rule
  const frontier = shown.filter((p) => p.frontier).sort((a, b) => a.trainable - b.trainable);
  const layers: unknown[] = [
    {
      data: { values: frontier },
      mark: { type: 'line', interpolate: 'step-after', color: '#888', strokeDash: [4, 3] },
      encoding: { x: { field: 'trainable', type: 'quantitative' }, y: { field: 'mean', type: 'quantitative' } },
    },
    {
      data: { values: shown },
      mark: { type: 'point', filled: true, size: 60 },
      encoding: {
        x: { field: 'trainable', type: 'quantitative', scale: { type: 'log' }, title: 'trainable parameters (log)', axis: { format: '~s', values: decades(shown.map((p) => p.trainable)) } },
        y: { field: 'mean', type: 'quantitative', title: metric, scale: { zero: false } },
        color: methodColor(shown.map((p) => p.method)),
        shape: { field: 'frontier', type: 'nominal', title: 'on frontier' },
        tooltip: [{ field: 'method' }, { field: 'config' }, { field: 'trainable', format: ',' }, { field: 'mean', format: '.3f' }, { field: 'frontier' }],
      },
    },
  ];
  if (frozenScore !== null) {
    layers.push({
      data: { values: [{ y: frozenScore, label: 'frozen base (0 trainable)' }] },
      layer: [
        { mark: { type: 'rule', color: '#b33', strokeDash: [2, 2] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#b33', x: 0 }, encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } } },
      ],
    });
  }
  return { ...base, layer: layers } as Spec;
}

/** Mean ± std vs rank (log2 x) per method, with the none/full baselines as labelled rules. */
export function rankCurve(
  metric: string,
  points: { method: string; rank: number; mean: number; lo: number; hi: number; n: number }[],
  baselines: { method: string; mean: number }[],
): Spec {
  const x = { field: 'rank', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'rank (log2)', axis: { values: [1, 2, 4, 8, 16, 32, 64, 128, 256] } };
  const layers: unknown[] = [
    {
      data: { values: points },
      layer: [
        { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: metric, scale: { zero: false } }, y2: { field: 'hi' }, color: methodColor(points.map((p) => p.method)) } },
        {
          mark: { type: 'line', point: { filled: true, size: 50 } },
          encoding: {
            x, y: { field: 'mean', type: 'quantitative' }, color: methodColor(points.map((p) => p.method)),
            tooltip: [{ field: 'method' }, { field: 'rank' }, { field: 'mean', format: '.3f' }, { field: 'n', title: 'seeds' }],
          },
        },
      ],
    },
  ];
  if (baselines.length) {
    layers.push({
      data: { values: baselines.map((b) => ({ ...b, label: b.method === 'none' ? 'frozen' : b.method })) },
      layer: [
        { mark: { type: 'rule', strokeDash: [3, 3], color: '#777' }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
        { mark: { type: 'text', align: 'right', dy: -6, color: '#555', x: WIDTH }, encoding: { y: { field: 'mean', type: 'quantitative' }, text: { field: 'label' } } },
      ],
    });
  }
  return { ...base, layer: layers } as Spec;
}

/** A similarity matrix as a heatmap (0..1). */
export function heatmap(matrix: number[][], rowLabels: string[], colLabels: string[], rowTitle: string, colTitle: string): Spec {
  // Missing cells (NaN, null in JSON) are left blank.
  const values = matrix.flatMap((row, i) => row.map((v, j) => ({ row: rowLabels[i], col: colLabels[j], value: v })))
    .filter((c) => typeof c.value === 'number' && Number.isFinite(c.value));
  return {
    ...base,
    width: Math.max(160, Math.min(300, colLabels.length * 40)),
    height: Math.max(90, Math.min(240, rowLabels.length * 30)),
    data: { values },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'col', type: 'ordinal', sort: colLabels, title: colTitle },
      y: { field: 'row', type: 'ordinal', sort: rowLabels, title: rowTitle },
      color: { field: 'value', type: 'quantitative', scale: { scheme: 'viridis', domain: [0, 1] }, title: 'φ' },
      tooltip: [{ field: 'row', title: rowTitle }, { field: 'col', title: colTitle }, { field: 'value', format: '.3f' }],
    },
  } as Spec;
}

/** One cell of a φ grid or overlap matrix; `ri`/`ci` keep the row and column order. */
interface Cell { row: string; col: string; ri: number; ci: number; value: number }

function cellsOf(matrix: number[][], rowLabels: string[], colLabels: string[]): Cell[] {
  // Missing cells (NaN, null in JSON) are left blank.
  return matrix.flatMap((row, ri) => row.map((value, ci) => ({ row: rowLabels[ri], col: colLabels[ci], ri, ci, value })))
    .filter((c) => typeof c.value === 'number' && Number.isFinite(c.value));
}

const phiColor = { field: 'value', type: 'quantitative', scale: { scheme: 'viridis', domain: [0, 1] }, title: 'φ' } as const;
const ordinalAxis = (field: 'row' | 'col', order: 'ri' | 'ci', title: string) =>
  ({ field, type: 'ordinal', sort: { field: order, op: 'min' }, title, axis: { labelAngle: 0 } });

/** A φ grid as the LoRA paper's Fig. 3: i down, j across, each cell labelled with its value. */
export function phiGrid(matrix: number[][], rowLabels: string[], colLabels: string[], rowTitle: string, colTitle: string): Spec {
  const x = ordinalAxis('col', 'ci', colTitle);
  const y = ordinalAxis('row', 'ri', rowTitle);
  return {
    ...base,
    width: { step: 50 },
    height: { step: 38 },
    data: { values: cellsOf(matrix, rowLabels, colLabels) },
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: { color: phiColor, tooltip: [{ field: 'row', title: rowTitle }, { field: 'col', title: colTitle }, { field: 'value', title: 'φ', format: '.3f' }] },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'value', format: '.2f' },
          // viridis is dark below ~0.6: white text there, dark text on the light end
          color: { condition: { test: 'datum.value < 0.6', value: 'white' }, value: '#1d2330' },
        },
      },
    ],
  } as Spec;
}

/**
 * Small multiples of φ grids, one per module: a row per block (the name before its last part, e.g.
 * "blocks.0.attn") and a column per module in it ("q", "v"), with shared axes and colour scale.
 */
export function phiSmallMultiples(grids: { module: string; matrix: number[][]; rowLabels: string[]; colLabels: string[] }[], rowTitle: string, colTitle: string): Spec {
  const split = (name: string) => {
    const at = name.lastIndexOf('.');
    return at < 0 ? { block: '', part: name } : { block: name.slice(0, at), part: name.slice(at + 1) };
  };
  const blocks = [...new Set(grids.map((g) => split(g.module).block))];
  const parts = [...new Set(grids.map((g) => split(g.module).part))];
  const values = grids.flatMap((g) => cellsOf(g.matrix, g.rowLabels, g.colLabels).map((c) => ({ ...c, module: g.module, ...split(g.module) })));
  return {
    $schema: SCHEMA,
    config: { ...base.config, facet: { spacing: 10 }, header: { labelFontSize: 11 } },
    data: { values },
    facet: {
      row: { field: 'block', type: 'nominal', sort: blocks, title: null, header: { labelAngle: 0, labelAlign: 'left' } },
      column: { field: 'part', type: 'nominal', sort: parts, title: null },
    },
    spec: {
      width: { step: 13 },
      height: { step: 13 },
      mark: { type: 'rect' },
      encoding: {
        x: { ...ordinalAxis('col', 'ci', colTitle), axis: { labelAngle: 0, labelFontSize: 8, titleFontSize: 10 } },
        // a horizontal title: rotated, a one-letter title reads as a dash beside the row header
        y: { ...ordinalAxis('row', 'ri', rowTitle), axis: { labelFontSize: 8, titleFontSize: 10, titleAngle: 0, titleAlign: 'right', titleBaseline: 'middle' } },
        color: phiColor,
        tooltip: [{ field: 'module' }, { field: 'row', title: rowTitle }, { field: 'col', title: colTitle }, { field: 'value', title: 'φ', format: '.3f' }],
      },
    },
  } as Spec;
}

/**
 * Several matrices with the same meaning (one per method and rank, say) in one heatmap, with a select
 * input under the chart choosing which one is drawn; `initial` is drawn first.
 */
export function heatmapChooser(
  choices: { label: string; matrix: number[][]; rowLabels: string[]; colLabels: string[] }[],
  initial: string,
  rowTitle: string,
  colTitle: string,
  inputName: string,
): Spec {
  const values = choices.flatMap((c) => cellsOf(c.matrix, c.rowLabels, c.colLabels).map((cell) => ({ ...cell, choice: c.label })));
  return {
    ...base,
    width: { step: 26 },
    height: { step: 22 },
    params: [{ name: 'shown', value: initial, bind: { input: 'select', options: choices.map((c) => c.label), name: `${inputName} ` } }],
    data: { values },
    transform: [{ filter: 'datum.choice === shown' }],
    mark: { type: 'rect' },
    encoding: {
      x: { ...ordinalAxis('col', 'ci', colTitle), axis: { labelAngle: -40 } },
      y: ordinalAxis('row', 'ri', rowTitle),
      color: phiColor,
      tooltip: [{ field: 'choice' }, { field: 'row', title: rowTitle }, { field: 'col', title: colTitle }, { field: 'value', title: 'φ', format: '.3f' }],
    },
  } as Spec;
}

/** Amplification factor per module, grouped by rank. */
export function amplificationBars(points: { module: string; rank: string; value: number }[], rankOrder?: string[]): Spec {
  const order = rankOrder ?? [...new Set(points.map((p) => p.rank))];
  return {
    ...base,
    width: 420,
    data: { values: points },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'module', type: 'nominal', title: null, axis: { labelAngle: -30 } },
      xOffset: { field: 'rank', sort: order },
      y: { field: 'value', type: 'quantitative', title: 'amplification factor' },
      color: { field: 'rank', type: 'nominal', title: 'method, rank', sort: order },
      tooltip: [{ field: 'module' }, { field: 'rank' }, { field: 'value', format: '.2f' }],
    },
  } as Spec;
}

/** A histogram given by bin edges and counts. */
export function histogram(edges: number[], counts: number[], title: string): Spec {
  const values = counts.map((c, i) => ({ start: edges[i], end: edges[i + 1] ?? edges[i], count: c }));
  return {
    ...base,
    width: 260,
    height: 160,
    data: { values },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: { field: 'start', type: 'quantitative', bin: { binned: true }, title },
      x2: { field: 'end' },
      y: { field: 'count', type: 'quantitative', title: 'count' },
      tooltip: [{ field: 'start', format: '.2f' }, { field: 'end', format: '.2f' }, { field: 'count' }],
    },
  } as Spec;
}

/** Score vs n tuned weights (log2 x): ln-outlier against ln-random. */
export function nCurve(metric: string, points: { method: string; n: number; mean: number; lo: number; hi: number }[]): Spec {
  const x = { field: 'n', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'n weights per norm layer (log2)', axis: { values: [4, 16, 64, 256, 1024] } };
  return {
    ...base,
    data: { values: points },
    layer: [
      { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: metric, scale: { zero: false } }, y2: { field: 'hi' }, color: methodColor(points.map((p) => p.method)) } },
      { mark: { type: 'line', point: { filled: true, size: 50 } }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color: methodColor(points.map((p) => p.method)), tooltip: [{ field: 'method' }, { field: 'n' }, { field: 'mean', format: '.3f' }] } },
    ],
  } as Spec;
}

/** Lines over training steps, one per series. */
export function stepCurves(points: { series: string; step: number; value: number }[], yTitle: string): Spec {
  return {
    ...base,
    width: 440,
    data: { values: points },
    mark: { type: 'line', point: { size: 20 } },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      tooltip: [{ field: 'series' }, { field: 'step' }, { field: 'value', format: '.4f' }],
    },
  } as Spec;
}

/** Singular values by index, one line per module. */
export function singularValues(points: { module: string; index: number; value: number }[]): Spec {
  return {
    ...base,
    data: { values: points },
    mark: { type: 'line', point: { size: 20 } },
    encoding: {
      x: { field: 'index', type: 'quantitative', title: 'component', scale: { nice: false }, axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: 'singular value', scale: { type: 'log' }, axis: { values: logTicks(points.map((p) => p.value)) } },
      color: { field: 'module', type: 'nominal', title: 'module' },
    },
  } as Spec;
}
