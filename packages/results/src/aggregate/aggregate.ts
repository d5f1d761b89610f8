// Aggregation: run records -> the numbers the leaderboard shows. Pure TS (no tensors), deterministic.
// A "configuration" is everything about a run except its seed: method config and rank, training settings,
// task knobs and base model. Statistics over seeds are taken per (method, configuration, task) from runs with
// status ok; diverged and failed runs are counted beside them, never averaged in.
// Records of different training protocols or base models are never pooled: one aggregation covers
// one scope (protocol x model), by default the default protocol on the default model where it has
// records, else the one with the most (see defaultScope).
import { LEGACY_PROTOCOL, type RunRecord, type RunStatus } from '../record/schema.ts';
import { readRecords, type RecordProblem } from '../record/read.ts';
import { metricInfo, isBetter, isWithin, type Direction } from './metrics.ts';
import { mean, sampleStd, paretoFrontier, canonicalJson } from './stats.ts';
import { selectOnValid, type Candidate } from '../stats/selection.ts';
import { seedOnlyInterval, type Interval } from '../stats/summary.ts';
import { bootstrapInterval, resamplePlan, tiedWithBest, type ResamplePlan, type SeedScores } from '../stats/bootstrap.ts';
import { decodeScores, runKeyOfRecord } from '../record/verify.ts';
import { defaultLr, defaultScopeIds, isBaseline, methodInfo, protocolTraining } from '../methods.ts';
import { discriminability, type Discriminability, type MethodSeedScores } from '../stats/discriminability.ts';
import { collectAnalysis, emptyAnalysis, type AnalysisData } from './analysis.ts';
import { complementFindings, overlapGroups, subspaceGroups, type ComplementFindings, type OverlapGroup, type SubspaceGroup } from './subspace.ts';

/** The share of a learning-rate grid counted as "good" is the share within this fraction of the best. */
export const LR_NEAR_BEST_FRACTION = 0.95;
/** Methods shown as reference rows rather than competitors. */

export const AGGREGATE_FORMAT_VERSION = 1;
/** Heatmap paths that compare an update with the pretrained weight rather than with another update. */
export const OVERLAP_WITH_W = /pretrain|overlap/i;

export interface SeedStats {
  /** Runs with status ok and a primary metric: the sample the statistics are over. */
  n: number;
  mean: number | null;
  /** Sample std (n-1). 0 when n = 1: a single seed gives no spread estimate (`stdFromOneSeed` says so). */
  std: number | null;
  stdFromOneSeed: boolean;
  min: number | null;
  max: number | null;
  values: number[];
  seeds: number[];
}

export interface TaskInfo {
  id: string;
  tier: 'synthetic' | 'real';
  family: 'simple' | 'reasoning';
  primaryMetric: string;
  direction: Direction;
  metricDescription: string;
}

/** A method as the records show it (title, paper and description as its records state them). */
export interface MethodSummary {
  id: string;
  family: string;
  title: string | null;
  paper: { title: string; url: string; year?: number } | null;
  description: string | null;
  isBaseline: boolean;
  /** Where the method is defined in the repository. */
  folder: string;
  runCount: number;
  /** The configuration fields that vary across this method's runs (what the config labels show). */
  varyingFields: string[];
}

export interface ConfigGroup {
  method: string;
  family: string;
  task: string;
  configKey: string;
  /** Short label naming only the fields that vary for this method, e.g. "r=64, lr=0.001". */
  configLabel: string;
  /** The flattened configuration: method hyperparameters, rank, training settings (lr, steps, ...). */
  config: Record<string, unknown>;
  rank: number | null;
  lr: number;
  stats: SeedStats;
  /** The primary metric on the validation split over the same ok runs: what selection looks at. */
  validStats: SeedStats;
  /**
   * Scored post hoc from another run's trained adapter (0 training steps), e.g. an SVD slice or the complement of
   * an r=64 update. Its trainable count is 0 but it stores a sliced adapter, so it is left out of the leaderboard
   * and the Pareto frontier and shown only in its study.
   */
  derived: boolean;
  /**
   * Trained with a batch size or maximum steps other than its protocol's (a study of the protocol itself,
   * such as study-batch-size): shown in its study, not a leaderboard candidate, as the protocol is what
   * every method is compared under.
   */
  protocolVariant: boolean;
  /** Trained at its protocol's batch size and steps: its label leaves them out (shortLabels). */
  atProtocol: boolean;
  /**
   * 95% interval of the test mean: a paired bootstrap over test examples and seeds when every run carries
   * per-example scores on the same test set, else a t interval over seed means ('seeds-only'; null with one seed).
   */
  ci95: [number, number] | null;
  intervalKind: 'paired-bootstrap' | 'seeds-only' | null;
  counts: Record<RunStatus, number> & { total: number };
  runIds: string[];
  /**
   * Parameter accounting: what it trains (trainable), what it stores (adapterBytes on disk) and what it adds to the
   * deployed model (addedAtInference: 0 for updates that merge into the base weights or tune them in place, its
   * trainable parameters for extra modules or tokens; null for a method no longer registered).
   */
  params: { trainable: number; total: number; share: number; adapterBytes: number; optimizerStateBytes: number; addedAtInference: number | null };
  cost: { trainSeconds: number | null; evalSeconds: number | null; tokensPerS: number | null; peakMemoryBytes: number | null };
  /** Mean over ok runs of base LM loss after - before (positive = the base skill got worse). */
  forgetting: number | null;
  lossSpikes: { total: number; meanPerRun: number | null };
  /**
   * How training ended, over the finished runs that record it (converge-protocol records): steps to the
   * best checkpoint on valid (the convergence metric), steps taken, and why runs stopped. Null for
   * records made before early stopping.
   */
  convergence: { stepsToBest: SeedStats; stepsTaken: SeedStats; stopped: Record<string, number> } | null;
}

export interface LrPoint {
  lr: number;
  /** Mean at this learning rate of the configuration followed across the grid; null when none of its runs finished ok. */
  score: number | null;
  configKey: string | null;
  runs: number;
  diverged: number;
}

export interface MethodTaskSummary {
  method: string;
  family: string;
  task: string;
  taskFamily: 'simple' | 'reasoning';
  /**
   * The configuration the leaderboard reports: chosen by its mean primary metric on the validation split
   * (never on test), then reported on test. Null when no configuration has an ok run with a valid score.
   */
  bestConfigKey: string | null;
  bestConfigLabel: string | null;
  best: SeedStats | null;
  bestLr: number | null;
  bestTrainable: number | null;
  /** The chosen configuration's parameter accounting (ConfigGroup.params). */
  bestParams: ConfigGroup['params'] | null;
  /** Mean steps to the best checkpoint on valid of the chosen configuration (converge records; null otherwise). */
  bestStepsToBest: number | null;
  lrGrid: LrPoint[];
  /** Share of the lr grid within 95% of the grid's best score; null when fewer than two learning rates were run. */
  lrNearBestShare: number | null;
  runs: number;
  ok: number;
  diverged: number;
  failed: number;
  /** diverged / (ok + diverged); failed runs (crashes) are not a training outcome and are left out. */
  divergenceRate: number | null;
  lossSpikes: { total: number; meanPerRun: number | null };
  /** Spread over seeds of the best configuration (same as best.std), for the stability table. */
  seedStd: number | null;
  /** Always 'valid': the split the reported configuration was chosen on. */
  selectedOn: 'valid';
  /** How many configurations were searched (those with a validation score). */
  nConfigs: number;
  /** The chosen configuration's mean primary metric on valid. */
  validMean: number | null;
  /**
   * 95% interval of the reported test mean. 'seeds-only' is a t interval over seed means (records without
   * per-example scores); null with fewer than two seeds.
   */
  ci95: [number, number] | null;
  intervalKind: 'paired-bootstrap' | 'seeds-only' | null;
  /** Best reported test mean among the task's non-baseline methods. */
  isBest: boolean;
  /**
   * Statistically tied with the task's best non-baseline method: by the paired bootstrap of the difference when
   * both carry per-example scores on the same test examples and seeds, else when either interval reaches the other's mean.
   */
  tiedWithBest: boolean;
}

