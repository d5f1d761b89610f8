// The leaderboard's view logic, shared by the build (first render, works without JavaScript) and the browser
// (filters, sorting, budget, all kept in the URL). Pure functions over plain data: no DOM here.

/** One configuration of a method on a task: what a cell can show. */
export interface Cand {
  /** configuration label: the hyperparameters that vary for this method */
  l: string;
  /** trainable parameters */
  p: number;
  /** mean over seeds */
  m: number;
  /** std over seeds */
  s: number;
  /** seeds */
  n: number;
  /**
   * 95% interval shown and used for ties: a paired bootstrap over test examples and seeds (b = 1) where the
   * records carry per-example scores, else a t interval over seed means (b = 0; the mean itself with one seed)
   */
  lo: number;
  hi: number;
  b: 0 | 1;
}

export interface BoardRow {
  method: string;
  title: string;
  family: string;
  /** reference rows (frozen base, full fine-tuning): pinned on top, not ranked */
  ref: boolean;
  /** per task: the configurations chosen on the validation split under some parameter budget, chosen first */
  cells: Record<string, Cand[]>;
  /** per task: the trainable counts of every configuration searched (how many a budget leaves to choose from) */
  searched: Record<string, number[]>;
  /** per task: the configuration at the method's documented defaults (default rank, lr factor 1), if it was run */
  defaults: Record<string, Cand | null>;
  ok: number;
  runs: number;
}

export interface BoardTask {
  id: string;
  family: 'simple' | 'reasoning';
  direction: 'higher' | 'lower';
}

export interface BoardState {
  /** task columns shown (empty: all) */
  tasks: string[];
  /** column sorted by: overall, method, family, trainable, runs or a task id */
  sort: string;
  /** null: the column's natural order (best first) */
  dir: 'asc' | 'desc' | null;
  budget: number | null;
  family: string;
  /** 'tuned': the configuration chosen on valid; 'defaults': each method at its documented defaults, no search */
  mode: 'tuned' | 'defaults';
}

export const DEFAULT_STATE: BoardState = { tasks: [], sort: 'overall', dir: null, budget: null, family: '', mode: 'tuned' };

export interface CellView {
  c: Cand | null;
  /** configurations searched within the budget */
  k: number;
  best: boolean;
  tied: boolean;
  rank: number | null;
}

export interface RowView {
  row: BoardRow;
  cells: Record<string, CellView>;
  /** mean rank over the shown tasks the method has a score on */
  overall: number | null;
  /** how many shown tasks that mean is over */
  overallTasks: number;
  trainable: [number, number] | null;
  hidden: boolean;
}

export interface BoardView {
  shownTasks: BoardTask[];
  /** reference rows first (in input order), then the others in the sorted order */
  rows: RowView[];
  sort: string;
  dir: 'asc' | 'desc';
}

/** Only configurations chosen within some budget: each must train fewer parameters than every one chosen before it. */
export function paretoCandidates(sortedBestFirst: Cand[]): Cand[] {
  const out: Cand[] = [];
  for (const c of sortedBestFirst) if (out.length === 0 || c.p < out[out.length - 1].p) out.push(c);
  return out;
}

/** The configuration chosen within the budget (candidates are in the order of choice: best on valid first). */
export const pick = (cands: Cand[], budget: number | null): Cand | null =>
  cands.find((c) => budget === null || c.p <= budget) ?? null;

/** Natural order of a column: best first for tasks, smallest mean rank first, names A-Z, fewer parameters first. */
export function naturalDir(sort: string, tasks: BoardTask[]): 'asc' | 'desc' {
  const t = tasks.find((x) => x.id === sort);
  if (t) return t.direction === 'higher' ? 'desc' : 'asc';
  return sort === 'runs' ? 'desc' : 'asc';
}

export function shownTasks(tasks: BoardTask[], state: BoardState): BoardTask[] {
  if (state.tasks.length === 0) return tasks;
  // The sorted-by column stays visible, so the order on screen always has its reason on screen.
  return tasks.filter((t) => state.tasks.includes(t.id) || t.id === state.sort);
}

