// Verification of a run record beyond its shape: every reader (aggregation, the site, import, the
// grid's "already finished" check, `pnpm bench verify`) goes through verifyRecord, so a record that
// fails here is reported by path with a one-line reason and never counts anywhere.
//
// What is checked: the file is named `<run_id>.json` and run_id is the hash of the spec the record
// states (so a copied run_id with a fake score cannot shadow the genuine file); ids are safe slugs;
// every metric lies in its range; parameter counts are consistent; links are http(s).
import { basename } from 'node:path';
import { runIdOf } from './run-id.ts';
import { LEGACY_PROTOCOL, RECORD_SCHEMA_VERSION, RENAMED_MODELS, runRecord, runRecordV1, type RunRecord } from './schema.ts';

export type Verified = { ok: true; record: RunRecord } | { ok: false; message: string };

export interface VerifyOptions {
  /** Parameter counts of known base models by checkpoint hash: a record of one of them must state that count. */
  knownModels?: ReadonlyMap<string, number>;
}

/** Method, task and experiment ids: they become URL path segments and file names on the site. */
export const SLUG = /^[a-z0-9][a-z0-9._-]*$/i;
/** Model ids: a registered slug, or `dir:<folder>@<hash>` for a checkpoint directory (no path separators). */
const MODEL_ID = /^([a-z0-9][a-z0-9._-]*|dir:[^/\\\x00-\x1f]+)$/i;
const HEX = /^[0-9a-f]+$/;

/**
 * Schema-1 records do not store the code version and validation interval (`eval_every`) that their
 * run id hashes. Every schema-1 record committed to results/ was made by code version
 * 79d98a0132f137a4 with the default model's eval_every (50); for such records these are tried, and a
 * schema-1 record that matches none is rejected as unverifiable. Records from schema 2 on store both.
 */
export const LEGACY_CODE_VERSIONS: readonly string[] = ['79d98a0132f137a4'];
const LEGACY_EVAL_EVERY: readonly number[] = [50, 0];

/** The spec a record states: what its run id hashes (the runner's RunSpec has the same shape). */
export interface RecordSpec {
  method: { id: string; config: Record<string, unknown>; rank: number | null };
  task: { id: string; config: Record<string, unknown> };
  model: { id: string; hash: string };
  seed: number;
  training: RunRecord['training'];
  /** Absent from fixed-300 specs (their run ids predate it). */
  protocol?: string;
  code_version: string;
}

type SpecFields = Pick<RunRecord, 'method' | 'task' | 'model' | 'seed'> & {
  training: Omit<RunRecord['training'], 'eval_every'> & { eval_every?: number };
  protocol?: string;
};

const STATED_MODEL_IDS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(RENAMED_MODELS).map(([stated, now]) => [now, stated]));

/**
 * The spec a record states; its canonical hash must be the record's run_id. A fixed-300 record
 * states no protocol and its model under the name it had then, whether read from disk or as the
 * reader labelled it (protocol `fixed-300`, model `naive`): both give the same spec.
 */
export function specOfRecord(record: SpecFields, codeVersion: string, evalEvery: number): RecordSpec {
  const { eval_every: _stored, ...training } = record.training;
  const legacy = record.protocol === undefined || record.protocol === LEGACY_PROTOCOL;
  return {
    method: { id: record.method.id, config: record.method.config, rank: record.method.rank },
    task: { id: record.task.id, config: record.task.config },
    model: { id: legacy ? (STATED_MODEL_IDS[record.model.id] ?? record.model.id) : record.model.id, hash: record.model.hash },
    seed: record.seed,
    training: { ...training, eval_every: evalEvery },
    ...(legacy ? {} : { protocol: record.protocol }),
    code_version: codeVersion,
  };
}

/**
 * A run's identity without its code version: the hash of its spec less `code_version`. The same run made
 * under another code version has the same key, so readers can tell which records are a grid's runs
 * (methods.json lists the leaderboard grid's keys) without resolving the grid.
 */
export function runKeyOf(spec: RecordSpec): string {
  const { code_version: _version, ...rest } = spec;
  return runIdOf(rest);
}

/** The run key of the run a record states (see runKeyOf). */
export function runKeyOfRecord(record: SpecFields): string {
  return runKeyOf(specOfRecord(record, '', record.training.eval_every ?? 0));
}

/**
 * What the reader shows of a record that states no protocol: the label `fixed-300`, and its model
 * under today's id (`default` -> `naive`), for display and grouping. Its spec, and so its run id, is
 * unchanged (specOfRecord maps both back).
 */
