// The questions the benchmark exists to answer (DESIGN.md), one study each (packages/results/studies/):
// `findings` gives sections the site renders on its Questions page, `findingsMarkdown` the same for
// `pnpm bench report`. Numbers only; what they mean is for the reader.
import { aggregate, type Aggregated } from './aggregate.ts';
import type { RecordProblem } from '../record/read.ts';
import type { RunRecord } from '../record/schema.ts';
import { studies, studyContext, studyMethods, type AggregateOf, type FindingsTable, type Study, type StudyChart } from '../../studies/index.ts';

export type { FindingsTable } from '../../studies/define.ts';
export { cell } from '../../studies/define.ts';

export interface FindingsSection {
  /** The study's id: rank, complement, grow, layernorm, stability, pretraining, batch-size, targets, lr. */
  id: string;
  title: string;
  intro?: string;
  tables: FindingsTable[];
  /** Said instead of tables when no run answers the question yet. */
  empty: string;
  /** Where the site charts it. */
  chart?: StudyChart;
  /** The grid (and its blocks) that holds the study's runs, for studies whose runs are a grid file's. */
  grid?: Study['grid'];
}

const int = (v: number) => v.toLocaleString('en-US');

/** What each training protocol means, in a few words (README.md, Training protocol). */
export const PROTOCOL_DESCRIPTIONS: Record<string, string> = {
  converge: 'train to a validation plateau, best checkpoint on valid',
  'fixed-300': '300 fixed steps, final weights',
};

/** "converge (train to a validation plateau, ...) on base, 42 runs": one scope in words. */
export function scopeSentence(scope: { protocol: string; model: string; runs: number }): string {
  const about = PROTOCOL_DESCRIPTIONS[scope.protocol];
  return `${scope.protocol}${about ? ` (${about})` : ''} on ${scope.model}, ${int(scope.runs)} run${scope.runs === 1 ? '' : 's'}`;
}

/** The scopes of the records other than the aggregated one, largest first. */
export function otherScopes(agg: Pick<Aggregated, 'scope' | 'scopes'>): Aggregated['scopes'] {
  const s = agg.scope;
  return agg.scopes.filter((o) => !s || o.protocol !== s.protocol || o.model !== s.model || o.modelHash !== s.modelHash);
}

/** The report's head: which protocol and model every number is about, and the scopes left out with their run counts. */
export function scopeMarkdown(agg: Aggregated): string {
  if (!agg.scope) return '# PEFT Bench report\n\nNo run records.\n';
  const others = otherScopes(agg);
  return [
    `# PEFT Bench report: ${agg.scope.protocol} on ${agg.scope.model}`,
    '',
    `Protocol: ${scopeSentence({ ...agg.scope, runs: agg.recordCount })}.`,
    others.length > 0
      ? `Other scopes in the records, not pooled with these (\`--protocol\`, \`--model\`): ${others.map((o) => `${o.protocol} on ${o.model} (${int(o.runs)} runs)`).join(', ')}.`
      : 'No other scopes in the records.',
    '',
  ].join('\n');
}

/** One line on where the numbers come from: records, seeds, backend, hardware, model, compute. */
export function findingsProvenance(agg: Aggregated): string {
  const p = agg.provenance;
  const counts = { ok: 0, diverged: 0, failed: 0 };
  for (const r of agg.runs) counts[r.status] += 1;
  const seeds = [...new Set(agg.runs.map((r) => r.seed))].sort((a, b) => a - b);
  return `${int(agg.recordCount)} run records (${counts.ok} ok, ${counts.diverged} diverged, ${counts.failed} failed), seeds ${seeds.join(', ') || '—'}; `
    + `backend ${p.backends.map((b) => `${b.name} (${b.runs} runs)`).join(', ') || '—'}; ${p.cpus.join(', ') || '—'}${p.gpus.length ? `, ${p.gpus.join(', ')}` : ''}; `
    + `base model ${p.models.map((m) => `${m.id} (${int(m.params)} parameters)`).join(', ') || '—'}; `
    + `${(p.totalTrainSeconds / 3600).toFixed(1)} h of training and ${(p.totalEvalSeconds / 3600).toFixed(1)} h of evaluation.`;
}

export const FINDINGS_CELLS = 'Cells: mean ± sample standard deviation over seeds (number of seeds) of the primary metric on the test split.';

