// Vega-Lite specs, built at build time from aggregated data only; the browser just renders them (vega-embed,
// svg renderer). Each function returns a complete spec with its data inlined.
import type { TopLevelSpec } from 'vega-lite';

type Spec = TopLevelSpec;

/** Every method id in a fixed order, so a method has the same colour in every chart on every page. */
let methodOrder: string[] = [];
export function setMethodOrder(methods: string[]): void {
  methodOrder = [...methods];
}
// Colour-blind-safe colours (Okabe-Ito without its yellow, plus black, wine, olive and grey) and seven shapes.
// A method's colour and shape come from its place in the fixed order: ten colours and seven shapes repeat
// with different periods, so every one of the first 70 methods has its own pair and neighbours differ in both.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000', '#882255', '#999933', '#7f7f7f'];
const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'triangle-right'];
/** A series such as "lora (use_rslora=true)" keeps its method's colour and takes another shape. */
const baseOf = (series: string) => series.replace(/ \(.*\)$/, '');
const indexOf = (series: string) => {
  const i = methodOrder.indexOf(baseOf(series));
  return i < 0 ? methodOrder.length : i;
};
const colorOf = (series: string) => PALETTE[indexOf(series) % PALETTE.length];
const shapeOf = (series: string) => SHAPES[(indexOf(series) + (series === baseOf(series) ? 0 : 3)) % SHAPES.length];
/** Legends list every entry, untruncated; past eight entries they go under the chart in columns. */
const legendFor = (entries: number) => (entries > 8
  ? { orient: 'bottom', columns: 3, symbolLimit: 0, labelLimit: 0, direction: 'vertical' }
  : { symbolLimit: 0, labelLimit: 0 });
const seriesDomain = (present: string[]) => [...new Set(present)].sort((a, b) => indexOf(a) - indexOf(b) || (a < b ? -1 : a > b ? 1 : 0));
/** Colour encoding by method: the legend lists only the methods in this chart, each in its fixed colour. */
const methodColor = (present: string[], field = 'method') => {
  const domain = seriesDomain(present);
  return { field, type: 'nominal', title: 'method', scale: { domain, range: domain.map(colorOf) }, legend: legendFor(domain.length) };
};
/** Shape encoding by method, merged into the colour legend (same field and title). */
const methodShape = (present: string[], field = 'method') => {
  const domain = seriesDomain(present);
  return { field, type: 'nominal', title: 'method', scale: { domain, range: domain.map(shapeOf) }, legend: legendFor(domain.length) };
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

/**
 * Lines with a marker per point, coloured and shaped by series: an optional error bar (lo..hi), the line, and
 * the points (one symbol each, carrying the tooltip). Colour and shape share one legend.
 */
function seriesLayers(
  x: object, y: { field: string; title: string }, series: string[],
  opts: { errorBars?: boolean; tooltip: object[]; field?: string },
): unknown[] {
  const field = opts.field ?? 'method';
  const color = methodColor(series, field);
  const yEnc = { field: y.field, type: 'quantitative', title: y.title, scale: { zero: false } };
  return [
    ...(opts.errorBars ? [{ mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { ...yEnc, field: 'lo' }, y2: { field: 'hi' }, color } }] : []),
    { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y: yEnc, color, detail: { field, type: 'nominal' } } },
    { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { x, y: yEnc, color, shape: methodShape(series, field), tooltip: opts.tooltip } },
  ];
}

/** Score vs learning rate (log x), one line per method. */
export function lrSensitivity(metric: string, points: { method: string; lr: number; score: number }[]): Spec {
  const x = { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate (log)', axis: { format: '.0e', values: decades(points.map((p) => p.lr)) } };
  return {
    ...base,
    data: { values: points },
    layer: seriesLayers(x, { field: 'score', title: metric }, points.map((p) => p.method),
      { tooltip: [{ field: 'method' }, { field: 'lr', format: '.0e' }, { field: 'score', format: '.3f' }] }),
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
      color: { field: 'task', type: 'nominal', title: 'task', legend: legendFor(new Set(points.map((p) => p.task)).size) },
      tooltip: [{ field: 'method' }, { field: 'task' }, { field: 'rate', format: '.1%' }],
    },
  } as Spec;
}

/** Primary metric vs trainable parameters (log x), frontier joined by a line, frozen baseline as a rule. */
const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

