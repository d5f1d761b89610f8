// The Runs page's search, filters, sort and pages, as pure functions over data/runs.json rows. The state lives
// in the URL (q, scope, method, task, rank, seed, status, sort, dir, page), so every view has a permalink.

export interface RunRow {
  runId: string;
  /** Its protocol and base model, 'converge/base': runs of every scope are listed. */
  scope: string;
  status: string;
  reason: string | null;
  method: string;
  task: string;
  seed: number;
  rank: number | null;
  lr: number;
  configLabel: string;
  primary: number | null;
  trainSeconds: number;
}

export const FILTERS = ['scope', 'method', 'task', 'rank', 'seed', 'status'] as const;
export type FilterKey = (typeof FILTERS)[number];
export const SORTABLE = ['runId', 'scope', 'status', 'method', 'configLabel', 'task', 'seed', 'lr', 'primary', 'trainSeconds'] as const;
export const PAGE_SIZE = 50;

export interface RunsState {
  q: string;
  filters: Partial<Record<FilterKey, string>>;
  sort: string;
  dir: 'asc' | 'desc';
  page: number;
}

export function fromRows(data: { columns: string[]; rows: unknown[][] }): RunRow[] {
  return data.rows.map((r) => Object.fromEntries(data.columns.map((c, i) => [c, r[i]])) as unknown as RunRow);
}

export function stateFromSearch(search: string): RunsState {
  const q = new URLSearchParams(search);
  const filters: RunsState['filters'] = {};
  for (const f of FILTERS) if (q.get(f)) filters[f] = q.get(f)!;
  const sort = q.get('sort') ?? '';
  return {
    q: q.get('q') ?? '',
    filters,
    sort: (SORTABLE as readonly string[]).includes(sort) ? sort : '',
    dir: q.get('dir') === 'desc' ? 'desc' : 'asc',
    page: Math.max(1, Math.floor(Number(q.get('page')) || 1)),
  };
}

export function searchFromState(s: RunsState): string {
  const q = new URLSearchParams();
  if (s.q) q.set('q', s.q);
  for (const f of FILTERS) if (s.filters[f]) q.set(f, s.filters[f]!);
  if (s.sort) { q.set('sort', s.sort); q.set('dir', s.dir); }
  if (s.page > 1) q.set('page', String(s.page));
  const text = q.toString();
  return text ? `?${text}` : '';
}

const cellText = (r: RunRow, f: FilterKey) => (r[f] === null ? '—' : String(r[f]));

/** Runs matching the state, sorted; every word of the search must appear in the run's id, method, task, configuration, status or reason. */
export function select(rows: RunRow[], s: RunsState): RunRow[] {
  const words = s.q.toLowerCase().split(/\s+/).filter(Boolean);
  const out = rows.filter((r) => {
    for (const f of FILTERS) if (s.filters[f] !== undefined && cellText(r, f) !== s.filters[f]) return false;
    if (words.length === 0) return true;
    const hay = `${r.runId} ${r.method} ${r.task} ${r.configLabel} ${r.status} ${r.reason ?? ''} seed=${r.seed}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  if (s.sort) {
    const k = s.sort as keyof RunRow;
    out.sort((a, b) => {
      const x = a[k];
      const y = b[k];
      if (x === null && y === null) return 0;
      if (x === null) return 1; // missing values always last
      if (y === null) return -1;
      const c = x < y ? -1 : x > y ? 1 : 0;
      return s.dir === 'asc' ? c : -c;
    });
  }
  return out;
}

/** Distinct values of a filter column, in a sensible order (numbers ascending). */
export function optionsOf(rows: RunRow[], f: FilterKey): string[] {
  const values = [...new Set(rows.map((r) => cellText(r, f)))];
  return values.sort((a, b) => (Number.isFinite(Number(a)) && Number.isFinite(Number(b)) ? Number(a) - Number(b) : a.localeCompare(b)));
}
