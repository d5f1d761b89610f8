// Builds run records from a spec, its registry facts and what the run measured.
import { RECORD_SCHEMA_VERSION, type RunRecord } from '@peft-bench/results/record/schema';
import { writeRecord } from '@peft-bench/results/record/store';
import type { RunMeta } from './meta.ts';
import { sanitizeReason } from './sanitize.ts';
import { cpuModel, gitState, versions } from './provenance.ts';
import type { RunSpec } from './spec.ts';

export interface BackendFacts {
  backend: string;
  accelerated: boolean;
  threads: number;
  gpu: string | null;
}

export function provenanceOf(backend: BackendFacts, startedAt: Date, finishedAt: Date): RunRecord['provenance'] {
  const { commit, dirty } = gitState();
  return {
    backend: backend.backend,
    accelerated: backend.accelerated,
    threads: Math.max(1, Math.round(backend.threads)),
    versions: versions(),
    cpu: cpuModel(),
    gpu: backend.gpu,
    git_commit: commit,
    git_dirty: dirty,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
  };
}

/** The parts of a record that come from the spec and the registries alone. */
export function recordHead(
  runId: string,
  spec: RunSpec,
  meta: RunMeta,
): Pick<RunRecord, 'schema_version' | 'run_id' | 'code_version' | 'method' | 'task' | 'model' | 'seed' | 'training' | 'protocol'> {
  return {
    schema_version: RECORD_SCHEMA_VERSION,
    run_id: runId,
    // With the fields below, the whole spec: anyone can recompute the run id (record/verify.ts).
    code_version: spec.code_version,
    method: {
      id: spec.method.id,
      family: meta.method.family,
      config: spec.method.config,
      rank: spec.method.rank,
      ...(meta.method.title ? { title: meta.method.title } : {}),
      ...(meta.method.paper ? { paper: meta.method.paper } : {}),
      ...(meta.method.description ? { description: meta.method.description } : {}),
    },
    task: {
      id: spec.task.id,
      tier: meta.task.tier,
      family: meta.task.family,
      primary_metric: meta.task.primary_metric,
      config: spec.task.config,
    },
    model: { id: spec.model.id, hash: spec.model.hash, params: meta.model.params },
    seed: spec.seed,
    training: { ...spec.training },
    ...(spec.protocol !== undefined ? { protocol: spec.protocol } : {}),
  };
}

/** A record for a run that produced no scores (an exception, or a worker that died). */
export function failedRecord(
  runId: string,
  spec: RunSpec,
  meta: RunMeta,
  reason: string,
  backend: BackendFacts,
  startedAt: Date,
  partial: Partial<Pick<RunRecord, 'params' | 'cost' | 'curves' | 'metrics'>> = {},
): RunRecord {
  return {
    ...recordHead(runId, spec, meta),
    status: 'failed',
    reason: sanitizeReason(reason),
    metrics: partial.metrics ?? { primary: null, valid: {}, test: {}, base_lm_loss_before: null, base_lm_loss_after: null },
    params: partial.params ?? { trainable: 0, total: meta.model.params, adapter_bytes: 0, optimizer_state_bytes: 0 },
    cost: partial.cost ?? { train_seconds: 0, eval_seconds: 0, tokens_per_s: 0, peak_memory_bytes: 0 },
    curves: partial.curves ?? { train_loss: [], valid_loss: [], valid_metric: [], loss_spikes: 0 },
    analysis: null,
    provenance: provenanceOf(backend, startedAt, new Date()),
  };
}

/** Used by the pool when a worker died: the parent records the failure itself. */
export function writeFailedRecord(
  outDir: string,
  runId: string,
  spec: RunSpec,
  meta: RunMeta,
  reason: string,
  options: { backend: string | undefined; threads: number },
): string {
  const backend: BackendFacts = { backend: options.backend ?? 'unknown', accelerated: false, threads: options.threads, gpu: null };
  return writeRecord(outDir, failedRecord(runId, spec, meta, reason, backend, new Date()));
}
