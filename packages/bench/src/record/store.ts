// The results store: one validated JSON file per run, `<run_id>.json`, written atomically.
// A file either holds a complete, schema-valid record or it is not a result: a crash can leave
// only a dot-prefixed `.tmp` file, which no reader treats as a record (they read `*.json` only).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runRecord, type RunRecord } from './schema.ts';

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
 * survives a power loss. Returns the final path. Throws (writing nothing) on an invalid record.
 */
export function writeRecord(dir: string, record: RunRecord): string {
  const parsed = runRecord.safeParse(record);
  if (!parsed.success) {
    throw new Error(`refusing to write an invalid run record (${record?.run_id ?? 'no run_id'}): ${describeSchemaIssues(parsed.error)}`);
  }
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

/** Reads and validates one record file; never throws. */
export function loadRecordFile(file: string): LoadedRecord {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, message: `cannot read: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not valid JSON (half-written or corrupt): ${(error as Error).message}` };
  }
  const parsed = runRecord.safeParse(json);
  if (!parsed.success) return { ok: false, message: `not a valid run record: ${describeSchemaIssues(parsed.error)}` };
  return { ok: true, record: parsed.data };
}

/**
 * True when `<dir>/<runId>.json` holds a complete, schema-valid record for that run id. A
 * half-written, corrupt or foreign file is not a result: the run is redone (and the file replaced).
 * With `retryFailed`, a record whose status is 'failed' also counts as not finished.
 */
export function hasFinished(dir: string, runId: string, options: { retryFailed?: boolean } = {}): boolean {
  const file = recordPath(dir, runId);
  if (!fs.existsSync(file)) return false;
  const loaded = loadRecordFile(file);
  if (!loaded.ok || loaded.record.run_id !== runId) return false;
  if (options.retryFailed && loaded.record.status === 'failed') return false;
  return true;
}

/** Reads the finished record for a run id, or null when there is no valid one. */
export function readFinished(dir: string, runId: string): RunRecord | null {
  const loaded = loadRecordFile(recordPath(dir, runId));
  return loaded.ok && loaded.record.run_id === runId ? loaded.record : null;
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