export function labelProtocol(record: RunRecord): RunRecord {
  if (record.protocol !== undefined) return record;
  return { ...record, protocol: LEGACY_PROTOCOL, model: { ...record.model, id: RENAMED_MODELS[record.model.id] ?? record.model.id } };
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 3).map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`);
  return shown.join('; ') + (issues.length > 3 ? ` (+${issues.length - 3} more)` : '');
}

/** Parses and verifies the text of one record file (never throws). */
export function verifyRecordText(file: string, text: string, options: VerifyOptions = {}): Verified {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { ok: false, message: `not valid JSON (${detail}); the file may be truncated or corrupt` };
  }
  return verifyRecord(file, json, options);
}

/**
 * Verifies one parsed record file. `file` is its path (only the base name is used: it must be
 * `<run_id>.json`). Schema-1 records are migrated to the current schema (code_version and
 * training.eval_every filled from the match that verified their run id; nothing else is invented).
 */
export function verifyRecord(file: string, json: unknown, options: VerifyOptions = {}): Verified {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || (!('schema_version' in json) && !('run_id' in json))) {
    return { ok: false, message: 'not a run record (no schema_version or run_id field); foreign JSON in the results directory' };
  }
  const version = (json as Record<string, unknown>).schema_version;
  const runId = (json as Record<string, unknown>).run_id;
  const name = basename(file);
  if (version !== 1 && version !== RECORD_SCHEMA_VERSION) {
    return { ok: false, message: `unsupported schema_version ${JSON.stringify(version)}; this reader understands versions 1 and ${RECORD_SCHEMA_VERSION}` };
  }
  // A file that is not named by its run_id can never stand in for that run (a shadow copy).
  if (typeof runId === 'string' && name !== `${runId}.json`) return { ok: false, message: `file name ${name} is not its run_id (${runId}.json)` };
  let record: RunRecord;
  if (version === RECORD_SCHEMA_VERSION) {
    const parsed = runRecord.safeParse(json);
    if (!parsed.success) return { ok: false, message: `invalid run record: ${describeIssues(parsed.error.issues)}` };
    record = parsed.data;
  } else {
    const parsed = runRecordV1.safeParse(json);
    if (!parsed.success) return { ok: false, message: `invalid run record: ${describeIssues(parsed.error.issues)}` };
    const badId = checkIds(parsed.data);
    if (badId) return { ok: false, message: badId };
    const legacy = legacySpecMatch(parsed.data);
    if (!legacy) {
      return {
        ok: false,
        message: `run_id ${parsed.data.run_id} is not the hash of the record's spec (schema-1 records verify against code version ${LEGACY_CODE_VERSIONS.join(', ')})`,
      };
    }
    record = {
      ...parsed.data,
      schema_version: RECORD_SCHEMA_VERSION,
      code_version: legacy.codeVersion,
      training: { ...parsed.data.training, eval_every: legacy.evalEvery },
    };
  }
  const problem = checkRecord(record, options);
  if (problem) return { ok: false, message: problem };
  return { ok: true, record: labelProtocol(record) };
}

function legacySpecMatch(record: SpecFields & { run_id: string }): { codeVersion: string; evalEvery: number } | null {
  for (const codeVersion of LEGACY_CODE_VERSIONS) {
    for (const evalEvery of LEGACY_EVAL_EVERY) {
      if (hashOf(specOfRecord(record, codeVersion, evalEvery)) === record.run_id) return { codeVersion, evalEvery };
    }
  }
  return null;
}

function hashOf(spec: RecordSpec): string | null {
  try {
    return runIdOf(spec);
  } catch {
    return null;
  }
}

/** The first thing wrong with a schema-valid record, or null. */
function checkRecord(record: RunRecord, options: VerifyOptions): string | null {
  const badId = checkIds(record);
  if (badId) return badId;

  const expected = hashOf(specOfRecord(record, record.code_version, record.training.eval_every));
  if (expected !== record.run_id) return `run_id ${record.run_id} is not the hash of the record's spec (${expected ?? 'unhashable spec'})`;

  const link = unsafeLink(record, '$');
  if (link) return link;
  return checkMetrics(record) ?? checkParams(record, options) ?? checkCost(record) ?? checkPerExample(record);
}

/** Ids become URL paths, file names and link targets on the site: safe slugs only. */
function checkIds(record: Pick<RunRecord, 'run_id' | 'method' | 'task' | 'model'>): string | null {
  if (!/^[0-9a-f]{20}$/.test(record.run_id)) return `run_id ${JSON.stringify(record.run_id)} is not 20 lowercase hex characters`;
  if (!SLUG.test(record.method.id)) return `method.id ${JSON.stringify(record.method.id)} is not a slug (letters, digits, '.', '_', '-')`;
  if (!SLUG.test(record.task.id)) return `task.id ${JSON.stringify(record.task.id)} is not a slug (letters, digits, '.', '_', '-')`;
  if (!SLUG.test(record.task.primary_metric)) return `task.primary_metric ${JSON.stringify(record.task.primary_metric)} is not a slug`;
  if (!MODEL_ID.test(record.model.id)) return `model.id ${JSON.stringify(record.model.id)} is not a slug (or dir:<folder> without path separators)`;
  if (!HEX.test(record.model.hash)) return `model.hash ${JSON.stringify(record.model.hash)} is not hex`;
  return null;
}

const LINK_KEY = /(^|_)(url|href|link)s?$/i;

