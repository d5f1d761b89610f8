// Expected values computed straight from the fixture files (read by the record reader), independently of the
// aggregation code.
import { readdirSync } from 'node:fs';
import { loadRecordFile } from '@peft-bench/results/record/store';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'results');

export interface FixtureRecord {
  run_id: string;
  status: 'ok' | 'diverged' | 'failed';
  reason: string | null;
  method: { id: string; family: string; config: Record<string, unknown>; rank: number | null };
  task: { id: string; family: string; primary_metric: string };
  seed: number;
  training: Record<string, unknown> & { lr: number };
  metrics: { primary: number | null; valid: Record<string, number> };
  params: { trainable: number };
  analysis: Record<string, unknown> | null;
  samples?: { id: string; prompt: string; target: string; prediction: string }[];
}

/** Every fixture file that is a run record, of every scope (the corrupt and foreign files are left out). */
export function allFixtureRecords(): (FixtureRecord & { protocol?: string; model: { id: string } })[] {
  const out: (FixtureRecord & { protocol?: string; model: { id: string } })[] = [];
  for (const name of readdirSync(FIXTURE_DIR).filter((n) => n.endsWith('.json'))) {
    // The corrupt and foreign fixtures fail to load and are left out.
    const loaded = loadRecordFile(join(FIXTURE_DIR, name));
    if (loaded.ok) out.push(loaded.record as unknown as FixtureRecord & { protocol?: string; model: { id: string } });
  }
  return out;
}

/** The records of one scope; by default the converge protocol on base, which the site shows at its plain URLs. */
export function fixtureRecords(scope: { protocol: string; model: string } = { protocol: 'converge', model: 'base' }): FixtureRecord[] {
  // The reader labels records that state no protocol fixed-300, and their model `default` naive.
  return allFixtureRecords().filter((r) => (r.protocol ?? 'fixed-300') === scope.protocol && (r.model.id === 'default' && !r.protocol ? 'naive' : r.model.id) === scope.model);
}

export interface Expected {
  mean: number;
  std: number;
  /** half the width of the 95% t interval over seeds (0 with one seed) */
  half: number;
  n: number;
  trainable: number;
  /** configurations searched */
  k: number;
}

/** Student's t, 97.5% quantile, for 1..4 degrees of freedom (the fixtures have at most 5 seeds). */
const T975 = [12.706, 4.303, 3.182, 2.776];

/**
 * A run's configuration without its seed. A `run:<id>` value (another run's adapter, on the same task and
 * seed) stands for that run's own configuration, so the seeds of one configuration share a key.
 */
export function configKey(r: FixtureRecord, byId: Map<string, FixtureRecord>): string {
  const config = Object.fromEntries(Object.entries(r.method.config).map(([k, v]) => {
    const ref = typeof v === 'string' && v.startsWith('run:') ? byId.get(v.slice(4)) : undefined;
    return [k, ref ? configKey(ref, byId) : v];
  }));
  return JSON.stringify([r.method.id, r.task.id, config, r.training]);
}

/**
 * The configuration each method is shown with, per task: among those with the most seeds, the one with the
 * best mean on the validation split (ties here to fewer parameters; the site breaks them by
 * configuration key, as the report does), among trained configurations (post-hoc ones, 0 steps, are left out for every
 * method but the references, unless `derived`); its test mean, std and 95% interval; and how many configurations were searched.
 * Every fixture metric is higher-is-better.
 */
export function expectedBest(records: FixtureRecord[], maxTrainable = Infinity, { derived = false } = {}): Map<string, Expected> {
  const byId = new Map(records.map((r) => [r.run_id, r]));
  const groups = new Map<string, { values: number[]; valid: number[]; trainable: number }>();
  for (const r of records) {
    if (r.status !== 'ok' || r.metrics.primary === null || r.params.trainable > maxTrainable) continue;
    if (!derived && r.training.steps === 0 && !['none', 'full'].includes(r.method.id)) continue;
    const v = r.metrics.valid[r.task.primary_metric];
    if (typeof v !== 'number') continue;
    const key = configKey(r, byId);
    const g = groups.get(key) ?? { values: [], valid: [], trainable: r.params.trainable };
    g.values.push(r.metrics.primary);
    g.valid.push(v);
    groups.set(key, g);
  }
  const best = new Map<string, Expected & { validMean: number }>();
  const searched = new Map<string, number>();
  for (const [key, g] of groups) {
    const [method, task] = JSON.parse(key) as [string, string];
    const n = g.values.length;
    const mean = g.values.reduce((a, b) => a + b, 0) / n;
    const validMean = g.valid.reduce((a, b) => a + b, 0) / n;
    const std = n > 1 ? Math.sqrt(g.values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
    const half = n > 1 ? (T975[n - 2]! * std) / Math.sqrt(n) : 0;
    const k = `${method}/${task}`;
    searched.set(k, (searched.get(k) ?? 0) + 1);
    const current = best.get(k);
    // The most seeds first, then the best valid mean, then fewer parameters (the site: configuration key; the tests pass under either).
    if (!current || n > current.n || (n === current.n && (validMean > current.validMean || (validMean === current.validMean && g.trainable < current.trainable)))) {
      best.set(k, { mean, std, half, n, trainable: g.trainable, k: 0, validMean });
    }
  }
  for (const [k, e] of best) e.k = searched.get(k)!;
  return best;
}

export const emptyBase = () => `http://127.0.0.1:${process.env.PEFT_SITE_EMPTY_PORT}/`;
