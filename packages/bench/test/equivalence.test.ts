// Per-method code versions, and records carried across a code change only where it was checked equivalent.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeVersion, methodFolders } from '../src/run/code-version.ts';
import { attachEquivalentIds, equivalentVersions, type EquivalenceEntry } from '../src/grid/equivalence.ts';
import { finishedRuns } from '../src/grid/plan.ts';
import type { ResolvedRun } from '../src/run/resolve.ts';
import { sampleRecord, sampleSpec, seal } from '@peft-bench/results/test/fixtures';
import { runIdOf } from '../src/run/spec.ts';
import { writeRecord } from '@peft-bench/results/record/store';
import { execFileSync } from 'node:child_process';
import { codeVersionsAt } from '../src/cli/equivalence.ts';
import { REPO_ROOT } from '../src/run/code-version.ts';

function tree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'code-version-'));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  write('packages/core/src/model.ts', 'export const model = 1;');
  write('packages/methods/src/define.ts', 'export const define = 1;');
  write('packages/bench/src/run/runner.ts', 'export const run = 1;');
  write('packages/methods/lora/index.ts', "export const lora = 1;");
  write('packages/methods/lora-grow/index.ts', "import { lora } from '../lora/index.ts';");
  write('packages/methods/ia3/index.ts', 'export const ia3 = 1;');
  return root;
}

describe('per-method code version', () => {
  it('covers a method, the siblings it imports and the shared sources, and nothing else', () => {
    const root = tree();
    expect(methodFolders('lora-grow', root)).toEqual(['lora', 'lora-grow']);
    const copy = (change: (dir: string) => void) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-version-copy-'));
      fs.cpSync(root, dir, { recursive: true });
      change(dir);
      return dir;
    };
    const v = (m: string) => codeVersion(m, root);
    const lora1 = v('lora');
    const ia31 = v('ia3');
    // Relative paths are hashed, so an equal tree elsewhere gives equal versions; a new method folder and a
    // source no run executes (throughput.ts) change no existing method's version.
    const copy3 = copy((dir) => {
      fs.mkdirSync(path.join(dir, 'packages/methods/attn-synth'));
      fs.writeFileSync(path.join(dir, 'packages/methods/attn-synth/index.ts'), 'export const x = 1;');
      fs.writeFileSync(path.join(dir, 'packages/core/src/throughput.ts'), 'export const speed = 1;');
    });
    expect(codeVersion('lora', copy3)).toBe(lora1);
    expect(codeVersion('ia3', copy3)).toBe(ia31);
    const copy2 = copy((dir) => fs.writeFileSync(path.join(dir, 'packages/methods/lora/index.ts'), 'export const lora = 2;'));
    // A change to shared sources moves every method.
    const copy4 = copy((dir) => fs.writeFileSync(path.join(dir, 'packages/core/src/model.ts'), 'export const model = 2;'));
    expect(codeVersion('ia3', copy4)).not.toBe(ia31);
    // Changing lora moves lora and what imports it, not ia3.
    expect(codeVersion('lora', copy2)).not.toBe(lora1);
    expect(codeVersion('lora-grow', copy2)).not.toBe(v('lora-grow'));
    expect(codeVersion('ia3', copy2)).toBe(ia31);
  });
});

const entry = (from: string, to: Record<string, string>): EquivalenceEntry => ({
  from, to, checked_on: '2026-12-01', backend: 'wasm-blas', evidence: [],
});

