// Record verification: every committed record verifies, and forged or broken records are reported
// by path and skipped without shadowing the genuine ones.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords } from '../src/record/read.ts';
import { verifyRecord } from '../src/record/verify.ts';
import { clone, committedNli, rawRecord, RESULTS } from './committed.ts';
import { seal, sealedRecord } from './fixtures.ts';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'peft-verify-'));

describe('committed results', { timeout: 60_000 }, () => {
  it('every record in results/ verifies', async () => {
    const names = fs.readdirSync(RESULTS).filter((n) => n.endsWith('.json'));
    const { records, problems } = await readRecords(RESULTS);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(names.length);
    expect(records.length).toBeGreaterThanOrEqual(1524);
    // Schema-1 records are migrated: the code version their run id hashes is filled in, nothing is invented
    // (no per-example scores); schema-2 records state their own code version and carry per-example scores.
    const schemaOf = new Map(names.map((n) => [n.slice(0, -5), rawRecord(path.join(RESULTS, n)).schema_version as number]));
    const legacy = records.filter((r) => schemaOf.get(r.run_id) === 1);
    expect(legacy.length).toBeGreaterThanOrEqual(1524);
    expect(legacy.every((r) => r.code_version === '79d98a0132f137a4' && r.training.eval_every === 50 && r.test_examples === undefined)).toBe(true);
    const current = records.filter((r) => schemaOf.get(r.run_id) !== 1);
    expect(current.every((r) => r.status !== 'ok' || r.test_examples !== undefined)).toBe(true);
  });
});

describe('protocols and renamed models', { timeout: 60_000 }, () => {
  it('reads the committed records as fixed-300 on naive; their files and run ids still state `default` and no protocol', async () => {
    const { name, json } = committedNli();
    expect(json.model.id).toBe('default');
    expect(json.protocol).toBeUndefined();
    const verified = verifyRecord(name, json);
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    expect(verified.record.protocol).toBe('fixed-300');
    expect(verified.record.model.id).toBe('naive');
    // The labelled record, written back as it is read, states the same spec: it verifies under the same run id.
    expect(verifyRecord(name, clone(verified.record)).ok).toBe(true);
    // A converge record is a different spec: the same fields labelled converge do not verify under that run id.
    const relabelled = verifyRecord(name, { ...clone(verified.record), protocol: 'converge' });
    expect(relabelled.ok).toBe(false);
  });

  it('aggregation never pools protocols or models: one scope at a time, the others listed', async () => {
    const { aggregate } = await import('../src/aggregate/aggregate.ts');
    const { records } = await readRecords(RESULTS);
    const nli = records.filter((r) => r.task.id === 'nli' && r.method.id === 'full' && r.protocol === 'fixed-300');
    // Fewer converge runs on base, the default scope: aggregated by default all the same; the others on request.
    const converge = nli.slice(0, 2).map((r) => ({ ...clone(r), run_id: r.run_id.replace(/^./, 'f'), protocol: 'converge', model: { ...r.model, id: 'base' } }));
    const mixed = [...nli, ...converge];
    expect(aggregate(mixed, [], {}).scope).toMatchObject({ protocol: 'converge', model: 'base' });
    const old = aggregate(mixed, [], { protocol: 'fixed-300' });
    expect(old.scope).toMatchObject({ protocol: 'fixed-300', model: 'naive' });
    expect(old.scopes.map((s) => [s.protocol, s.model, s.runs])).toEqual([['fixed-300', 'naive', nli.length], ['converge', 'base', 2]]);
    expect(old.runs.every((r) => !r.runId.startsWith('f') || nli.some((n) => n.run_id === r.runId))).toBe(true);
    expect(old.recordCount).toBe(nli.length);
    const fresh = aggregate(mixed, [], { protocol: 'converge' });
    expect(fresh.scope).toMatchObject({ protocol: 'converge', model: 'base' });
    expect(fresh.recordCount).toBe(2);
    expect(fresh.methodTask.map((m) => m.method)).toEqual(['full']);
    expect(aggregate(mixed, [], { protocol: 'converge', model: 'naive' }).scope).toBeNull();
  });
});