export function view(rows: BoardRow[], tasks: BoardTask[], state: BoardState): BoardView {
  const shown = shownTasks(tasks, state);
  const views: RowView[] = rows.map((row) => {
    const cells: Record<string, CellView> = {};
    for (const t of tasks) {
      const budget = row.ref ? null : state.budget;
      if (state.mode === 'defaults') {
        const d = row.defaults[t.id] ?? null;
        const c = d && (budget === null || d.p <= budget) ? d : null;
        cells[t.id] = { c, k: c ? 1 : 0, best: false, tied: false, rank: null };
        continue;
      }
      const k = (row.searched[t.id] ?? []).filter((p) => budget === null || p <= budget).length;
      cells[t.id] = { c: pick(row.cells[t.id] ?? [], budget), k, best: false, tied: false, rank: null };
    }
    return { row, cells, overall: null, overallTasks: 0, trainable: null, hidden: false };
  });
  const competitors = views.filter((v) => !v.row.ref);
  for (const t of tasks) {
    const scored = competitors.filter((v) => v.cells[t.id].c !== null);
    if (scored.length === 0) continue;
    // Rank 1 is best; equal means share the average of their places.
    const sorted = [...scored].sort((a, b) => (t.direction === 'higher' ? b.cells[t.id].c!.m - a.cells[t.id].c!.m : a.cells[t.id].c!.m - b.cells[t.id].c!.m));
    for (let i = 0; i < sorted.length;) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1].cells[t.id].c!.m === sorted[i].cells[t.id].c!.m) j++;
      for (let k = i; k <= j; k++) sorted[k].cells[t.id].rank = (i + j) / 2 + 1;
      i = j + 1;
    }
    const best = sorted[0].cells[t.id].c!;
    for (const v of scored) {
      const cell = v.cells[t.id];
      const c = cell.c!;
      cell.best = c.m === best.m;
      // Tied: the intervals overlap with the best one's.
      cell.tied = !cell.best && (t.direction === 'higher' ? c.hi >= best.lo : c.lo <= best.hi);
    }
  }
  for (const v of views) {
    const ranks = shown.map((t) => v.cells[t.id].rank).filter((r): r is number => r !== null);
    v.overall = ranks.length ? ranks.reduce((a, b) => a + b, 0) / ranks.length : null;
    v.overallTasks = ranks.length;
    const ps = shown.map((t) => v.cells[t.id].c?.p).filter((p): p is number => p !== undefined);
    v.trainable = ps.length ? [Math.min(...ps), Math.max(...ps)] : null;
    const anyScore = shown.some((t) => v.cells[t.id].c !== null);
    v.hidden = !v.row.ref && (!anyScore || (state.family !== '' && v.row.family !== state.family));
  }
  const dir = state.dir ?? naturalDir(state.sort, tasks);
  const key = (v: RowView): number | string | null => {
    switch (state.sort) {
      case 'overall': return v.overall;
      case 'method': return v.row.title.toLowerCase();
      case 'family': return v.row.family;
      case 'trainable': return v.trainable ? v.trainable[1] : null;
      case 'runs': return v.row.ok;
      default: return v.cells[state.sort]?.c?.m ?? null;
    }
  };
  const ordered = [...competitors].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka === null && kb === null) return 0;
    if (ka === null) return 1; // missing values always last
    if (kb === null) return -1;
    const c = ka < kb ? -1 : ka > kb ? 1 : 0;
    return (dir === 'asc' ? c : -c) || (a.overall ?? Infinity) - (b.overall ?? Infinity);
  });
  return { shownTasks: shown, rows: [...views.filter((v) => v.row.ref), ...ordered], sort: state.sort, dir };
}

// URL state: only what differs from the default is written, so the plain page URL is the default view.
export function stateFromSearch(search: string, tasks: BoardTask[]): BoardState {
  const q = new URLSearchParams(search);
  const ids = new Set(tasks.map((t) => t.id));
  const columns = new Set(['overall', 'method', 'family', 'trainable', 'runs', ...ids]);
  const sort = q.get('sort') ?? '';
  const dir = q.get('dir');
  const budget = Number(q.get('budget'));
  return {
    tasks: (q.get('task') ?? '').split(',').filter((t) => ids.has(t)),
    sort: columns.has(sort) ? sort : DEFAULT_STATE.sort,
    dir: dir === 'asc' || dir === 'desc' ? dir : null,
    budget: q.get('budget') && Number.isFinite(budget) && budget > 0 ? budget : null,
    family: q.get('family') ?? '',
    mode: q.get('view') === 'defaults' ? 'defaults' : 'tuned',
  };
}

export function searchFromState(state: BoardState): string {
  const q = new URLSearchParams();
  if (state.tasks.length) q.set('task', state.tasks.join(','));
  if (state.sort !== DEFAULT_STATE.sort) q.set('sort', state.sort);
  if (state.dir) q.set('dir', state.dir);
  if (state.budget !== null) q.set('budget', String(state.budget));
  if (state.family) q.set('family', state.family);
  if (state.mode !== DEFAULT_STATE.mode) q.set('view', state.mode);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function fmtScore(v: number): string {
  return v.toFixed(3);
}

export function fmtCount(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)}B`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}

export const fmtRank = (r: number) => (Number.isInteger(r) ? String(r) : r.toFixed(1));

/** The interval part of a cell. Kept apart from the mean so another interval (e.g. [lo, hi]) can replace it. */
/** Half the width of the 95% interval; nothing with one seed. */
export const fmtInterval = (c: Cand) => (c.n > 1 || c.b ? `± ${fmtScore((c.hi - c.lo) / 2)}` : '');
/** Marks an interval over seed means only (records without per-example scores, so no paired bootstrap). */
export const fmtIntervalKind = (c: Cand) => (c.b || c.n < 2 ? '' : '†');
/** Seeds and configurations searched. */
/** Seeds a configuration of the leaderboard grid runs with: a cell with fewer is marked (class \`few\`). */
export const FULL_SEEDS = 3;
export const fmtCounts = (cell: CellView) => (cell.c ? `n=${cell.c.n} · ${cell.k} cfg` : '');

/** Hover text of a cell: the configuration and its seeds. */
export const cellTitle = (c: Cand) => `${c.l} · ${c.n} seed${c.n === 1 ? '' : 's'} · ${c.p.toLocaleString('en-US')} trainable · 95% interval ${fmtScore(c.lo)}–${fmtScore(c.hi)} (${c.b ? 'paired bootstrap over test examples and seeds' : 'over seed means only'}) · sd ${fmtScore(c.s)}`;
