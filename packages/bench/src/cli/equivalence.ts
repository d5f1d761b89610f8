// `pnpm bench check-equivalence`: is the current code result-equivalent to the code that made the records in
// results/? Re-runs a sample of finished grid runs (per method) under the current code, on the backend the
// records were made on, and compares status, every valid and test metric, the trainable count and the whole
// training-loss curve exactly. Only when every sampled run is identical, and with --write, it records the old
// code version as equivalent to each sampled method's current one (grid/equivalence.ts); nothing else changes.
// Code versions are per method, so records made since per-method versions began differ by method: --since
// <git ref> takes each method's old version from that commit's sources instead of one --from for all.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandGrid, findGridFile, loadGrid } from '../grid/grid.ts';
import { attachEquivalentIds, readEquivalence, writeEquivalence, type EquivalenceEntry } from '../grid/equivalence.ts';
import { readRecords } from '@peft-bench/results/record/read';
import { loadRecordFile } from '@peft-bench/results/record/store';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { REPO_ROOT, codeVersion } from '../run/code-version.ts';
import { cpuModel } from '../run/provenance.ts';
import { loadCatalog } from '../run/registries.ts';
import { InputError, resolveRequests, type ResolvedRun } from '../run/resolve.ts';
import { defaultWorkers, reportError } from './errors.ts';
import { gridCommand } from './grid-command.ts';
import { writeMethodsJson } from './export-methods.ts';
import { parsePositiveInt } from './values.ts';

export interface EquivalenceFlags {
  from?: string;
  /** A git ref whose sources give each method's old code version (instead of one --from). */
  since?: string;
  grid: string;
  results: string;
  perMethod: string;
  /** Only these methods (comma-separated). */
  methods?: string;
  workers?: string;
  write?: boolean;
}

/** Differences between two records of the same experiment that would change what the leaderboard shows. */
export function resultDifferences(a: RunRecord, b: RunRecord): string[] {
  const out: string[] = [];
  if (a.status !== b.status) out.push(`status ${a.status} -> ${b.status}`);
  for (const split of ['valid', 'test'] as const) {
    const keys = new Set([...Object.keys(a.metrics[split]), ...Object.keys(b.metrics[split])]);
    for (const k of keys) {
      if (a.metrics[split][k] !== b.metrics[split][k]) out.push(`${split}.${k} ${a.metrics[split][k]} -> ${b.metrics[split][k]}`);
    }
  }
  if (a.params.trainable !== b.params.trainable) out.push(`trainable ${a.params.trainable} -> ${b.params.trainable}`);
  const la = a.curves.train_loss.map((p) => p.value);
  const lb = b.curves.train_loss.map((p) => p.value);
  const firstDiff = la.findIndex((v, i) => v !== lb[i]);
  if (la.length !== lb.length || firstDiff >= 0) out.push(`training loss differs from logged step ${firstDiff >= 0 ? a.curves.train_loss[firstDiff]!.step : Math.min(la.length, lb.length)}`);
  return out;
}

