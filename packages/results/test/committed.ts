// Committed run records as raw JSON, for tests that tamper with them (verification, `pnpm bench verify`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../results');

export const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A record file's raw JSON (no verification, no migration). */
export function rawRecord(file: string): Record<string, any> {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** A committed fixed-300 nli record (its primary metric is `acc`; no protocol, model `default`), as raw JSON. */
export function committedNli(): { name: string; json: Record<string, any> } {
  for (const name of fs.readdirSync(RESULTS).filter((n) => n.endsWith('.json')).sort()) {
    const json = rawRecord(path.join(RESULTS, name));
    if (json.task.id === 'nli' && json.method.paper?.url && json.protocol === undefined) return { name, json };
  }
  throw new Error('no committed nli record with a paper link');
}