describe('forged and broken records', { timeout: 60_000 }, () => {
  it('a shadow copy with the genuine run_id and a fake score loses, and is reported', async () => {
    const dir = tempDir();
    const { name, json } = committedNli();
    fs.copyFileSync(path.join(RESULTS, name), path.join(dir, name));
    const shadow = clone(json);
    shadow.metrics.primary = 0.999;
    shadow.metrics.test.acc = 0.999;
    fs.writeFileSync(path.join(dir, '0-shadow.json'), JSON.stringify(shadow));
    const { records, problems } = await readRecords(dir);
    expect(records).toHaveLength(1);
    expect(records[0]!.metrics.primary).toBe(json.metrics.primary);
    expect(problems).toEqual([{ path: path.join(dir, '0-shadow.json'), message: `file name 0-shadow.json is not its run_id (${json.run_id}.json)` }]);
  });

  it('rejects out-of-range values, unsafe links, unsafe ids, wrong names and wrong run ids, each with a reason', () => {
    const { name, json } = committedNli();
    const file = (record: { run_id: string }) => `${record.run_id}.json`;
    const reject = (record: Record<string, any>, pattern: RegExp, fileName = file(record as { run_id: string })) => {
      const result = verifyRecord(path.join('/any', fileName), record);
      expect(result.ok, JSON.stringify(result)).toBe(false);
      if (!result.ok) {
        expect(result.message).toMatch(pattern);
        expect(result.message).not.toContain('\n');
      }
    };
    expect(verifyRecord(path.join('/any', name), json).ok).toBe(true);

    const high = clone(json);
    high.metrics.test.acc = 7.5;
    high.metrics.primary = 7.5;
    reject(high, /metrics\.test\.acc = 7\.5 is outside \[0, 1\]/);
    const negative = clone(json);
    negative.metrics.valid.acc = -3;
    reject(negative, /metrics\.valid\.acc = -3 is outside/);
    const huge = clone(json);
    huge.params.trainable = 1e15;
    reject(huge, /params\.trainable = 1000000000000000 exceeds params\.total/);
    const inflated = clone(json);
    inflated.params.total += 5;
    reject(inflated, /params\.total = \d+ exceeds the base model's \d+ plus the \d+ trainable parameters/);
    const belowBase = clone(json);
    belowBase.params.total = 10;
    belowBase.params.trainable = 10;
    reject(belowBase, /params\.total = 10 is below the base model's 957184 parameters/);
    const infinite = clone(json);
    infinite.cost.train_seconds = 1e400; // JSON.parse gives Infinity for this
    reject(infinite, /cost\.train_seconds.*Infinity/);
    const script = clone(json);
    script.method.paper.url = 'javascript:alert(3)';
    reject(script, /method\.paper\.url "javascript:alert\(3\)" is not an http\(s\) URL/);
    const slash = clone(json);
    slash.method.id = 'lo/ra';
    reject(slash, /method\.id "lo\/ra" is not a slug/);
    // A valid record under another name: rejected, so it can never stand in for another run.
    reject(clone(json), /file name 00000000000000000000\.json is not its run_id/, '00000000000000000000.json');
    // A run_id that is not the hash of the spec the record states (another seed claimed).
    const reseeded = clone(json);
    reseeded.seed = 7;
    reject(reseeded, /run_id \w+ is not the hash of the record's spec/);
  });

  it('schema 2 records verify their own code version; per-example scores must average to the metric', () => {
    const record = sealedRecord(11);
    expect(verifyRecord(`${record.run_id}.json`, record).ok).toBe(true);
    const otherCode = { ...record, code_version: 'fedcba9876543210' };
    expect(verifyRecord(`${record.run_id}.json`, otherCode)).toMatchObject({ ok: false, message: expect.stringMatching(/not the hash/) });
    const withScores = { ...record, test_examples: { n: 4, ids_hash: '0123456789abcdef', scores: { accuracy: '0110' } } };
    expect(verifyRecord(`${record.run_id}.json`, withScores).ok).toBe(true);
    const fake = { ...withScores, test_examples: { ...withScores.test_examples, scores: { accuracy: '1110' } } };
    expect(verifyRecord(`${record.run_id}.json`, fake)).toMatchObject({ ok: false, message: expect.stringMatching(/average to 0\.75, but metrics\.test\.accuracy is 0\.5/) });
    const short = { ...withScores, test_examples: { ...withScores.test_examples, scores: { accuracy: [0.5, 0.5] } } };
    expect(verifyRecord(`${record.run_id}.json`, short)).toMatchObject({ ok: false, message: expect.stringMatching(/2 entries, expected n = 4/) });
    const sealed = seal({ ...record, method: { ...record.method, id: 'lo/ra' } });
    expect(verifyRecord(`${sealed.run_id}.json`, sealed)).toMatchObject({ ok: false, message: expect.stringMatching(/not a slug/) });
  });
});


describe('method analysis outputs', { timeout: 60_000 }, () => {
  it('every committed record\'s analysis parses with the schema of its kind', async () => {
    const { parseAnalysis } = await import('../src/analysis-schema.ts');
    const { records } = await readRecords(RESULTS);
    const withAnalysis = records.filter((r) => r.analysis);
    expect(withAnalysis.length).toBeGreaterThan(1000);
    const bad = withAnalysis.map((r) => [r.run_id, parseAnalysis(r.analysis)] as const).filter(([, p]) => !p.ok);
    expect(bad.slice(0, 3)).toEqual([]);
    const kinds = new Set(withAnalysis.map((r) => (r.analysis as { kind: string }).kind));
    expect([...kinds].sort()).toEqual(['low-rank', 'norm']);
  });

  it('a wrong shape is named by its path', async () => {
    const { parseAnalysis } = await import('../src/analysis-schema.ts');
    expect(parseAnalysis({ kind: 'norm', layers: { ln_f: { dim: 4 } } })).toMatchObject({ ok: false, message: expect.stringMatching(/^analysis \(norm\): layers\.ln_f\.mean: /) });
    expect(parseAnalysis({ kind: 'spectra' })).toMatchObject({ ok: false, message: expect.stringMatching(/is not one of low-rank, norm/) });
  });
});
