import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runRecord } from '../src/record/schema.ts';
import { hasFinished, loadRecordFile, readFinished, recordPath, removeStaleTempFiles, writeRecord } from '../src/record/store.ts';
import { sampleRecord, sealedRecord } from './fixtures.ts';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'peft-store-'));

describe('record schema', () => {
  it('accepts a complete record', () => {
    expect(runRecord.safeParse(sampleRecord()).success).toBe(true);
  });

  it('rejects missing fields, a bad status, a bad run id and a negative param count', () => {
    const { metrics: _dropped, ...noMetrics } = sampleRecord();
    expect(runRecord.safeParse(noMetrics).success).toBe(false);
    expect(runRecord.safeParse({ ...sampleRecord(), status: 'done' }).success).toBe(false);
    expect(runRecord.safeParse({ ...sampleRecord(), run_id: 'NOT-HEX' }).success).toBe(false);
    const record = sampleRecord();
    record.params.trainable = -1;
    expect(runRecord.safeParse(record).success).toBe(false);
  });
});

describe('results store', () => {
  it('writes <run_id>.json that reads back equal and counts as finished', () => {
    const dir = tempDir();
    const record = sealedRecord(1);
    const file = writeRecord(dir, record);
    expect(file).toBe(recordPath(dir, record.run_id));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(record);
    expect(hasFinished(dir, record.run_id)).toBe(true);
    // A record that states no protocol is read as the fixed-300 protocol's (the reader's label).
    expect(readFinished(dir, record.run_id)).toEqual({ ...record, protocol: 'fixed-300' });
    expect(fs.readdirSync(dir)).toEqual([`${record.run_id}.json`]);
  });

  it('refuses an invalid record and writes nothing', () => {
    const dir = tempDir();
    const record = { ...sampleRecord(), status: 'weird' } as never;
    expect(() => writeRecord(dir, record)).toThrow(/invalid run record.*status/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('treats a half-written, corrupt, foreign or mismatched file as not finished', () => {
    const dir = tempDir();
    const good = sealedRecord(2);
    const id = good.run_id;
    fs.writeFileSync(recordPath(dir, id), JSON.stringify(good).slice(0, 200));
    expect(hasFinished(dir, id)).toBe(false);
    expect(loadRecordFile(recordPath(dir, id))).toMatchObject({ ok: false, message: expect.stringMatching(/not valid JSON/) });
    fs.writeFileSync(recordPath(dir, id), JSON.stringify({ hello: 'world' }));
    expect(hasFinished(dir, id)).toBe(false);
    fs.writeFileSync(recordPath(dir, id), JSON.stringify(sealedRecord(3)));
    expect(hasFinished(dir, id)).toBe(false);
    // Rewriting replaces the bad file with a valid one.
    writeRecord(dir, good);
    expect(hasFinished(dir, id)).toBe(true);
  });

  it('never counts a failed record as finished; a diverged one only on its own backend', () => {
    const dir = tempDir();
    const failed = { ...sealedRecord(4), status: 'failed' as const, reason: 'boom', metrics: { ...sampleRecord().metrics, primary: null, test: {} } };
    writeRecord(dir, failed);
    expect(hasFinished(dir, failed.run_id)).toBe(false);
    expect(hasFinished(dir, failed.run_id, { backend: 'cpu' })).toBe(false);
    const diverged = { ...sealedRecord(5), status: 'diverged' as const, reason: 'loss ended above its start' };
    writeRecord(dir, diverged);
    expect(hasFinished(dir, diverged.run_id, { backend: 'cpu' })).toBe(true);
    expect(hasFinished(dir, diverged.run_id, { backend: 'wasm-blas' })).toBe(false);
  });

  it('a writer killed between write and rename leaves only an ignored temp file', () => {
    const dir = tempDir();
    const record = sealedRecord(6);
    const id = record.run_id;
    // A real process writes the temp file exactly as writeRecord does, then dies before rename.
    const script = `
      const fs = require('node:fs');
      const fd = fs.openSync(process.argv[1] + '/.${id}.' + process.pid + '.0a0b0c0d.tmp', 'wx');
      fs.writeSync(fd, process.argv[2]); fs.fsyncSync(fd);
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['-e', script, dir, JSON.stringify(record)]);
    expect(child.signal).toBe('SIGKILL');
    const names = fs.readdirSync(dir);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\..*\.tmp$/);
    expect(names.filter((name) => name.endsWith('.json'))).toEqual([]);
    expect(hasFinished(dir, id)).toBe(false);
    expect(removeStaleTempFiles(dir)).toEqual(names);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('keeps temp files whose writer is still alive', () => {
    const dir = tempDir();
    const name = `.ffffffffffffffffffff.${process.pid}.01020304.tmp`;
    fs.writeFileSync(path.join(dir, name), '{');
    expect(removeStaleTempFiles(dir)).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([name]);
  });
});
