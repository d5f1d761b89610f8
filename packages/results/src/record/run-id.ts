// The run id: a hash of everything that determines a run's result (its spec). Verification recomputes it
// from what a record states, and the runner names a new record by it, so both use this one function.
import { createHash } from 'node:crypto';

/** Length of the run id in hex characters (80 bits: collisions are not a practical concern). */
export const RUN_ID_HEX_CHARS = 20;

/**
 * JSON with object keys sorted at every level, so equal values give equal text whatever order
 * their keys were built in. Undefined object entries are dropped (as JSON.stringify does);
 * non-finite numbers are rejected because JSON cannot carry them and they would collide as null.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, '$'));
}

function sortKeys(value: unknown, where: string): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`cannot hash ${where}: ${value} is not a finite number`);
  }
  if (Array.isArray(value)) return value.map((item, i) => sortKeys(item, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sortKeys(item, `${where}.${key}`);
    }
    return out;
  }
  return value;
}

/**
 * sha256 of the spec's canonical JSON, first RUN_ID_HEX_CHARS hex characters.
 * The backend and thread count are deliberately not in the spec: a run id names the experiment,
 * not the machine, so records from GPU runners and CPU machines merge into one results/. They are
 * recorded in each record's provenance instead, and a diverged record counts as final only on the
 * backend it diverged on (record/store.ts countsAsFinished).
 */
export function runIdOf(spec: object): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, RUN_ID_HEX_CHARS);
}
