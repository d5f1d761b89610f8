// Reads every run record in a results directory. A bad file never stops the reader: it is reported by
// path with a one-line reason and skipped, so one corrupt record cannot take the leaderboard down.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runRecord, RECORD_SCHEMA_VERSION, type RunRecord } from './schema.ts';

export interface RecordProblem {
  path: string;
  message: string;
}

export interface ReadResult {
  records: RunRecord[];
  problems: RecordProblem[];
}

/** Formats the first few zod issues as `field.path: message`, on one line. */
function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${where}: ${issue.message}`;
  });
  const more = issues.length > 3 ? ` (+${issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}

/** A JSON value that does not even look like a run record (no schema_version / run_id / method). */
function isForeign(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return true;
  const obj = value as Record<string, unknown>;
  return !('schema_version' in obj) && !('run_id' in obj);
}

/** Validates one file's text; returns the record or a one-line reason. */
export function parseRecord(text: string): { record: RunRecord } | { message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { message: `not valid JSON (${detail}); the file may be truncated or corrupt` };
  }
  if (isForeign(value)) {
    return { message: 'not a run record (no schema_version or run_id field); foreign JSON in the results directory' };
  }
  const version = (value as Record<string, unknown>).schema_version;
  if (version !== RECORD_SCHEMA_VERSION) {
    return { message: `unsupported schema_version ${JSON.stringify(version)}; this reader understands version ${RECORD_SCHEMA_VERSION}` };
  }
  const parsed = runRecord.safeParse(value);
  if (!parsed.success) return { message: `invalid run record: ${describeIssues(parsed.error.issues)}` };
  return { record: parsed.data };
}

/**
 * Reads and validates every `*.json` in `dir` (not recursive). Temp files (`*.tmp`, written during atomic
 * saves) and other extensions are ignored. A missing directory is an empty result, not an error.
 * Records come back sorted by file name so the output is deterministic.
 */
export async function readRecords(dir: string): Promise<ReadResult> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw err;
  }
  const records: RunRecord[] = [];
  const problems: RecordProblem[] = [];
  const seen = new Map<string, string>();
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const path = join(dir, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      // A directory named *.json or an unreadable file: report, keep going.
      problems.push({ path, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const result = parseRecord(text);
    if ('message' in result) {
      problems.push({ path, message: result.message });
      continue;
    }
    const earlier = seen.get(result.record.run_id);
    if (earlier !== undefined) {
      problems.push({ path, message: `duplicate run_id ${result.record.run_id} (already read from ${earlier}); skipped` });
      continue;
    }
    seen.set(result.record.run_id, path);
    records.push(result.record);
  }
  return { records, problems };
}
