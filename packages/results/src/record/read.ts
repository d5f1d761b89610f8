// Reads every run record in a results directory. A bad file never stops the reader: it is reported by
// path with a one-line reason and skipped, so one corrupt record cannot take the leaderboard down.
// Every record is verified (record/verify.ts): a file whose name is not its run_id, or whose run_id
// is not its spec's hash, is rejected, so a copy can never shadow the genuine record.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from './schema.ts';
import { verifyRecordText, type VerifyOptions } from './verify.ts';

export interface RecordProblem {
  path: string;
  message: string;
}

export interface ReadResult {
  records: RunRecord[];
  problems: RecordProblem[];
}

/** Validates one file's text (its name must be `<run_id>.json`); returns the record or a one-line reason. */
export function parseRecord(text: string, file: string, options: VerifyOptions = {}): { record: RunRecord } | { message: string } {
  const verified = verifyRecordText(file, text, options);
  return verified.ok ? { record: verified.record } : { message: verified.message };
}

/**
 * Reads and validates every `*.json` in `dir` (not recursive). Temp files (`*.tmp`, written during atomic
 * saves) and other extensions are ignored. A missing directory is an empty result, not an error.
 * Records come back sorted by file name so the output is deterministic.
 */
export async function readRecords(dir: string, options: VerifyOptions = {}): Promise<ReadResult> {
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
    const result = parseRecord(text, path, options);
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