/**
 * Every scope's aggregate on demand, each aggregated once (`agg`, already aggregated, answers for its
 * own scope): the lookup a study comparing two scopes reads the other through.
 */
export function aggregateLookup(records: readonly RunRecord[], problems: RecordProblem[] = [], agg?: Aggregated): AggregateOf {
  const cache = new Map<string, Aggregated | null>();
  return ({ protocol, model }) => {
    if (agg?.scope && agg.scope.protocol === protocol && agg.scope.model === model) return agg;
    const key = `${protocol}\u0000${model}`;
    if (!cache.has(key)) {
      const other = aggregate(records, problems, { protocol, model });
      cache.set(key, other.scope ? other : null);
    }
    return cache.get(key)!;
  };
}

/** The command that runs a study's runs: its grid, or only the blocks of it that hold them. */
export function gridCommand(grid: NonNullable<Study['grid']>): string {
  return `pnpm bench --grid ${grid.name}${grid.experiments?.length ? ` --experiments ${grid.experiments.join(',')}` : ''}`;
}

/**
 * One section per study (packages/results/studies/), in question order. `aggregateOf` gives other
 * scopes' aggregates (aggregateLookup); without it a study sees only `agg`'s scope.
 */
export function findings(agg: Aggregated, aggregateOf?: AggregateOf): FindingsSection[] {
  const ctx = studyContext(agg, studyMethods(), aggregateOf);
  return studies().map((s) => ({ id: s.id, title: s.title, intro: s.intro, tables: s.tables(ctx), empty: s.empty, chart: s.chart, grid: s.grid }));
}

function markdownTable(t: FindingsTable): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(t.headers), line(t.headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...t.rows.map(line)].join('\n');
}

/** The findings as one Markdown document (`pnpm bench report`); `aggregateOf` as for `findings`. */
export function findingsMarkdown(agg: Aggregated, aggregateOf?: AggregateOf): string {
  const scope = agg.scope ? `Protocol ${agg.scope.protocol} on model ${agg.scope.model}; records of other protocols or models are not pooled with these.` : '';
  const out = ['# What the results say', '', findingsProvenance(agg), '', scope, '', FINDINGS_CELLS, ''];
  for (const section of findings(agg, aggregateOf)) {
    out.push(`## ${section.title}`, '');
    if (section.intro) out.push(section.intro, '');
    if (section.grid) {
      out.push(`Its runs: \`${gridCommand(section.grid)}\`.`, '');
    }
    if (section.tables.length === 0) out.push(section.empty, '');
    for (const t of section.tables) {
      if (t.title) out.push(`### ${t.title}`, '');
      out.push(markdownTable(t), '');
      if (t.note) out.push(t.note, '');
    }
  }
  const convergence = convergenceTable(agg);
  if (convergence) out.push('## Convergence', '', markdownTable(convergence), '', convergence.note ?? '', '');
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * Steps to the best checkpoint on valid of each method's chosen configuration, per task (records that
 * stop early record it; null for fixed-step records, so no table then).
 */
export function convergenceTable(agg: Aggregated): FindingsTable | null {
  const rows = agg.methodTask.filter((r) => r.bestStepsToBest !== null);
  if (rows.length === 0) return null;
  const tasks = agg.tasks.filter((t) => rows.some((r) => r.task === t.id));
  const methods = [...new Set(rows.map((r) => r.method))].sort();
  const group = (method: string, task: string) => {
    const row = rows.find((r) => r.method === method && r.task === task);
    return row ? agg.groups.find((g) => g.method === method && g.task === task && g.configKey === row.bestConfigKey) : undefined;
  };
  const steps = (value: number | null) => (value !== null && Number.isFinite(value) ? value.toFixed(0) : '—');
  return {
    headers: ['method', ...tasks.map((t) => t.id)],
    rows: methods.map((method) => [method, ...tasks.map((t) => {
      const c = group(method, t.id)?.convergence;
      if (!c) return '—';
      const stopped = Object.entries(c.stopped).map(([why, n]) => `${why} ${n}`).join(', ');
      return `${steps(c.stepsToBest.mean)} of ${steps(c.stepsTaken.mean)} (${stopped})`;
    })]),
    note: 'Cells: mean steps to the best checkpoint on valid of the configuration chosen on valid, of the mean steps taken (how its runs stopped).',
  };
}