/** A method at its documented defaults (default config and rank, lr factor 1): no search, nothing chosen. */
export interface DefaultsCell {
  method: string;
  task: string;
  configKey: string;
  configLabel: string;
  stats: SeedStats;
  ci95: [number, number] | null;
  intervalKind: 'paired-bootstrap' | 'seeds-only' | null;
  trainable: number;
  params: ConfigGroup['params'];
}

export interface RankPoint {
  method: string;
  /** The chart series: the method for its main configuration, e.g. "lora (use_rslora=true)" for another sweep. */
  series: string;
  /** "" for the main configuration, else the fields that set this sweep apart. */
  variant: string;
  task: string;
  taskFamily: 'simple' | 'reasoning';
  rank: number;
  configKey: string;
  configLabel: string;
  /** Null where every run of the configuration diverged: the point is kept, since that is the answer there. */
  mean: number | null;
  std: number | null;
  n: number;
  /** Runs of the configuration that diverged, and all its runs. */
  diverged: number;
  runs: number;
}

export interface ParetoPoint {
  task: string;
  method: string;
  family: string;
  configKey: string;
  configLabel: string;
  trainable: number;
  mean: number;
  std: number;
  n: number;
  /** 95% interval of the mean (the configuration's ci95), for error bars; null with one seed and no per-example scores. */
  ci95: [number, number] | null;
  frontier: boolean;
}

export interface NCurvePoint {
  task: string;
  method: string;
  n: number;
  mean: number;
  std: number;
  runs: number;
}

export interface ComplementRow {
  task: string;
  /** Best lora configuration at rank 8 and at rank 64, and the lora-complement runs (all configs). */
  lora8: SeedStats | null;
  lora64: SeedStats | null;
  /** Per lora-complement configuration: its score and the means of its runs' `analysis.complement` (null when absent). */
  complement: { configLabel: string; stats: SeedStats; findings: ComplementFindings | null }[];
}

export interface RunSummary {
  runId: string;
  /** The run's id without its code version (record/verify.ts runKeyOf): how the site finds a grid's runs. */
  runKey: string;
  status: RunStatus;
  reason: string | null;
  method: string;
  family: string;
  task: string;
  taskFamily: 'simple' | 'reasoning';
  seed: number;
  rank: number | null;
  lr: number;
  configKey: string;
  configLabel: string;
  primary: number | null;
  trainable: number;
  trainSeconds: number;
  startedAt: string;
}

export interface ProvenanceSummary {
  backends: { name: string; accelerated: boolean; runs: number }[];
  cpus: string[];
  gpus: string[];
  models: { id: string; hash: string; params: number }[];
  versions: Record<string, string[]>;
  gitCommits: string[];
  dirtyRuns: number;
  totalTrainSeconds: number;
  totalEvalSeconds: number;
  firstStarted: string | null;
  lastFinished: string | null;
}

/** The records one aggregation covers: one training protocol on one base model (id and checkpoint hash). */
export interface Scope {
  protocol: string;
  model: string;
  modelHash: string;
}

export interface ScopeCount extends Scope {
  runs: number;
}

export interface Aggregated {
  formatVersion: number;
  /** The protocol and model every number below is about. */
  scope: Scope | null;
  /** Every scope in the records with its run count (the others are aggregated with `--protocol` and `--model`). */
  scopes: ScopeCount[];
  recordCount: number;
  problems: RecordProblem[];
  tasks: TaskInfo[];
  methods: MethodSummary[];
  runs: RunSummary[];
  groups: ConfigGroup[];
  methodTask: MethodTaskSummary[];
  /** Each method at its defaults, where its records have that configuration (the "defaults" view). */
  defaults: DefaultsCell[];
  rankCurves: RankPoint[];
  pareto: ParetoPoint[];
  lnCurve: NCurvePoint[];
  complement: ComplementRow[];
  analysis: AnalysisData;
  /** Fig. 3 grids between two updates (analysis.subspaceSimilarity), averaged over seeds per task and compared pair. */
  subspace: SubspaceGroup[];
  /** Overlap of the updates with the pretrained W, averaged per task, method and rank. */
  overlapW: OverlapGroup[];
  provenance: ProvenanceSummary;
}

/** Config values naming another run's kept adapter, as the runner writes them (`run:<run_id>`). */
const RUN_REFERENCE = /^run:([0-9a-f]{16,64})$/;

/** FNV-1a, 32 bits, hex: a short stable tag that tells configurations apart in labels. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0').slice(0, 6);
}

/**
 * Flattens what defines a configuration (everything but the seed) into one level of named fields. A
 * `run:<id>` value names the adapter of a run on the same task and seed, so it differs per seed; it is
 * replaced by that run's method, rank and configuration (e.g. "lora r=8 run #1a2b3c"), so the seeds of one
 * configuration group together. A reference to a run not in the records is kept as it is.
 */
function configFields(r: RunRecord, describeRun: (id: string) => string | null): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.method.config)) {
    const ref = typeof v === 'string' ? RUN_REFERENCE.exec(v) : null;
    fields[k] = ref ? (describeRun(ref[1]!) ?? v) : v;
  }
  // The rank usually already sits in the config under the field it sets (r, n, bottleneck): add it only if not.
  const rank = r.method.rank;
  if (rank !== null && !Object.values(fields).some((v) => v === rank)) fields.rank = rank;
  const t = r.training;
  Object.assign(fields, {
    lr: t.lr, steps: t.steps, batch_size: t.batch_size, micro_batch_size: t.micro_batch_size, schedule: t.schedule,
    warmup_steps: t.warmup_steps, weight_decay: t.weight_decay, grad_clip: t.grad_clip, max_seq_len: t.max_seq_len,
  });
  for (const [k, v] of Object.entries(r.task.config)) fields[`task.${k}`] = v;
  fields.model = `${r.model.id}@${r.model.hash}`;
  return fields;
}

/** Fields given first in labels, because they are what readers compare. */
const LABEL_ORDER = ['r', 'rank', 'n', 'lr'];

/**
 * Training fields a label leaves out for a configuration trained at the protocol's settings: the leaderboard's
 * runs read "r=8, lr=0.005", and only a study's run at another batch size or step budget names them.
 */
