// Code versions declared equivalent. Any change to the sources a run depends on gives its spec a new code
// version, hence a new run id, so every finished record would look unfinished. When a change is known not
// to alter results, a maintainer checks that by re-running a sample of finished runs under the new code
// (`pnpm bench check-equivalence`) and, if every sampled metric is identical, records the old version as
// equivalent to each sampled method's new one in packages/bench/code-equivalence.json. Planning then counts
// a record made under an equivalent version as finished. A method that was not sampled, or whose code
// changed again since, is not covered: its runs are planned again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { equivalentVersions } from '@peft-bench/results/methods';
import { REPO_ROOT, codeVersion } from '../run/code-version.ts';
import type { ResolvedRun } from '../run/resolve.ts';

export const EQUIVALENCE_FILE = path.join(REPO_ROOT, 'packages/bench/code-equivalence.json');

const entrySchema = z.object({
  /** The code version the existing records carry. */
  from: z.string().regex(/^[A-Za-z0-9._-]+$/),
  /** Method -> the code version checked equivalent to `from` for it. */
  to: z.record(z.string(), z.string().regex(/^[A-Za-z0-9._-]+$/)),
  checked_on: z.string(),
  /** The sampled runs: old and new run id, and whether every metric matched. */
  evidence: z.array(z.object({ method: z.string(), from_run: z.string(), to_run: z.string(), identical: z.literal(true) })),
  backend: z.string(),
});
const fileSchema = z.object({ note: z.string().optional(), entries: z.array(entrySchema) });
export type EquivalenceEntry = z.infer<typeof entrySchema>;

export function readEquivalence(file = EQUIVALENCE_FILE): EquivalenceEntry[] {
  if (!fs.existsSync(file)) return [];
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${path.relative(REPO_ROOT, file)} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path.relative(REPO_ROOT, file)} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.entries;
}

export function writeEquivalence(entries: EquivalenceEntry[], file = EQUIVALENCE_FILE): void {
  const text = `${JSON.stringify({ note: 'Code versions checked equivalent by re-running a sample (pnpm bench check-equivalence); see packages/bench/src/grid/equivalence.ts.', entries }, null, 2)}\n`;
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

// The chaining is shared with the readers (the site's learning-rate choices), which get the entries from methods.json.
export { equivalentVersions };

/**
 * Sets `equivalentIds` on each run: its run ids under the code versions declared equivalent for its
 * method. `resolveUnder` resolves the same requests with another code version per method; runs are
 * matched by position (resolution keeps request order).
 */
export async function attachEquivalentIds(
  runs: ResolvedRun[],
  resolveUnder: (versionOf: (methodId: string) => string) => Promise<ResolvedRun[]>,
  entries: readonly EquivalenceEntry[] = readEquivalence(),
): Promise<void> {
  if (entries.length === 0) return;
  const olderByMethod = new Map<string, string[]>();
  for (const run of runs) {
    const id = run.spec.method.id;
    if (!olderByMethod.has(id)) olderByMethod.set(id, equivalentVersions(id, run.spec.code_version, entries));
  }
  const older = [...new Set([...olderByMethod.values()].flat())].sort();
  for (const version of older) {
    const alternate = await resolveUnder((methodId) => (olderByMethod.get(methodId)?.includes(version) ? version : codeVersion(methodId)));
    if (alternate.length !== runs.length) continue;
    runs.forEach((run, i) => {
      const other = alternate[i]!;
      if (other.runId !== run.runId && other.spec.code_version === version) (run.equivalentIds ??= []).push(other.runId);
    });
  }
}
