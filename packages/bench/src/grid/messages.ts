// Messages between the grid's pool (parent) and its worker processes.
import type { RunMeta } from '../run/meta.ts';
import type { RunSpec } from '../run/spec.ts';
import type { RunProgress } from '../run/progress.ts';

export interface WorkerOptions {
  outDir: string;
  backend: string | undefined;
  threads: number;
  dataDir: string | undefined;
  /** Where kept adapters live (`<adapterRoot>/<run_id>/`). */
  adapterRoot: string;
  /** Keep this run's adapter (set per job by the pool). */
  keepAdapter: boolean;
}

export type ToWorker =
  | { type: 'run'; runId: string; spec: RunSpec; meta: RunMeta; modelSource: string; options: WorkerOptions }
  /** Runs of one fusable group (run/fused.ts), trained together; one 'finished' per run. */
  | { type: 'run-group'; runs: { runId: string; spec: RunSpec; meta: RunMeta; modelSource: string }[]; options: WorkerOptions }
  | { type: 'exit' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'started'; runId: string; backend: string }
  | { type: 'progress'; runId: string; progress: RunProgress }
  | {
      type: 'finished';
      runId: string;
      status: 'ok' | 'diverged' | 'failed';
      reason: string | null;
      path: string;
      primary: number | null;
      seconds: number;
      /** CPU seconds the worker used since its previous report (a fused group's first run carries the group's setup and training). */
      cpuSeconds?: number;
    }
  | { type: 'error'; runId: string; message: string };
