// The results store: one validated JSON file per run, `<run_id>.json`, written atomically.
// A file either holds a complete, schema-valid record or it is not a result: a crash can leave
// only a dot-prefixed `.tmp` file, which no reader treats as a record (they read `*.json` only).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runRecord, type RunRecord } from './schema.ts';
import { verifyRecord, verifyRecordText, type VerifyOptions } from './verify.ts';

const TEMP_SUFFIX = '.tmp';

export function recordPath(dir: string, runId: string): string {
  return path.join(dir, `${runId}.json`);
}

/** A readable one-line list of what the schema rejected. */
export function describeSchemaIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 8)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Validates `record` against the schema and writes it to `<dir>/<run_id>.json`: temp file in the
 * same directory, fsync, rename (atomic on POSIX), then fsync of the directory so the rename
 * survives a power loss (an existing file, e.g. a failed run's record, is replaced in one step).
 * Returns the final path. Throws (writing nothing) on an invalid or unverifiable record.
 */
export function writeRecord(dir: string, record: RunRecord): string {
  const parsed = runRecord.safeParse(record);
  if (!parsed.success) {
    throw new Error(`refusing to write an invalid run record (${record?.run_id ?? 'no run_id'}): ${describeSchemaIssues(parsed.error)}`);
  }
  const verified = verifyRecord(`${parsed.data.run_id}.json`, parsed.data);
  if (!verified.ok) throw new Error(`refusing to write an unverifiable run record (${parsed.data.run_id}): ${verified.message}`);
  fs.mkdirSync(dir, { recursive: true });
  const finalPath = recordPath(dir, parsed.data.run_id);
  const tempPath = path.join(dir, `.${parsed.data.run_id}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const fd = fs.openSync(tempPath, 'wx');
  try {
    fs.writeSync(fd, `${JSON.stringify(parsed.data, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tempPath, finalPath);
  } catch (error) {
    fs.rmSync(tempPath, { force: true });
    throw error;
  }
  syncDirectory(dir);
  return finalPath;
}

function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export type LoadedRecord = { ok: true; record: RunRecord } | { ok: false; message: string };

/** Reads and verifies one record file (record/verify.ts); never throws. */
export function loadRecordFile(file: string, options: VerifyOptions = {}): LoadedRecord {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, message: `cannot read: ${(error as Error).message}` };
  }
  return verifyRecordText(file, text, options);
}

/**
 * Whether a verified record counts as finished, so its run is not run again: an ok run always; a
 * diverged run only when it diverged on the backend that would run it again (numerics differ between
 * backends, so divergence on one does not settle another); a failed run never (it is retried, and
 * the new record replaces it). `backend` null = unknown: a diverged record is then taken as final.
 */
export function countsAsFinished(record: RunRecord, backend: string | null): boolean {
  if (record.status === 'ok') return true;
  if (record.status === 'diverged') return backend === null || record.provenance.backend === backend;
  return false;
}

export interface FinishedOptions {
  /** The backend a rerun would use (see countsAsFinished); null or absent = unknown. */
  backend?: string | null;
}

/**
 * True when `<dir>/<runId>.json` holds a verified record for that run id that counts as finished
 * (countsAsFinished). A half-written, corrupt, foreign or unverifiable file is not a result: the run
 * is redone and the file replaced.
 */
export function hasFinished(dir: string, runId: string, options: FinishedOptions = {}): boolean {
  return readFinished(dir, runId, options) !== null;
}

/** The verified record for a run id in `dir`, whatever its status, or null when there is none. */
export function readVerified(dir: string, runId: string): RunRecord | null {
  const file = recordPath(dir, runId);
  if (!fs.existsSync(file)) return null;
  const loaded = loadRecordFile(file);
  return loaded.ok && loaded.record.run_id === runId ? loaded.record : null;
}

/** The finished record for a run id (see hasFinished), or null. */
export function readFinished(dir: string, runId: string, options: FinishedOptions = {}): RunRecord | null {
  const record = readVerified(dir, runId);
  return record && countsAsFinished(record, options.backend ?? null) ? record : null;
}

/**
 * Removes temp files left by writers that died between write and rename. Only files whose
 * writer process is gone are removed, so a concurrent writer is never disturbed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const match = /^\.[0-9a-f]+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (!match) continue;
    if (processAlive(Number(match[1]))) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
