// Expected values computed straight from the fixture files, independently of the aggregation code.
import { readdirSync, readFileSync } from 'node:fs';
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
  metrics: { primary: number | null };
  params: { trainable: number };
  analysis: Record<string, unknown> | null;
  samples?: { id: string; prompt: string; target: string; prediction: string }[];
}

/** Every fixture file that is a run record (the corrupt and foreign files are left out). */
export function fixtureRecords(): FixtureRecord[] {
  const out: FixtureRecord[] = [];
  for (const name of readdirSync(FIXTURE_DIR).filter((n) => n.endsWith('.json'))) {
    try {
      const value = JSON.parse(readFileSync(join(FIXTURE_DIR, name), 'utf8'));
      if (typeof value.schema_version === 'number') out.push(value);
    } catch {
      // the corrupt fixture
    }
  }
  return out;
}

export interface Expected {
  mean: number;
  std: number;
  n: number;
  trainable: number;
}

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

/** Best configuration (highest mean; every fixture metric is higher-is-better) per method and task. */
export function expectedBest(records: FixtureRecord[], maxTrainable = Infinity): Map<string, Expected> {
  const byId = new Map(records.map((r) => [r.run_id, r]));
  const groups = new Map<string, { values: number[]; trainable: number }>();
  for (const r of records) {
    if (r.status !== 'ok' || r.metrics.primary === null || r.params.trainable > maxTrainable) continue;
    const key = configKey(r, byId);
    const g = groups.get(key) ?? { values: [], trainable: r.params.trainable };
    g.values.push(r.metrics.primary);
    groups.set(key, g);
  }
  const best = new Map<string, Expected>();
  for (const [key, g] of groups) {
    const [method, task] = JSON.parse(key) as [string, string];
    const n = g.values.length;
    const mean = g.values.reduce((a, b) => a + b, 0) / n;
    const std = n > 1 ? Math.sqrt(g.values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
    const k = `${method}/${task}`;
    const current = best.get(k);
    if (!current || mean > current.mean || (mean === current.mean && g.trainable < current.trainable)) best.set(k, { mean, std, n, trainable: g.trainable });
  }
  return best;
}

export const emptyBase = () => `http://127.0.0.1:${process.env.PEFT_SITE_EMPTY_PORT}/`;