export async function checkEquivalenceCommand(flags: EquivalenceFlags): Promise<number> {
  try {
    const perMethod = parsePositiveInt('--per-method', flags.perMethod);
    const workers = flags.workers !== undefined ? parsePositiveInt('--workers', flags.workers) : defaultWorkers();
    const resultsDir = path.resolve(flags.results);
    const { records, problems } = await readRecords(resultsDir);
    if (problems.length) process.stderr.write(`skipped ${problems.length} record(s) that do not verify (pnpm bench verify lists them)\n`);
    const byId = new Map(records.map((r) => [r.run_id, r]));
    const counts = new Map<string, number>();
    for (const r of records) counts.set(r.code_version, (counts.get(r.code_version) ?? 0) + 1);
    if (flags.from !== undefined && flags.since !== undefined) throw new InputError('Give --from or --since, not both.');
    const catalog = await loadCatalog();
    const methodIds = catalog.methods().map((m) => m.id);
    const sinceVersions = flags.since !== undefined ? codeVersionsAt(flags.since, methodIds) : null;
    const from = flags.from ?? (sinceVersions ? null : [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]);
    if (from === undefined) throw new InputError(`${flags.results} holds no verified records to compare with.`);
    if (from !== null && !counts.has(from)) throw new InputError(`No record in ${flags.results} has code version ${from}; present: ${[...counts.keys()].join(', ')}.`);
    const fromOf = (methodId: string): string => sinceVersions?.get(methodId) ?? from!;

    let gridFile: string;
    try {
      gridFile = findGridFile(flags.grid);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    const grid = loadGrid(gridFile);
    const requests = expandGrid(grid, catalog.methods().map((m) => ({ id: m.id, rankParam: m.rankParam })), []);
    const current = await resolveRequests(requests, catalog, { codeVersion, defaultModel: 'default' });
    const old = await resolveRequests(requests, catalog, { codeVersion: fromOf, defaultModel: 'default' });
    if (old.length !== current.length) throw new Error('the grid resolves to a different number of runs under the old code version');
    // A run finished under the old version may carry a still older version declared equivalent to it.
    await attachEquivalentIds(old, (versionOf) => resolveRequests(requests, catalog, { codeVersion: versionOf, defaultModel: 'default' }));
    const finishedBefore = (run: ResolvedRun): RunRecord | undefined =>
      [run.runId, ...(run.equivalentIds ?? [])].map((id) => byId.get(id)).find((r) => r?.status === 'ok');

    // Candidates: finished ok under the old version, whose id the change moved. Preferred: records made on this CPU
    // (OpenBLAS picks its kernels by CPU, and other kernels round differently), self-contained runs (a run that
    // reads another run's adapter is re-run after that run: its adapter is not committed), then the cheapest, by
    // the seconds the record took.
    const cpu = cpuModel();
    const otherCpu = (r: RunRecord) => (r.provenance.cpu === cpu ? 0 : 1);
    const only = flags.methods ? new Set(flags.methods.split(',').map((m) => m.trim()).filter(Boolean)) : null;
    const byMethod = new Map<string, { now: ResolvedRun; before: RunRecord }[]>();
    current.forEach((now, i) => {
      const before = finishedBefore(old[i]!);
      if (!before || now.runId === old[i]!.runId) return;
      if (only && !only.has(now.spec.method.id)) return;
      const list = byMethod.get(now.spec.method.id) ?? [];
      list.push({ now, before });
      byMethod.set(now.spec.method.id, list);
    });
    const sample = [...byMethod.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([, list]) => list.sort((x, y) => otherCpu(x.before) - otherCpu(y.before) || x.now.dependsOn.length - y.now.dependsOn.length || seconds(x.before) - seconds(y.before) || (x.before.run_id < y.before.run_id ? -1 : 1)).slice(0, perMethod));
    const currentById = new Map(current.map((r) => [r.runId, r]));
    const toRun = new Map<string, ResolvedRun>();
    const add = (run: ResolvedRun) => {
      for (const dep of run.dependsOn) add(currentById.get(dep)!);
      toRun.set(run.runId, run);
    };
    for (const s of sample) add(s.now);
    if (sample.length === 0) {
      process.stdout.write(`Nothing to check: no finished run of grid ${grid.name} has a new run id under the current code.\n`);
      return 0;
    }
    const backends = [...new Set(sample.map((s) => s.before.provenance.backend))];
    if (backends.length !== 1) throw new InputError(`The sampled records were made on several backends (${backends.join(', ')}); results are compared on one.`);
    const threads = [...new Set(sample.map((s) => s.before.provenance.threads))];
    const elsewhere = sample.filter((s) => s.before.provenance.cpu !== cpu);
    if (elsewhere.length) process.stderr.write(`note: ${elsewhere.length} sampled record(s) were made on another CPU (${[...new Set(elsewhere.map((s) => s.before.provenance.cpu))].join(', ')}; this one: ${cpu}): their BLAS kernels may round differently, so a difference there need not come from the code\n`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-bench-equivalence-'));
    const fromLabel = from ?? `the code versions of ${flags.since}`;
    process.stderr.write(`re-running ${sample.length} run(s) of ${byMethod.size} method(s) made under ${fromLabel} (and ${toRun.size - sample.length} run(s) whose adapters they read), on ${backends[0]} with ${threads[0]} thread(s) each\n`);
    const code = await gridCommand([...toRun.values()], {
      gridName: `${grid.name} (equivalence sample)`, outDir: tmp, workers, threads: threads[0] ?? 1, backend: backends[0],
      dataDir: undefined, adapterRoot: path.join(tmp, '.adapters'), json: false, dryRun: false, finishedIn: [],
      shard: null, plan: null, perRunSeconds: null,
    });
    if (code !== 0) return code;

    const rows = sample.map(({ now, before }) => {
      const file = path.join(tmp, `${now.runId}.json`);
      const loaded = fs.existsSync(file) ? loadRecordFile(file) : null;
      const after = loaded?.ok ? loaded.record : null;
      const differences = after ? resultDifferences(before, after) : ['no record was written'];
      return { method: now.spec.method.id, before, now, differences };
    });
    process.stdout.write(`\n| method | old code version | run then | run now | test primary | identical |\n|---|---|---|---|---|---|\n`);
    for (const r of rows) {
      process.stdout.write(`| ${r.method} | ${r.before.code_version} | ${r.before.run_id} | ${r.now.runId} | ${r.before.metrics.primary} | ${r.differences.length ? `no: ${r.differences.slice(0, 3).join('; ')}` : 'yes'} |\n`);
    }
    const mismatched = rows.filter((r) => r.differences.length > 0);
    if (mismatched.length) {
      process.stdout.write(`\n${mismatched.length} of ${rows.length} sampled runs differ: the current code is not equivalent to ${fromLabel}; nothing was recorded.\n`);
      return 1;
    }
    // One entry per old version: with --since, methods that shared a version then share an entry.
    const entries: EquivalenceEntry[] = [];
    // The entry starts at the old version, which chains back to the versions it was itself equivalent to.
    for (const version of [...new Set(rows.map((r) => fromOf(r.method)))].sort()) {
      const group = rows.filter((r) => fromOf(r.method) === version);
      entries.push({
        from: version, to: Object.fromEntries(group.map((r) => [r.method, r.now.spec.code_version])),
        checked_on: new Date().toISOString().slice(0, 10), backend: backends[0]!,
        evidence: group.map((r) => ({ method: r.method, from_run: r.before.run_id, to_run: r.now.runId, identical: true as const })),
      });
    }
    const covered = new Set(rows.map((r) => r.method));
    const skipped = [...new Set(current.map((r) => r.spec.method.id))].filter((m) => !covered.has(m) && (!only || only.has(m))).sort();
    process.stdout.write(`\nAll ${rows.length} sampled runs are identical: ${covered.size} method(s) equivalent to ${fromLabel}.`
      + `${skipped.length ? ` Not covered (no finished run under ${fromLabel} to re-run): ${skipped.join(', ')}.` : ''}\n`);
    if (flags.write) {
      writeEquivalence([...readEquivalence(), ...entries]);
      // Readers (the site, the report) count equivalent records through methods.json's code_equivalence.
      await writeMethodsJson();
      process.stdout.write(`Recorded in packages/bench/code-equivalence.json and packages/results/src/methods.json.\n`);
    } else {
      process.stdout.write('Run again with --write to record it.\n');
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    return 0;
  } catch (error) {
    return reportError(error);
  }
}

/** Seconds a record took (training and evaluation), to re-run the cheapest sample. */
function seconds(record: RunRecord): number {
  return (record.cost?.train_seconds ?? 0) + (record.cost?.eval_seconds ?? 0);
}

/** Each method's code version in the sources of git ref `ref` (extracted to a scratch folder). */
export function codeVersionsAt(ref: string, methodIds: readonly string[]): Map<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-bench-since-'));
  try {
    let archive: Buffer;
    try {
      archive = execFileSync('git', ['archive', '--format=tar', ref, 'packages'], { cwd: REPO_ROOT, maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      throw new InputError(`--since ${ref}: git cannot read that ref in ${REPO_ROOT} (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}). Give a commit, tag or branch.`);
    }
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    return new Map(methodIds.map((id) => [id, codeVersion(id, dir)]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