describe('equivalent code versions', () => {
  it('chains entries back from the current version, per method', () => {
    const entries = [entry('v1', { lora: 'v2', ia3: 'v2' }), entry('v2', { lora: 'v3' })];
    expect(equivalentVersions('lora', 'v3', entries)).toEqual(['v1', 'v2']);
    // ia3 was not checked at v3: nothing carries over.
    expect(equivalentVersions('ia3', 'v3', entries)).toEqual([]);
    expect(equivalentVersions('ia3', 'v2', entries)).toEqual(['v1']);
  });

  it('counts a verified record made under an equivalent version as finished, and only then', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'equivalent-'));
    const record = seal({ ...sampleRecord(), code_version: 'old0000000000000' });
    writeRecord(dir, record);
    const oldId = record.run_id;
    const oldSpec = { ...sampleSpec(), code_version: 'old0000000000000' };
    const newSpec = { ...oldSpec, code_version: 'new0000000000000' };
    const run = { runId: runIdOf(newSpec), spec: newSpec, dependsOn: [] } as unknown as ResolvedRun;
    const query = { dirs: [dir], adapterRoot: dir, backend: async () => 'cpu' };
    expect((await finishedRuns([run], query)).size).toBe(0);
    await attachEquivalentIds([run], async () => [{ ...run, runId: oldId, spec: oldSpec } as ResolvedRun], [entry('old0000000000000', { lora: 'new0000000000000' })]);
    expect(run.equivalentIds).toEqual([oldId]);
    expect([...(await finishedRuns([run], query))]).toEqual([run.runId]);
    // No entry for this method: no alternate id.
    const other = { ...run, equivalentIds: undefined } as ResolvedRun;
    await attachEquivalentIds([other], async () => [{ ...run, runId: oldId, spec: oldSpec } as ResolvedRun], [entry('old0000000000000', { ia3: 'new0000000000000' })]);
    expect(other.equivalentIds).toBeUndefined();
  });

  it('follows a chain of entries back to the version a record was made under', async () => {
    // v1 -> v2 was checked, then v2 -> v3: a record made under v1 counts for a run planned under v3
    // (check-equivalence --since resolves the old runs under v2 and needs the v1 ids through this chain).
    const specAt = (version: string) => ({ ...sampleSpec(), code_version: version });
    const runAt = (version: string) => ({ runId: runIdOf(specAt(version)), spec: specAt(version), dependsOn: [] }) as unknown as ResolvedRun;
    const chain = [entry('v1', { lora: 'v2' }), entry('v2', { lora: 'v3' })];
    const resolved: string[] = [];
    const resolveUnder = async (versionOf: (methodId: string) => string) => {
      resolved.push(versionOf('lora'));
      return [runAt(versionOf('lora'))];
    };
    const now = runAt('v3');
    await attachEquivalentIds([now], resolveUnder, chain);
    expect(resolved).toEqual(['v1', 'v2']);
    expect(now.equivalentIds).toEqual([runAt('v1').runId, runAt('v2').runId]);
    // A break in the chain (v2 -> v3 checked for ia3 only) stops it for lora.
    const broken = runAt('v3');
    await attachEquivalentIds([broken], resolveUnder, [entry('v1', { lora: 'v2' }), entry('v2', { ia3: 'v3' })]);
    expect(broken.equivalentIds).toBeUndefined();
  });
});

describe('check-equivalence --since', () => {
  it("reads each method's old code version from a commit's sources", () => {
    // Equal to the working tree's when the result sources have no uncommitted change (a clean clone).
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages/core/src', 'packages/core/native', 'packages/methods', 'packages/bench/src/run'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const versions = codeVersionsAt('HEAD', ['lora', 'ia3']);
    expect([...versions.keys()]).toEqual(['lora', 'ia3']);
    for (const v of versions.values()) expect(v).toMatch(/^[0-9a-f]{16}$/);
    if (!dirty && !process.env.PEFT_BENCH_CODE_VERSION) {
      expect(versions.get('lora')).toBe(codeVersion('lora'));
      expect(versions.get('ia3')).toBe(codeVersion('ia3'));
    }
    expect(versions.get('lora')).not.toBe(versions.get('ia3'));
  });

  it('says what was wrong with a ref git cannot read', () => {
    expect(() => codeVersionsAt('no-such-ref-xyz', ['lora'])).toThrow(/--since no-such-ref-xyz: git cannot read that ref.*Give a commit, tag or branch/s);
  });
});