export const PROTOCOL_TRAINING_FIELDS: readonly string[] = ['batch_size', 'micro_batch_size', 'steps'];

/**
 * Labels for one method's configurations on one task, by key: `keys` (the fields that vary) as `k=v`, minus
 * PROTOCOL_TRAINING_FIELDS where a configuration is at the protocol's settings; if that would give two
 * configurations the same label, every label keeps every key.
 */
export function shortLabels(configs: readonly { key: string; config: Record<string, unknown>; atProtocol: boolean }[], keys: readonly string[]): Map<string, string> {
  const label = (config: Record<string, unknown>, shown: readonly string[]) => {
    const parts = shown.filter((k) => k in config).map((k) => `${k}=${formatValue(config[k])}`);
    return parts.length ? parts.join(', ') : 'default';
  };
  const short = configs.map((c) => label(c.config, c.atProtocol ? keys.filter((k) => !PROTOCOL_TRAINING_FIELDS.includes(k)) : keys));
  const unique = new Set(short).size === short.length;
  return new Map(configs.map((c, i) => [c.key, unique ? short[i]! : label(c.config, keys)]));
}

function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
  if (typeof v === 'string') return v === '' ? 'none' : v;
  // A list as the CLI takes it (--set target_modules=q,v).
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(',');
  return JSON.stringify(v);
}

function statsOf(values: { value: number; seed: number }[]): SeedStats {
  const vals = values.map((v) => v.value);
  return {
    n: vals.length,
    mean: mean(vals),
    std: sampleStd(vals),
    stdFromOneSeed: vals.length === 1,
    min: vals.length ? Math.min(...vals) : null,
    max: vals.length ? Math.max(...vals) : null,
    values: vals,
    seeds: values.map((v) => v.seed),
  };
}

