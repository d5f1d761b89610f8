// The site's only data source: run records in results/ (repo root), read and aggregated once per build.
// PEFT_BENCH_RESULTS overrides the directory (the tests point it at fixtures). Bad files are printed with
// their path and reason and skipped, never fatal.
// Records of different protocols or base models are never pooled: each scope (protocol x model) is
// aggregated on its own. The default scope (aggregate.ts defaultScope: the converge protocol on the default
// model whenever it has records) is shown at the site's plain URLs, every other one under
// scope/<protocol>/<model>/ (see paths.ts).
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readRecords } from '@peft-bench/results/record/read';
import { aggregate, defaultScope, scopesOf, type Aggregated } from '@peft-bench/results/aggregate/index';
import type { AggregateOf } from '@peft-bench/results/studies';
import { defaultScopeIds } from '@peft-bench/results/methods';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { setMethodOrder } from './charts.ts';
import { shortenLabels } from './labels.ts';
import type { RunRow } from './runs-view.ts';

/** One protocol on one base model, aggregated. */
export interface ScopeView {
  protocol: string;
  model: string;
  modelHash: string;
  runs: number;
  isDefault: boolean;
  /** 'converge/base' ('<protocol>/<model>-<hash>' for a second checkpoint of one model id): how Runs names it. */
  slug: string;
  /** Where its pages live: '' for the default scope, else 'scope/<protocol>/<model>/'. */
  prefix: string;
  /** A fragment id naming it on single pages (a method's page): 'scope-converge-base'. */
  anchor: string;
  agg: Aggregated;
}

export interface SiteData {
  resultsDir: string;
  records: RunRecord[];
  /** The default scope's aggregate. */
  agg: Aggregated;
  /** Every scope, the default first, then by run count. */
  scopes: ScopeView[];
  defaultScope: ScopeView;
  /** The scope each record belongs to, by run id. */
  scopeOfRun: Map<string, ScopeView>;
  /** Every run of every scope, as the Runs page lists them (the default scope's first). */
  runRows: RunRow[];
  /** Another scope's aggregate (its largest checkpoint), for studies comparing two scopes; null when the records hold none. */
  aggregateOf: AggregateOf;
}

function repoRoot(): string {
  let dir = process.cwd();
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

function resultsDir(): string {
  const override = process.env.PEFT_BENCH_RESULTS;
  if (override) {
    // Relative to where the command was typed (pnpm runs scripts inside site/ but keeps INIT_CWD).
    return isAbsolute(override) ? override : resolve(process.env.INIT_CWD ?? process.cwd(), override);
  }
  return join(repoRoot(), 'results');
}

let cached: Promise<SiteData> | null = null;

export function loadSiteData(): Promise<SiteData> {
  cached ??= (async () => {
    const dir = resultsDir();
    const { records, problems } = await readRecords(dir);
    console.log(`[peft-bench] ${records.length} run records from ${dir}`);
    for (const p of problems) console.warn(`[peft-bench] skipped ${p.path}: ${p.message}`);
    const first = defaultScope(records);
    const all = scopesOf(records);
    const ordered = first ? [...all.filter((s) => same(s, first)), ...all.filter((s) => !same(s, first))] : [];
    // Several checkpoints of one model id under one protocol: the largest keeps the plain name.
    const taken = new Set<string>();
    const scopes: ScopeView[] = ordered.map((s, i) => {
      let slug = `${s.protocol}/${s.model}`;
      if (taken.has(slug)) slug = `${slug}-${s.modelHash.slice(0, 8)}`;
      taken.add(slug);
      const agg = shortenLabels(aggregate(records, problems, s));
      console.log(`[peft-bench] scope ${s.protocol} on ${s.model}: ${agg.recordCount} runs${i === 0 ? ' (default)' : ''}`);
      return { ...s, slug, isDefault: i === 0, prefix: i === 0 ? '' : `scope/${slug}/`, anchor: `scope-${slug.replace(/\//g, '-')}`, agg };
    });
    if (scopes.length === 0) {
      const ids = defaultScopeIds();
      scopes.push({ ...ids, slug: `${ids.protocol}/${ids.model}`, modelHash: '', runs: 0, isDefault: true, prefix: '', anchor: `scope-${ids.protocol}-${ids.model}`, agg: shortenLabels(aggregate(records, problems)) });
    }
    // Colours follow one method order on every page of every scope: the default scope's, then the others'.
    setMethodOrder([...new Set(scopes.flatMap((s) => s.agg.methods.map((m) => m.id)))]);
    const scopeOfRun = new Map(scopes.flatMap((s) => s.agg.runs.map((r) => [r.runId, s] as const)));
    const runRows = scopes.flatMap((s) => s.agg.runs.map((r) => ({ ...r, scope: s.slug })));
    // Scopes are ordered by run count after the default: the first of a protocol and model is its largest checkpoint.
    const aggregateOf: AggregateOf = ({ protocol, model }) => scopes.find((s) => s.runs > 0 && s.protocol === protocol && s.model === model)?.agg ?? null;
    return { resultsDir: dir, records, agg: scopes[0]!.agg, scopes, defaultScope: scopes[0]!, scopeOfRun, runRows, aggregateOf };
  })();
  return cached;
}

const same = (a: { protocol: string; model: string; modelHash: string }, b: { protocol: string; model: string; modelHash: string }) =>
  a.protocol === b.protocol && a.model === b.model && a.modelHash === b.modelHash;

/** The scope a page belongs to, from its path: under scope/<protocol>/<model>/ that one, else the default. */
export async function scopeOfPage(pathname: string): Promise<ScopeView> {
  const { scopes, defaultScope } = await loadSiteData();
  const m = /^\/?scope\/([^/]+)\/([^/]+)\//.exec(pathname);
  return (m && scopes.find((s) => s.prefix === `scope/${m[1]}/${m[2]}/`)) || defaultScope;
}