/** Any string under a url/href/link key, anywhere in the record, must be an http(s) URL. */
function unsafeLink(value: unknown, where: string, key = ''): string | null {
  if (typeof value === 'string') {
    if (!LINK_KEY.test(key)) return null;
    return isHttpUrl(value) ? null : `${where} ${JSON.stringify(value.slice(0, 60))} is not an http(s) URL`;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const problem = unsafeLink(item, `${where}[${i}]`, key);
      if (problem) return problem;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, item] of Object.entries(value)) {
      const problem = unsafeLink(item, `${where}.${k}`, k);
      if (problem) return problem;
    }
  }
  return null;
}

export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Losses and perplexities are >= 0; every other task metric is a share or an F1, in [0, 1] (the task contract). */
function metricRange(name: string): 'loss' | 'unit' {
  return /loss|perplexity|ppl/i.test(name) ? 'loss' : 'unit';
}

function inRange(value: number, range: 'loss' | 'unit'): boolean {
  return Number.isFinite(value) && value >= 0 && (range === 'loss' || value <= 1);
}

function checkMetrics(record: RunRecord): string | null {
  const m = record.metrics;
  for (const split of ['valid', 'test'] as const) {
    for (const [name, value] of Object.entries(m[split])) {
      if (!SLUG.test(name)) return `metrics.${split} has a metric name ${JSON.stringify(name)} that is not a slug`;
      const range = metricRange(name);
      if (!inRange(value, range)) return `metrics.${split}.${name} = ${value} is outside ${range === 'unit' ? '[0, 1]' : '[0, inf)'}`;
    }
  }
  if (m.primary !== null) {
    if (!inRange(m.primary, metricRange(record.task.primary_metric))) return `metrics.primary = ${m.primary} is out of range`;
    const test = m.test[record.task.primary_metric];
    if (test !== undefined && test !== m.primary) return `metrics.primary = ${m.primary} is not the test ${record.task.primary_metric} (${test})`;
  }
  if (record.status === 'ok' && m.primary === null) return 'status is ok but metrics.primary is null';
  for (const key of ['base_lm_loss_before', 'base_lm_loss_after'] as const) {
    const value = m[key];
    if (value !== null && !inRange(value, 'loss')) return `metrics.${key} = ${value} is not a finite loss >= 0`;
  }
  for (const point of [...record.curves.train_loss, ...record.curves.valid_loss]) {
    if (!inRange(point.value, 'loss')) return `a loss curve point (step ${point.step}) = ${point.value} is not a finite loss >= 0`;
  }
  for (const point of record.curves.valid_metric) {
    if (!inRange(point.value, metricRange(record.task.primary_metric))) return `curves.valid_metric at step ${point.step} = ${point.value} is out of range`;
  }
  return null;
}

function checkParams(record: RunRecord, options: VerifyOptions): string | null {
  const { trainable, total, adapter_bytes, optimizer_state_bytes } = record.params;
  for (const [name, value] of Object.entries({ trainable, total, adapter_bytes, optimizer_state_bytes, 'model.params': record.model.params })) {
    if (!Number.isSafeInteger(value) || value < 0) return `params.${name} = ${value} is not a non-negative integer`;
  }
  if (trainable > total) return `params.trainable = ${trainable} exceeds params.total = ${total} (a share above 1)`;
  if (total < record.model.params) return `params.total = ${total} is below the base model's ${record.model.params} parameters`;
  // What a method adds to the base model is what it trains (frozen base + trained additions).
  if (total > record.model.params + trainable) {
    return `params.total = ${total} exceeds the base model's ${record.model.params} plus the ${trainable} trainable parameters`;
  }
  const known = options.knownModels?.get(record.model.hash);
  if (known !== undefined && known !== record.model.params) {
    return `model.params = ${record.model.params}, but the model with hash ${record.model.hash.slice(0, 12)}... has ${known} parameters`;
  }
  return null;
}

function checkCost(record: RunRecord): string | null {
  for (const [name, value] of Object.entries(record.cost)) {
    if (!Number.isFinite(value) || value < 0) return `cost.${name} = ${value} is not a finite number >= 0`;
  }
  return null;
}

/** Per-example test scores: one entry per test example, 0/1 or in range, and their mean is the reported metric. */
function checkPerExample(record: RunRecord): string | null {
  const per = record.test_examples;
  if (!per) return null;
  for (const [name, scores] of Object.entries(per.scores)) {
    const values = decodeScores(scores);
    if (values.length !== per.n) return `test_examples.scores.${name} has ${values.length} entries, expected n = ${per.n}`;
    const range = metricRange(name);
    if (values.some((v) => !inRange(v, range))) return `test_examples.scores.${name} has a value out of range`;
    const reported = record.metrics.test[name];
    if (reported === undefined) return `test_examples.scores.${name} has no metrics.test.${name} beside it`;
    const mean = values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
    // Continuous scores are rounded to 4 decimals, so their mean may differ by at most 5e-5.
    if (Math.abs(mean - reported) > 1e-4) return `test_examples.scores.${name} average to ${mean}, but metrics.test.${name} is ${reported}`;
  }
  return null;
}

/** '0110...' (0/1 metrics) or an array of numbers -> numbers. */
export function decodeScores(scores: string | number[]): number[] {
  return typeof scores === 'string' ? [...scores].map(Number) : scores;
}