function meanOf(records: RunRecord[], pick: (r: RunRecord) => number | null): number | null {
  return mean(records.map(pick).filter((v): v is number => v !== null && Number.isFinite(v)));
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Picks the better of two stats under a direction; ties keep the first (deterministic input order). */
/**
 * Per task, marks the best non-baseline method and those statistically tied with it: a method is tied when
 * its interval reaches the best mean, or the best's interval reaches its mean. With seed-only intervals this
 * is a conservative overlap rule; a paired bootstrap over test examples replaces it where records carry
 * per-example scores.
 */
function markBestAndTies(rows: MethodTaskSummary[], directionOf: (task: string) => Direction, perExample: ReadonlyMap<MethodTaskSummary, PerExample>): void {
  for (const taskRows of groupBy(rows, (r) => r.task).values()) {
    const direction = directionOf(taskRows[0]!.task);
    const competitors = taskRows.filter((r) => !isBaseline(r.method) && r.best?.mean != null);
    let top: MethodTaskSummary | null = null;
    for (const r of competitors) if (top === null || isBetter(direction, r.best!.mean as number, top.best!.mean as number)) top = r;
    if (!top) continue;
    const topMean = top.best!.mean as number;
    top.isBest = true;
    top.tiedWithBest = true;
    const topScores = perExample.get(top);
    for (const r of competitors) {
      if (r === top) continue;
      const m = r.best!.mean as number;
      const scores = perExample.get(r);
      if (topScores && scores && pairable(topScores, scores)) {
        r.tiedWithBest = m === topMean || tiedWithBest(topScores.runs, scores.runs, planFor(scores), direction);
        continue;
      }
      const reaches = (ci: [number, number] | null, value: number) => ci !== null && ci[0] <= value && value <= ci[1];
      r.tiedWithBest = m === topMean || reaches(r.ci95, topMean) || reaches(top.ci95, m);
    }
  }
}

/** A configuration's per-example test scores of its primary metric, one entry per ok seed, on one test set. */
interface PerExample {
  idsHash: string;
  runs: SeedScores[];
}

/** The per-example scores of a group's ok runs, or null when any lacks them (schema-1 records) or they differ in test set. */
function perExampleOf(group: ConfigGroup, byId: ReadonlyMap<string, RunRecord>, metric: string): PerExample | null {
  const runs: SeedScores[] = [];
  let idsHash: string | null = null;
  for (const id of group.runIds) {
    const r = byId.get(id);
    if (!r || r.status !== 'ok' || r.metrics.primary === null) continue;
    const per = r.test_examples;
    const scores = per?.scores[metric];
    if (!per || scores === undefined || per.n === 0) return null;
    if (idsHash !== null && per.ids_hash !== idsHash) return null;
    idsHash = per.ids_hash;
    runs.push({ seed: r.seed, scores: decodeScores(scores) });
  }
  if (idsHash === null || runs.length === 0 || new Set(runs.map((x) => x.seed)).size !== runs.length) return null;
  return { idsHash, runs };
}

/** Same test examples and the same seeds: the bootstrap can draw both cells from one plan. */
function pairable(a: PerExample, b: PerExample): boolean {
  const seeds = (x: PerExample) => x.runs.map((r) => r.seed).sort((p, q) => p - q).join(',');
  return a.idsHash === b.idsHash && seeds(a) === seeds(b);
}

const plans = new Map<string, ResamplePlan>();
/** One plan per shape (examples x seeds), shared by every cell of that shape, so cells are paired. */
function planFor(p: PerExample): ResamplePlan {
  const key = `${p.runs[0]!.scores.length}x${p.runs.length}`;
  let plan = plans.get(key);
  if (!plan) plans.set(key, (plan = resamplePlan(p.runs[0]!.scores.length, p.runs.length)));
  return plan;
}

/** 95% interval of a configuration's test mean: paired bootstrap where its records carry per-example scores, else over seed means. */
function intervalOf(group: ConfigGroup, perExample: PerExample | null): Interval | null {
  return perExample ? bootstrapInterval(perExample.runs, planFor(perExample)) : seedOnlyInterval(group.stats.values);
}

/** Parameters the deployed model carries beyond the base: see ConfigGroup.params. */
function addedAtInference(method: string, trainable: number): number | null {
  const info = methodInfo(method);
  if (!info) return null;
  return info.atInference === 'added' ? trainable : 0;
}

/** Every hyperparameter at its documented default and the learning rate at the method's default for the model and protocol. */
function isDefaultConfig(g: ConfigGroup, hyperparameters: readonly { name: string; default: unknown }[], protocol: string): boolean {
  const model = String(g.config.model ?? 'default').split('@')[0]!;
  const lr = defaultLr(model, g.method, protocol);
  if (Math.abs(g.lr - lr) > 1e-6 * lr) return false;
  return hyperparameters.every((h) => canonicalJson(g.config[h.name] ?? null) === canonicalJson(h.default ?? null));
}

function betterStats(direction: Direction, a: SeedStats | null, b: SeedStats | null): boolean {
  if (b === null || b.mean === null) return false;
  if (a === null || a.mean === null) return true;
  return isBetter(direction, b.mean, a.mean);
}

/** Points a configuration needs along an axis to be drawn as a curve (two would be a pair, e.g. PiSSA at r=8 and 64). */
const MIN_SWEEP_POINTS = 3;

/** One configuration followed along an axis (rank or lr): its groups, and how it differs from the main one. */
interface Curve {
  groups: ConfigGroup[];
  /** "" for the method's main curve, else the fields that set it apart, e.g. "use_rslora=true". */
  variant: string;
}

/**
 * Per (method, task): curves along one axis (rank or lr). The axis's own fields are dropped from each
 * configuration; each configuration left that was run at MIN_SWEEP_POINTS or more points is a curve of its own. The main
 * curve is the method's default configuration where it was run (`atDefaults`; so a variant swept more widely so far,
 * such as LoRA on q,v, stays a variant); otherwise the one run at the most points, then the most typical (most fields at the value most runs of the
 * method used: the defaults, not a variant swept as widely), then the one with more runs. Following whole
 * configurations keeps a best-of-several pick at one point (a learning-rate grid or init variants at r=8) from
 * lifting that point. Points the main curve lacks take the best configuration there that is on no other curve.
 */
function curvesAlong(
  groups: readonly ConfigGroup[], axis: (g: ConfigGroup) => number, axisFields: (ofMethod: ConfigGroup[]) => string[],
  directionOf: (task: string) => Direction,
  atDefaults: (g: ConfigGroup, axisFields: readonly string[]) => boolean = () => false,
): Map<string, Curve[]> {
  const out = new Map<string, Curve[]>();
  for (const ofMethod of groupBy(groups, (g) => g.method).values()) {
    const dropped = axisFields(ofMethod);
    const rest = (g: ConfigGroup) => Object.fromEntries(Object.entries(g.config).filter(([k]) => !dropped.includes(k)));
    // The value of each field that most of the method's runs used.
    const votes = new Map<string, Map<string, number>>();
    for (const g of ofMethod) {
      for (const [k, v] of Object.entries(rest(g))) {
        const byValue = votes.get(k) ?? new Map<string, number>();
        byValue.set(canonicalJson(v), (byValue.get(canonicalJson(v)) ?? 0) + g.counts.total);
        votes.set(k, byValue);
      }
    }
    const modal = new Map([...votes].map(([k, byValue]) => [k, [...byValue].sort((a, b) => b[1] - a[1] || byString(a[0], b[0]))[0][0]]));
    const typicality = (g: ConfigGroup) => Object.entries(rest(g)).filter(([k, v]) => modal.get(k) === canonicalJson(v)).length;
    for (const ofTask of groupBy(ofMethod, (g) => g.task).values()) {
      const direction = directionOf(ofTask[0].task);
      const candidates = [...groupBy(ofTask, (g) => canonicalJson(rest(g))).entries()].map(([key, gs]) => ({
        key, gs,
        points: new Set(gs.map(axis)).size,
        defaults: atDefaults(gs[0], dropped),
        typical: typicality(gs[0]),
        runs: gs.reduce((s, g) => s + g.counts.total, 0),
      }));
      candidates.sort((a, b) => Number(b.defaults) - Number(a.defaults) || b.points - a.points || b.typical - a.typical || b.runs - a.runs || byString(a.key, b.key));
      const [main, ...others] = candidates;
      const sweeps = others.filter((c) => c.points >= MIN_SWEEP_POINTS);
      const mainGroups = new Map(main.gs.map((g) => [axis(g), g]));
      // Points the main curve lacks: the configuration there, among the one-off ones, that is best on valid.
      for (const c of others.filter((x) => x.points < MIN_SWEEP_POINTS)) {
        for (const g of c.gs) {
          const held = mainGroups.get(axis(g));
          if (!held || (!main.gs.includes(held) && betterStats(direction, held.validStats, g.validStats))) mainGroups.set(axis(g), g);
        }
      }
      const mainRest = rest(main.gs[0]);
      const variantOf = (g: ConfigGroup) => Object.entries(rest(g))
        .filter(([k, v]) => canonicalJson(v) !== canonicalJson(mainRest[k]))
        .map(([k, v]) => `${k}=${formatValue(v)}`).join(', ');
      out.set(`${ofTask[0].method}\u0000${ofTask[0].task}`, [
        { groups: [...mainGroups.values()], variant: '' },
        ...sweeps.map((c) => ({ groups: c.gs, variant: variantOf(c.gs[0]) })),
      ]);
    }
  }
  return out;
}

/** The main curves as one map from (method, task, axis value) to its group. */
function mainPoints(curves: Map<string, Curve[]>, axis: (g: ConfigGroup) => number): Map<string, ConfigGroup> {
  const out = new Map<string, ConfigGroup>();
  for (const [main] of curves.values()) for (const g of main.groups) out.set(curveKey(g.method, g.task, axis(g)), g);
  return out;
}

const curveKey = (method: string, task: string, at: number) => `${method}\u0000${task}\u0000${at}`;

/** A method's rank fields (r, n, bottleneck): the config fields equal to the rank in every ranked group. */
function rankFields(ofMethod: ConfigGroup[]): string[] {
  const keys = new Set(ofMethod.flatMap((g) => Object.keys(g.config)));
  return [...keys].filter((k) => ofMethod.every((g) => g.config[k] === g.rank));
}

/** Steps to best, steps taken and stop reasons over the runs that record how training ended. */
function convergenceOf(runs: RunRecord[]): ConfigGroup['convergence'] {
  const recorded = runs.filter((r) => r.convergence !== undefined);
  if (recorded.length === 0) return null;
  const stopped: Record<string, number> = {};
  for (const r of recorded) stopped[r.convergence!.stopped] = (stopped[r.convergence!.stopped] ?? 0) + 1;
  return {
    stepsToBest: statsOf(recorded.map((r) => ({ value: r.convergence!.best_step, seed: r.seed }))),
    stepsTaken: statsOf(recorded.map((r) => ({ value: r.convergence!.steps, seed: r.seed }))),
    stopped,
  };
}

/**
 * Per task, how well the methods separate (packages/results discriminability): each parameter-efficient
 * method at r=8 where it was run at r=8, else over all its configurations (rank-less methods, and grids
 * without r=8), the configuration chosen on valid, its seed scores on test. Baselines and post-hoc
 * configurations are left out.
 */
export function discriminabilityByTask(agg: Aggregated): Record<string, Discriminability> {
  const out: Record<string, Discriminability> = {};
  for (const task of agg.tasks) {
    const scores: MethodSeedScores[] = [];
    for (const [method, groups] of groupBy(agg.groups.filter((g) => g.task === task.id && isLeaderboardCandidate(g) && !isBaseline(g.method)), (g) => g.method)) {
      const atRank8 = groups.filter((g) => g.rank === 8);
      const pool = atRank8.length > 0 ? atRank8 : groups;
      const chosen = selectOnValid(pool.filter((g) => g.stats.n > 0).map(groupCandidate), task.direction);
      if (chosen) scores.push({ method, values: chosen.chosen.item.stats.values });
    }
    out[task.id] = discriminability(scores);
  }
  return out;
}

/** A configuration as selection on valid sees it: its key, validation mean and seeds. */
export function groupCandidate(g: ConfigGroup): Candidate<ConfigGroup> {
  return { key: g.configKey, valid: g.validStats.mean, seeds: g.stats.n, item: g };
}

/** Whether a configuration competes for the leaderboard: trained (not post hoc) under the protocol's own batch size and steps. */
export function isLeaderboardCandidate(g: Pick<ConfigGroup, 'derived' | 'protocolVariant'>): boolean {
  return !g.derived && !g.protocolVariant;
}

type ProtocolTraining = { batch_size: number; steps: number };
const trainsAs = (r: RunRecord, t: ProtocolTraining) => r.training.batch_size === t.batch_size && r.training.steps === t.steps;

/**
 * The batch size and maximum steps of the scope's protocol on its model, against which a configuration is a
 * protocol variant (ConfigGroup.protocolVariant); null, so that nothing is a variant, when none of the
 * scope's trained runs uses them (records made with settings of their own, as tests make).
 */
function scopeTraining(inScope: readonly RunRecord[], scope: Scope | null): ProtocolTraining | null {
  if (!scope) return null;
  const expected = protocolTraining(scope.model, scope.protocol);
  return expected && inScope.some((r) => trainsAs(r, expected)) ? expected : null;
}

/** A record's protocol: records read through the reader carry it; a record that states none is fixed-300. */
export function protocolOf(r: Pick<RunRecord, 'protocol'>): string {
  return r.protocol ?? LEGACY_PROTOCOL;
}

function scopeKey(s: Scope): string {
  return `${s.protocol}\u0000${s.model}\u0000${s.modelHash}`;
}

function scopeOf(r: RunRecord): Scope {
  return { protocol: protocolOf(r), model: r.model.id, modelHash: r.model.hash };
}

/** Every scope in the records with its run count, the largest first (ties by protocol, then model). */
export function scopesOf(records: readonly RunRecord[]): ScopeCount[] {
  return [...groupBy(records, (r) => scopeKey(scopeOf(r))).values()]
    .map((rs) => ({ ...scopeOf(rs[0]!), runs: rs.length }))
    .sort((a, b) => b.runs - a.runs || byString(a.protocol, b.protocol) || byString(a.model, b.model) || byString(a.modelHash, b.modelHash));
}

/**
 * The scope aggregated when none is asked for: the default protocol on the default model (the
 * bench's defaults, `defaultScopeIds`) whenever it has records, so the published leaderboard is
 * that of the current grid even while it is incomplete; else the scope with the most records.
 * Among several checkpoints of the default model, the one with the most records.
 */
export function defaultScope(records: readonly RunRecord[], ids: { protocol: string; model: string } = defaultScopeIds()): Scope | null {
  const scopes = scopesOf(records);
  const first = scopes.find((s) => s.protocol === ids.protocol && s.model === ids.model) ?? scopes[0];
  return first ? { protocol: first.protocol, model: first.model, modelHash: first.modelHash } : null;
}

/**
 * One record per seed: the latest finished. The same configuration and seed recorded twice (a spec
 * re-run under a newer code version has a new run id) is one measurement, not two seeds; counting
 * both would shrink the spread and inflate n.
 */
export function latestPerSeed(runs: readonly RunRecord[]): RunRecord[] {
  const bySeed = new Map<number, RunRecord>();
  for (const r of runs) {
    const kept = bySeed.get(r.seed);
    if (!kept || r.provenance.finished_at > kept.provenance.finished_at) bySeed.set(r.seed, r);
  }
  return runs.filter((r) => bySeed.get(r.seed) === r);
}

/** The scope with the most records (ties by protocol, then model). */
export function primaryScope(records: readonly RunRecord[]): Scope | null {
  const first = scopesOf(records)[0];
  return first ? { protocol: first.protocol, model: first.model, modelHash: first.modelHash } : null;
}

/**
 * Aggregates the records of one scope: `scope` (a protocol and a model id, optionally its hash), or
 * the default scope. A partial choice (only `protocol` or only `model`) fills the other part with the
 * default where that has records, else takes the scope with the most.
 * Records of other scopes are left out, never pooled.
 */
export function aggregate(
  records: readonly RunRecord[],
  problems: RecordProblem[] = [],
  want: { protocol?: string; model?: string; modelHash?: string } = {},
): Aggregated {
  const scopes = scopesOf(records);
  const matching = scopes.filter((s) =>
    (want.protocol === undefined || s.protocol === want.protocol) && (want.model === undefined || s.model === want.model) && (want.modelHash === undefined || s.modelHash === want.modelHash));
  const ids = defaultScopeIds();
  const chosen = matching.find((s) => s.protocol === (want.protocol ?? ids.protocol) && s.model === (want.model ?? ids.model))
    ?? matching[0] ?? null;
  const scope: Scope | null = chosen ? { protocol: chosen.protocol, model: chosen.model, modelHash: chosen.modelHash } : null;
  const inScope = scope ? records.filter((r) => scopeKey(scopeOf(r)) === scopeKey(scope)) : [];
  const sorted = [...inScope].sort((a, b) => byString(a.run_id, b.run_id));
  const protocolSettings = scopeTraining(inScope, scope);

  // Tasks: first record's metadata wins; simple before reasoning, then by id.
  const taskMap = new Map<string, TaskInfo>();
  for (const r of sorted) {
    if (taskMap.has(r.task.id)) continue;
    const info = metricInfo(r.task.primary_metric);
    taskMap.set(r.task.id, {
      id: r.task.id, tier: r.task.tier, family: r.task.family, primaryMetric: r.task.primary_metric,
      direction: info.direction, metricDescription: info.description,
    });
  }
  const tasks = [...taskMap.values()].sort((a, b) =>
    a.family === b.family ? byString(a.id, b.id) : a.family === 'simple' ? -1 : 1);
  const directionOf = (task: string): Direction => taskMap.get(task)?.direction ?? 'higher';

  // Configuration keys and the fields that vary per method (for short labels).
  const byId = new Map(sorted.map((r) => [r.run_id, r]));
  const described = new Map<string, string | null>();
  const describeRun = (id: string): string | null => {
    if (described.has(id)) return described.get(id)!;
    described.set(id, null); // a reference cycle ends here instead of recursing forever
    const ref = byId.get(id);
    const text = ref ? `${ref.method.id}${ref.method.rank !== null ? ` r=${ref.method.rank}` : ''} run #${shortHash(canonicalJson(configFields(ref, describeRun)))}` : null;
    described.set(id, text);
    return text;
  };
  const fieldsByRun = new Map(sorted.map((r) => [r.run_id, configFields(r, describeRun)]));
  const keyByRun = new Map(sorted.map((r) => [r.run_id, canonicalJson(fieldsByRun.get(r.run_id))]));
  // The fields that vary, per method and per (method, task): task knobs differ between tasks but are constant
  // within one, so a label names them only where they vary for the same task.
  const varyingFieldsOf = (runs: RunRecord[]): string[] => {
    const seen = new Map<string, Set<string>>();
    for (const r of runs) {
      for (const [k, v] of Object.entries(fieldsByRun.get(r.run_id)!)) {
        if (!seen.has(k)) seen.set(k, new Set());
        seen.get(k)!.add(canonicalJson(v));
      }
    }
    const varying = [...seen.entries()]
      .filter(([k, values]) => values.size > 1 || runs.some((r) => !(k in fieldsByRun.get(r.run_id)!)))
      .map(([k]) => k);
    const order = (k: string) => (LABEL_ORDER.includes(k) ? LABEL_ORDER.indexOf(k) : LABEL_ORDER.length);
    varying.sort((a, b) => order(a) - order(b) || byString(a, b));
    return varying;
  };
  const varyingByMethod = new Map<string, string[]>();
  for (const [methodId, runs] of groupBy(sorted, (r) => r.method.id)) {
    varyingByMethod.set(methodId, varyingFieldsOf(runs).filter((k) => !k.startsWith('task.')));
  }
  const varyingByMethodTask = new Map<string, string[]>();
  for (const [key, runs] of groupBy(sorted, (r) => `${r.method.id}\u0000${r.task.id}`)) varyingByMethodTask.set(key, varyingFieldsOf(runs));
  const atProtocol = (r: RunRecord) => protocolSettings !== null && r.training.steps !== 0 && trainsAs(r, protocolSettings);
  const labelByKey = new Map<string, string>();
  for (const [mt, runs] of groupBy(sorted, (r) => `${r.method.id}\u0000${r.task.id}`)) {
    const configs = [...groupBy(runs, (r) => keyByRun.get(r.run_id)!).entries()].map(([key, rs]) => ({
      key, config: fieldsByRun.get(rs[0]!.run_id)!, atProtocol: atProtocol(rs[0]!),
    }));
    for (const [key, label] of shortLabels(configs, varyingByMethodTask.get(mt)!)) labelByKey.set(`${mt}\u0000${key}`, label);
  }
  const labelOf = (r: RunRecord): string => labelByKey.get(`${r.method.id}\u0000${r.task.id}\u0000${keyByRun.get(r.run_id)}`)!;

  // Per (method, config, task) groups.
  const groups: ConfigGroup[] = [];
  const groupRecords = groupBy(sorted, (r) => `${r.method.id}\u0000${r.task.id}\u0000${keyByRun.get(r.run_id)}`);
  for (const all of groupRecords.values()) {
    const runs = latestPerSeed(all);
    const first = runs[0]!;
    const ok = runs.filter((r) => r.status === 'ok' && r.metrics.primary !== null && Number.isFinite(r.metrics.primary));
    const finished = runs.filter((r) => r.status !== 'failed');
    const spikes = finished.reduce((s, r) => s + r.curves.loss_spikes, 0);
    const forgettingValues = ok
      .filter((r) => r.metrics.base_lm_loss_before !== null && r.metrics.base_lm_loss_after !== null)
      .map((r) => (r.metrics.base_lm_loss_after as number) - (r.metrics.base_lm_loss_before as number));
    const costRuns = ok.length ? ok : finished;
    groups.push({
      method: first.method.id,
      family: first.method.family,
      task: first.task.id,
      configKey: keyByRun.get(first.run_id)!,
      configLabel: labelOf(first),
      config: fieldsByRun.get(first.run_id)!,
      rank: first.method.rank,
      lr: first.training.lr,
      stats: statsOf(ok.map((r) => ({ value: r.metrics.primary as number, seed: r.seed }))),
      derived: first.training.steps === 0 && !isBaseline(first.method.id),
      protocolVariant: protocolSettings !== null && first.training.steps !== 0 && !trainsAs(first, protocolSettings),
      atProtocol: atProtocol(first),
      ci95: null,
      intervalKind: null,
      validStats: statsOf(ok
        .filter((r) => Number.isFinite(r.metrics.valid[r.task.primary_metric]))
        .map((r) => ({ value: r.metrics.valid[r.task.primary_metric] as number, seed: r.seed }))),
      counts: {
        ok: runs.filter((r) => r.status === 'ok').length,
        diverged: runs.filter((r) => r.status === 'diverged').length,
        failed: runs.filter((r) => r.status === 'failed').length,
        total: runs.length,
      },
      runIds: runs.map((r) => r.run_id),
      params: {
        trainable: first.params.trainable,
        total: first.params.total,
        share: first.params.trainable / first.params.total,
        adapterBytes: first.params.adapter_bytes,
        addedAtInference: addedAtInference(first.method.id, first.params.trainable),
        optimizerStateBytes: first.params.optimizer_state_bytes,
      },
      cost: {
        trainSeconds: meanOf(costRuns, (r) => r.cost.train_seconds),
        evalSeconds: meanOf(costRuns, (r) => r.cost.eval_seconds),
        tokensPerS: meanOf(costRuns, (r) => r.cost.tokens_per_s),
        peakMemoryBytes: meanOf(costRuns, (r) => r.cost.peak_memory_bytes),
      },
      forgetting: mean(forgettingValues),
      lossSpikes: { total: spikes, meanPerRun: finished.length ? spikes / finished.length : null },
      convergence: convergenceOf(finished),
    });
  }
  groups.sort((a, b) => byString(a.method, b.method) || byString(a.task, b.task) || byString(a.configKey, b.configKey));
  const perExampleByGroup = new Map<ConfigGroup, PerExample>();
  for (const g of groups) {
    const perExample = perExampleOf(g, byId, taskMap.get(g.task)!.primaryMetric);
    if (perExample) perExampleByGroup.set(g, perExample);
    const interval = g.stats.mean === null ? null : intervalOf(g, perExample);
    g.ci95 = interval ? [interval.lo, interval.hi] : null;
    g.intervalKind = interval?.kind ?? null;
  }

  // Per (method, task): best configuration, lr grid (one configuration followed across learning rates), divergence.
  const lrCurve = mainPoints(curvesAlong(groups, (g) => g.lr, () => ['lr'], directionOf), (g) => g.lr);
  const methodTask: MethodTaskSummary[] = [];
  const perExampleByRow = new Map<MethodTaskSummary, PerExample>();
  for (const mtGroups of groupBy(groups, (g) => `${g.method}\u0000${g.task}`).values()) {
    const { method, family, task } = mtGroups[0];
    const direction = directionOf(task);
    // Chosen on valid, reported on test: choosing on test would reward methods with more configurations.
    const selection = selectOnValid(
      mtGroups.filter((g) => g.stats.mean !== null && isLeaderboardCandidate(g)).map(groupCandidate),
      direction,
    );
    const best: ConfigGroup | null = selection?.chosen.item ?? null;
    const perExample = best ? perExampleByGroup.get(best) ?? null : null;

    const lrGrid: LrPoint[] = [...lrCurve.values()].filter((g) => g.method === method && g.task === task)
      .map((g) => ({ lr: g.lr, score: g.stats.mean, configKey: g.configKey, runs: g.counts.total, diverged: g.counts.diverged }))
      .sort((a, b) => a.lr - b.lr);
    const scores = lrGrid.map((p) => p.score).filter((v): v is number => v !== null);
    const curveBest = scores.length ? scores.reduce((b, v) => (isBetter(direction, v, b) ? v : b)) : null;
    const lrNearBestShare = lrGrid.length >= 2 && curveBest !== null
      ? lrGrid.filter((p) => p.score !== null && isWithin(direction, p.score, curveBest, LR_NEAR_BEST_FRACTION)).length / lrGrid.length
      : null;

    const ok = mtGroups.reduce((s, g) => s + g.counts.ok, 0);
    const diverged = mtGroups.reduce((s, g) => s + g.counts.diverged, 0);
    const failed = mtGroups.reduce((s, g) => s + g.counts.failed, 0);
    const spikeTotal = mtGroups.reduce((s, g) => s + g.lossSpikes.total, 0);
    const row: MethodTaskSummary = {
      method, family, task,
      taskFamily: taskMap.get(task)!.family,
      bestConfigKey: best?.configKey ?? null,
      bestConfigLabel: best?.configLabel ?? null,
      best: best?.stats ?? null,
      bestLr: best?.lr ?? null,
      bestTrainable: best?.params.trainable ?? null,
      bestParams: best?.params ?? null,
      bestStepsToBest: best?.convergence?.stepsToBest.mean ?? null,
      lrGrid,
      lrNearBestShare,
      runs: ok + diverged + failed,
      ok, diverged, failed,
      divergenceRate: ok + diverged > 0 ? diverged / (ok + diverged) : null,
      lossSpikes: { total: spikeTotal, meanPerRun: ok + diverged > 0 ? spikeTotal / (ok + diverged) : null },
      seedStd: best?.stats.std ?? null,
      selectedOn: 'valid',
      nConfigs: selection?.configs ?? 0,
      validMean: best?.validStats.mean ?? null,
      ci95: best?.ci95 ?? null,
      intervalKind: best?.intervalKind ?? null,
      isBest: false,
      tiedWithBest: false,
    };
    methodTask.push(row);
    if (perExample) perExampleByRow.set(row, perExample);
  }
  markBestAndTies(methodTask, directionOf, perExampleByRow);

  // The defaults view: each method's configuration with every hyperparameter at its default (the default rank
  // included) at its default learning rate; what a user gets without any search.
  const defaults: DefaultsCell[] = [];
  for (const mtGroups of groupBy(groups, (g) => `${g.method}\u0000${g.task}`).values()) {
    const info = methodInfo(mtGroups[0]!.method);
    if (!info) continue;
    const atDefaults = mtGroups.filter((g) => isLeaderboardCandidate(g) && g.stats.mean !== null && isDefaultConfig(g, info.hyperparameters, scope?.protocol ?? LEGACY_PROTOCOL));
    const chosen = [...atDefaults].sort((a, b) => b.stats.n - a.stats.n)[0];
    if (!chosen) continue;
    defaults.push({
      method: chosen.method, task: chosen.task, configKey: chosen.configKey, configLabel: chosen.configLabel, stats: chosen.stats,
      ci95: chosen.ci95, intervalKind: chosen.intervalKind, trainable: chosen.params.trainable, params: chosen.params,
    });
  }
  defaults.sort((a, b) => byString(a.method, b.method) || byString(a.task, b.task));
  methodTask.sort((a, b) => byString(a.method, b.method) || byString(a.task, b.task));

  // Accuracy vs rank: per (method, task) the main configuration followed across ranks (the rank sweep at the
  // method's defaults), and as series of their own any other configuration swept over ranks (e.g. rsLoRA).
  const rankCurves: RankPoint[] = [];
  const byRank = (g: ConfigGroup) => g.rank as number;
  // Configurations scored without training (post-hoc, steps 0) are not a trained update at that rank. One whose
  // every run diverged stays: otherwise a rank where the default diverged would be filled by another configuration.
  const trainedRanked = groups.filter((g) => g.rank !== null && (g.stats.mean !== null || g.counts.diverged > 0) && g.config.steps !== 0);
  // The default configuration apart from its rank: every other hyperparameter at its default, at the default rate.
  const atDefaultsBesidesRank = (g: ConfigGroup, rankKeys: readonly string[]) => {
    const info = methodInfo(g.method);
    return info !== undefined && isDefaultConfig(g, info.hyperparameters.filter((h) => !rankKeys.includes(h.name)), scope?.protocol ?? LEGACY_PROTOCOL);
  };
  const rankCurveSets = curvesAlong(trainedRanked, byRank, rankFields, directionOf, atDefaultsBesidesRank);
  const sweepOf = mainPoints(rankCurveSets, byRank);
  for (const curves of rankCurveSets.values()) {
    for (const curve of curves) {
      for (const g of curve.groups) {
        rankCurves.push({
          method: g.method, series: curve.variant ? `${g.method} (${curve.variant})` : g.method, variant: curve.variant,
          task: g.task, taskFamily: taskMap.get(g.task)!.family, rank: g.rank as number,
          configKey: g.configKey, configLabel: g.configLabel,
          mean: g.stats.mean, std: g.stats.std, n: g.stats.n, diverged: g.counts.diverged, runs: g.counts.total,
        });
      }
    }
  }
  rankCurves.sort((a, b) => byString(a.method, b.method) || byString(a.variant, b.variant) || byString(a.task, b.task) || a.rank - b.rank);

  // Pareto: primary metric vs trainable parameters, per task, over every trained configuration with an ok run.
  const pareto: ParetoPoint[] = [];
  for (const task of tasks) {
    const pts = groups.filter((g) => g.task === task.id && g.stats.mean !== null && !g.derived);
    const frontier = paretoFrontier(pts.map((g) => ({ cost: g.params.trainable, score: g.stats.mean as number })), task.direction);
    pts.forEach((g, i) => pareto.push({
      task: task.id, method: g.method, family: g.family, configKey: g.configKey, configLabel: g.configLabel,
      trainable: g.params.trainable, mean: g.stats.mean as number, std: g.stats.std as number, n: g.stats.n,
      ci95: g.ci95, frontier: frontier[i],
    }));
  }

  // LN outlier vs random: score against n (the method's rank, else its config field n).
  const lnCurve: NCurvePoint[] = [];
  const lnRuns = sorted.filter((r) => (r.method.id === 'ln-outlier' || r.method.id === 'ln-random')
    && r.status === 'ok' && r.metrics.primary !== null);
  const nOf = (r: RunRecord): number | null => {
    const n = r.method.rank ?? r.method.config.n;
    return typeof n === 'number' ? n : null;
  };
  for (const runs of groupBy(lnRuns.filter((r) => nOf(r) !== null), (r) => `${r.task.id}\u0000${r.method.id}\u0000${nOf(r)}`).values()) {
    // Several configurations at one n: keep the seeds of the configuration that is best on valid.
    const direction = directionOf(runs[0].task.id);
    let bestStats: SeedStats | null = null;
    let bestValid: SeedStats | null = null;
    for (const cfgRuns of groupBy(runs, (r) => keyByRun.get(r.run_id)!).values()) {
      const s = statsOf(cfgRuns.map((r) => ({ value: r.metrics.primary as number, seed: r.seed })));
      const v = statsOf(cfgRuns.filter((r) => Number.isFinite(r.metrics.valid[r.task.primary_metric]))
        .map((r) => ({ value: r.metrics.valid[r.task.primary_metric] as number, seed: r.seed })));
      if (bestStats === null || betterStats(direction, bestValid, v)) { bestStats = s; bestValid = v; }
    }
    lnCurve.push({
      task: runs[0].task.id, method: runs[0].method.id, n: nOf(runs[0]) as number,
      mean: bestStats!.mean as number, std: bestStats!.std as number, runs: bestStats!.n,
    });
  }
  lnCurve.sort((a, b) => byString(a.task, b.task) || byString(a.method, b.method) || a.n - b.n);

  // lora-complement beside the lora r=8 and r=64 runs it is built from.
  const complement: ComplementRow[] = [];
  for (const task of tasks) {
    const comp = groups.filter((g) => g.task === task.id && g.method === 'lora-complement' && g.stats.n > 0);
    if (comp.length === 0) continue;
    // The lora rank sweep's configuration at r=8 and r=64, as on the rank curve.
    const bestAt = (rank: number): SeedStats | null => sweepOf.get(curveKey('lora', task.id, rank))?.stats ?? null;
    complement.push({
      task: task.id, lora8: bestAt(8), lora64: bestAt(64),
      complement: comp.map((g) => ({
        configLabel: g.configLabel, stats: g.stats,
        findings: complementFindings(g.runIds.map((id) => byId.get(id)!).filter((r) => r.status === 'ok')),
      })),
    });
  }

  const analysis = emptyAnalysis();
  for (const r of sorted) collectAnalysis(r, analysis);

  // Seed-averaged figures, from runs that finished ok (like every other statistic here).
  const okRuns = sorted.filter((r) => r.status === 'ok');
  const refRank = (r: RunRecord, field: string): number | null => {
    const v = r.method.config[field];
    const ref = typeof v === 'string' ? RUN_REFERENCE.exec(v) : null;
    return ref ? (byId.get(ref[1]!)?.method.rank ?? null) : null;
  };
  const subspace = subspaceGroups(okRuns.map((r) => {
    const fields = fieldsByRun.get(r.run_id)!;
    // The grid compares the two adapters: runs differing in anything else (side, mode) compare the same pair.
    // Against the update a run trained itself, the whole configuration decides what is compared.
    const large = (r.analysis?.subspaceSimilarity as { large?: unknown } | undefined)?.large;
    const byAdapters = large !== 'trained update' && 'small_adapter' in fields && 'large_adapter' in fields;
    return {
      record: r,
      pairKey: byAdapters ? canonicalJson([fields.small_adapter, fields.large_adapter, fields.model, r.task.config]) : keyByRun.get(r.run_id)!,
      smallRank: refRank(r, 'small_adapter'),
      largeRank: refRank(r, 'large_adapter'),
    };
  }));
  const taskOrder = (id: string) => tasks.findIndex((t) => t.id === id);
  subspace.sort((a, b) => taskOrder(a.task) - taskOrder(b.task) || byString(a.large, b.large) || byString(a.runIds[0]!, b.runIds[0]!));
  const okIds = new Set(okRuns.map((r) => r.run_id));
  const overlapW = overlapGroups(analysis.heatmaps.filter((h) => OVERLAP_WITH_W.test(h.path)), (id) => okIds.has(id));
  overlapW.sort((a, b) => taskOrder(a.task) - taskOrder(b.task) || byString(a.method, b.method) || (a.rank ?? -1) - (b.rank ?? -1));

  // Methods: metadata from records (first record carrying each field).
  const methods: MethodSummary[] = [];
  for (const [id, runs] of groupBy(sorted, (r) => r.method.id)) {
    const withField = <K extends 'title' | 'paper' | 'description'>(k: K) => runs.find((r) => r.method[k] !== undefined)?.method[k] ?? null;
    methods.push({
      id, family: runs[0].method.family,
      title: withField('title'), paper: withField('paper'), description: withField('description'),
      isBaseline: isBaseline(id),
      folder: `packages/methods/${id}/`,
      runCount: runs.length,
      varyingFields: varyingByMethod.get(id)!,
    });
  }
  methods.sort((a, b) => Number(b.isBaseline) - Number(a.isBaseline) || byString(a.family, b.family) || byString(a.id, b.id));

  const runs: RunSummary[] = sorted.map((r) => ({
    runId: r.run_id, runKey: runKeyOfRecord(r), status: r.status, reason: r.reason, method: r.method.id, family: r.method.family,
    task: r.task.id, taskFamily: r.task.family, seed: r.seed, rank: r.method.rank, lr: r.training.lr,
    configKey: keyByRun.get(r.run_id)!, configLabel: labelOf(r), primary: r.metrics.primary,
    trainable: r.params.trainable, trainSeconds: r.cost.train_seconds, startedAt: r.provenance.started_at,
  }));

  return {
    formatVersion: AGGREGATE_FORMAT_VERSION,
    scope,
    scopes,
    recordCount: sorted.length,
    problems,
    tasks, methods, runs, groups, methodTask, defaults, rankCurves, pareto, lnCurve, complement, analysis, subspace, overlapW,
    provenance: summariseProvenance(sorted),
  };
}

function summariseProvenance(records: RunRecord[]): ProvenanceSummary {
  const backends = [...groupBy(records, (r) => `${r.provenance.backend}\u0000${r.provenance.accelerated}`).values()]
    .map((rs) => ({ name: rs[0].provenance.backend, accelerated: rs[0].provenance.accelerated, runs: rs.length }))
    .sort((a, b) => b.runs - a.runs || byString(a.name, b.name));
  const unique = (values: string[]) => [...new Set(values)].sort(byString);
  const versions: Record<string, string[]> = {};
  for (const r of records) {
    for (const [k, v] of Object.entries(r.provenance.versions)) (versions[k] ??= []).includes(v) || versions[k].push(v);
  }
  for (const k of Object.keys(versions)) versions[k].sort(byString);
  const models = [...groupBy(records, (r) => `${r.model.id}\u0000${r.model.hash}`).values()]
    .map((rs) => ({ id: rs[0].model.id, hash: rs[0].model.hash, params: rs[0].model.params }));
  const starts = records.map((r) => r.provenance.started_at).sort(byString);
  const ends = records.map((r) => r.provenance.finished_at).sort(byString);
  return {
    backends,
    cpus: unique(records.map((r) => r.provenance.cpu)),
    gpus: unique(records.map((r) => r.provenance.gpu).filter((g): g is string => g !== null)),
    models,
    versions,
    gitCommits: unique(records.map((r) => r.provenance.git_commit)),
    dirtyRuns: records.filter((r) => r.provenance.git_dirty).length,
    totalTrainSeconds: records.reduce((s, r) => s + r.cost.train_seconds, 0),
    totalEvalSeconds: records.reduce((s, r) => s + r.cost.eval_seconds, 0),
    firstStarted: starts[0] ?? null,
    lastFinished: ends[ends.length - 1] ?? null,
  };
}

/** Reads every record in `dir` (bad files become `problems`) and aggregates them. */
export async function aggregateDir(dir: string, want: { protocol?: string; model?: string } = {}): Promise<Aggregated> {
  const { records, problems } = await readRecords(dir);
  return aggregate(records, problems, want);
}