export function pareto(
  metric: string,
  points: { method: string; family: string; config: string; trainable: number; mean: number; lo: number; hi: number; frontier: boolean }[],
  frozenScore: number | null,
): Spec {
  // Off the log scale, 0 trainable (frozen) is drawn as the rule. One data set for the points, their error bars
  // and the frontier line (filtered), so the spec stays small enough to inline.
  const shown = points.filter((p) => p.trainable > 0).map(({ family: _family, ...p }) => ({ ...p, lo: round4(p.lo), hi: round4(p.hi), mean: round4(p.mean) }));
  const x = { field: 'trainable', type: 'quantitative', scale: { type: 'log' }, title: 'trainable parameters (log)', axis: { format: '~s', values: decades(shown.map((p) => p.trainable)) } };
  const color = methodColor(shown.map((p) => p.method));
  const layers: unknown[] = [
    {
      data: { values: shown },
      layer: [
        {
          transform: [{ filter: 'datum.frontier' }],
          mark: { type: 'line', interpolate: 'step-after', color: '#888', strokeDash: [4, 3] },
          encoding: { x: { field: 'trainable', type: 'quantitative', sort: 'ascending' }, y: { field: 'mean', type: 'quantitative' } },
        },
        {
          // 95% interval of each configuration's mean (paired bootstrap, or over seed means).
          mark: { type: 'rule', opacity: 0.5 },
          encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
        },
        {
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x,
            y: { field: 'mean', type: 'quantitative', title: metric, scale: { zero: false } },
            color,
            shape: methodShape(shown.map((p) => p.method)),
            // off-frontier configurations are drawn faint: the frontier is what the dashed line joins
            opacity: { field: 'frontier', type: 'nominal', title: 'on the frontier', scale: { domain: [true, false], range: [1, 0.35] } },
            tooltip: [{ field: 'method' }, { field: 'config' }, { field: 'trainable', format: ',' }, { field: 'mean', format: '.3f' }, { field: 'lo', title: '95% from', format: '.3f' }, { field: 'hi', title: 'to', format: '.3f' }],
          },
        },
      ],
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

/**
 * Mean vs rank (log2 x) per method with its 95% interval as error bars, with the none/full baselines as labelled rules. `xTitle` says what
 * "rank" is for the methods drawn (r, bottleneck size, virtual tokens): one line per meaning.
 */
export function rankCurve(
  metric: string,
  points: { method: string; rank: number; mean: number; lo: number; hi: number; n: number }[],
  baselines: { method: string; mean: number }[],
  xTitle: string | string[] = 'rank (log2)',
): Spec {
  const x = { field: 'rank', type: 'quantitative', scale: { type: 'log', base: 2 }, title: xTitle, axis: { values: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] } };
  const layers: unknown[] = [
    {
      data: { values: points },
      layer: seriesLayers(x, { field: 'mean', title: metric }, points.map((p) => p.method), {
        errorBars: true,
        tooltip: [{ field: 'method' }, { field: 'rank' }, { field: 'mean', format: '.3f' }, { field: 'n', title: 'seeds' }],
      }),
    },
  ];
  if (baselines.length) {
    layers.push({
      data: { values: baselines.map((b) => ({ ...b, label: b.method === 'none' ? 'frozen' : b.method })) },
      layer: [
        { mark: { type: 'rule', strokeDash: [3, 3], color: '#777' }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
        { mark: { type: 'text', align: 'right', dy: -6, color: '#555', x: 'width' }, encoding: { y: { field: 'mean', type: 'quantitative' }, text: { field: 'label' } } },
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
  // Coloured by method (its fixed colour), one bar per method and rank side by side in each module's group:
  // dozens of method-rank colours could not be told apart; the tooltip names the rank.
  const values = points.map((p) => ({ ...p, method: p.rank.split(' ')[0] }));
  return {
    ...base,
    width: 420,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'module', type: 'nominal', title: null, axis: { labelAngle: -30 } },
      xOffset: { field: 'rank', sort: order },
      y: { field: 'value', type: 'quantitative', title: 'amplification factor' },
      color: methodColor(values.map((p) => p.method)),
      tooltip: [{ field: 'module' }, { field: 'rank', title: 'method, rank' }, { field: 'value', format: '.2f' }],
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

/** Score vs n tuned weights (log2 x): the layernorm study's outlier weights against random ones. */
export function nCurve(metric: string, points: { method: string; n: number; mean: number; lo: number; hi: number }[]): Spec {
  const x = { field: 'n', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'n tuned weights per norm layer (log2)', axis: { values: [4, 16, 64, 256, 1024] } };
  return {
    ...base,
    data: { values: points },
    layer: seriesLayers(x, { field: 'mean', title: metric }, points.map((p) => p.method),
      { errorBars: true, tooltip: [{ field: 'method' }, { field: 'n' }, { field: 'mean', format: '.3f' }] }),
  } as Spec;
}

/**
 * A method's own scores against its rank or learning rate, one line per task (tasks have different metrics,
 * so each task's scores are drawn as they are; the y title names them).
 */
export function methodScores(
  points: { task: string; x: number; mean: number; lo: number; hi: number; n: number; config: string }[],
  xTitle: string, log2: boolean,
): Spec {
  const xs = points.map((p) => p.x);
  const x = log2
    ? { field: 'x', type: 'quantitative', scale: { type: 'log', base: 2 }, title: xTitle, axis: { values: [...new Set(xs)].sort((a, b) => a - b) } }
    : { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: xTitle, axis: { format: '.0e', values: decades(xs) } };
  const tasks = [...new Set(points.map((p) => p.task))];
  const yEnc = { field: 'mean', type: 'quantitative', title: 'test score (each task\'s metric)', scale: { zero: false } };
  const color = { field: 'task', type: 'nominal', title: 'task', scale: { domain: tasks, range: tasks.map((_, i) => PALETTE[i % PALETTE.length]) } };
  const shape = { field: 'task', type: 'nominal', title: 'task', scale: { domain: tasks, range: tasks.map((_, i) => SHAPES[i % SHAPES.length]) } };
  return {
    ...base,
    width: 440,
    data: { values: points },
    layer: [
      { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { ...yEnc, field: 'lo' }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y: yEnc, color, detail: { field: 'task', type: 'nominal' } } },
      { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { x, y: yEnc, color, shape, tooltip: [{ field: 'task' }, { field: 'config', title: 'configuration' }, { field: 'mean', format: '.3f' }, { field: 'n', title: 'seeds' }] } },
    ],
  } as Spec;
}

/**
 * Lines over training steps, one per series, with integer step ticks. A series with a single point (a run
 * validated once) is drawn as a labelled point, since a one-point line shows nothing.
 */
export function stepCurves(
  points: { series: string; step: number; value: number }[], yTitle: string,
  /** Read the points from a JSON file instead of inlining them (a run's record: its curves), one series per property. */
  from?: { url: string; series: { name: string; property: string }[] },
): Spec {
  const steps = [...new Set(points.map((p) => p.step))];
  const single = steps.length === 1;
  const x = { field: 'step', type: 'quantitative', title: 'training step', axis: { format: 'd', tickMinStep: 1, ...(single ? { values: steps } : {}) }, scale: single ? { domain: [0, steps[0] * 1.1 || 1] } : { nice: false } };
  const y = { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false }, axis: { format: '.3~f' } };
  const names = from ? from.series.map((f) => f.name) : [...new Set(points.map((p) => p.series))];
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: PALETTE.slice(0, names.length) } };
  const tooltip = [{ field: 'series' }, { field: 'step' }, { field: 'value', format: '.4f' }];
  const marks = single
    ? [
        { mark: { type: 'point', filled: true, size: 80 }, encoding: { x, y, color, tooltip } },
        { mark: { type: 'text', align: 'right', dx: -8, fontSize: 11 }, encoding: { x, y, text: { field: 'value', format: '.4f' }, color } },
      ]
    : [
        { mark: { type: 'line', strokeWidth: steps.length > 60 ? 1.2 : 2 }, encoding: { x, y, color } },
        // past 60 steps the markers would hide the line: kept invisible, for the tooltips
        { mark: { type: 'point', filled: true, size: 20, opacity: steps.length > 60 ? 0 : 1 }, encoding: { x, y, color, tooltip } },
      ];
  if (!from) return { ...base, width: 440, data: { values: points }, layer: marks } as Spec;
  return {
    ...base,
    width: 440,
    layer: from.series.map((f) => ({
      // a query per series: Vega-Lite would otherwise merge the two sources of one URL into one
      data: { url: `${from.url}?${encodeURIComponent(f.property)}`, format: { type: 'json', property: f.property } },
      transform: [{ calculate: JSON.stringify(f.name), as: 'series' }],
      layer: marks,
    })),
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
      color: { field: 'module', type: 'nominal', title: 'module', legend: legendFor(new Set(points.map((p) => p.module)).size) },
    },
  } as Spec;
}
