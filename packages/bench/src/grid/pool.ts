// A pool of worker processes, one per core by default, each running one run at a time with one
// BLAS thread. Workers write their own records (atomically), so a crash of the parent loses at
// most the runs in flight. A worker that dies mid-run (OOM, kill -9) is replaced and its run
// retried once; after that the run is recorded as failed and the grid goes on.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunMeta } from '../run/meta.ts';
import type { RunProgress } from '../run/progress.ts';
import type { RunSpec } from '../run/spec.ts';
import { fusionKey } from '../run/fused.ts';
import { writeFailedRecord } from '../run/record-builder.ts';
import type { FromWorker, ToWorker, WorkerOptions } from './messages.ts';

const WORKER_FILE = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface PoolJob {
  runId: string;
  spec: RunSpec;
  meta: RunMeta;
  label: string;
  modelSource: string;
  /** Save the trained adapter under the worker's adapterRoot. */
  keepAdapter: boolean;
  /** Runs whose adapters this one reads: it starts only after they end (and fails if one failed). */
  dependsOn: string[];
  /** A run of the grid's head (blocks marked `first`): a worker's preference for runs on the data it holds never jumps it. */
  head?: boolean;
}

/** A finished job: what its worker reported (messages.ts), with the job it was. */
export type JobResult = { job: PoolJob } & Omit<Extract<FromWorker, { type: 'finished' }>, 'type' | 'runId'>;

export interface PoolEvents {
  /** A worker started `job`; `backend` describes the compute backend it runs on. */
  onStart?(job: PoolJob, workerPid: number, backend: string): void;
  onProgress?(job: PoolJob, progress: RunProgress): void;
  onFinish?(result: JobResult): void;
  /** A worker died while running `job`; `retrying` tells whether the run goes back in the queue. */
  onCrash?(job: PoolJob, description: string, retrying: boolean): void;
}

export interface PoolOptions {
  workers: number;
  worker: WorkerOptions;
  events?: PoolEvents;
  /** Aborting stops the pool: workers are killed, runs in flight are left unfinished (no record). */
  signal?: AbortSignal;
  /** How many times a run whose worker died is retried before it is recorded as failed. */
  crashRetries?: number;
  /** 'fused': compatible runs are grouped and each group trains in one worker (grid/fused-groups.ts); default 'single'. */
  mode?: 'single' | 'fused' | 'baseline';
  /** Most runs per fused group (default FUSED_GROUP_SIZE); the worker splits a group that does not fit in memory. */
  groupSize?: number;
  /**
   * Start no run expected to end after `at` (ms since the epoch): it, and the runs that read its
   * adapter, are left unfinished for the next time, so a time-limited session or CI job does not end
   * in the middle of runs whose work would be lost. `seconds` is a run's expected duration (null: unknown, started).
   */
  deadline?: { at: number; seconds(job: PoolJob): number | null };
}

/** Runs per fused group: measured on this machine's default model, the gain flattens beyond it (README, speed). */
export const FUSED_GROUP_SIZE = 4;

export interface PoolSummary {
  results: JobResult[];
  /** Runs not finished because the pool was stopped or the deadline left no time for them. */
  unfinished: PoolJob[];
  interrupted: boolean;
  /** Of `unfinished`, the runs left for lack of time before the deadline. */
  deferred: PoolJob[];
}

interface Slot {
  child: ChildProcess;
  /** The runs in flight on this worker: one, or a fused group. */
  jobs: PoolJob[];
  /** The data key of the worker's last run: the next run with the same key reuses its cached task splits. */
  lastData: string | null;
  exited: boolean;
}

export function runPool(jobs: PoolJob[], options: PoolOptions): Promise<PoolSummary> {
  const queue = [...jobs];
  const results: JobResult[] = [];
  const crashes = new Map<string, number>();
  const slots = new Set<Slot>();
  const idle = new Set<Slot>();
  /** Status of every run of this pool that has ended. */
  const ended = new Map<string, JobResult['status']>();
  const inPool = new Set(jobs.map((job) => job.runId));
  const crashRetries = options.crashRetries ?? 1;
  const events = options.events ?? {};
  let stopping = false;
  const deferred: PoolJob[] = [];

  return new Promise<PoolSummary>((resolve) => {
    const finishIfDone = () => {
      if ([...slots].some((slot) => !slot.exited)) return;
      options.signal?.removeEventListener('abort', stop);
      const endedIds = new Set(results.map((r) => r.job.runId));
      resolve({ results, unfinished: jobs.filter((job) => !endedIds.has(job.runId)), interrupted: stopping, deferred });
    };

    /** Records a run that cannot run (a worker kept dying, or a run it depends on failed). */
    const failWithoutRunning = (job: PoolJob, reason: string) => {
      let path = '';
      try {
        path = writeFailedRecord(options.worker.outDir, job.runId, job.spec, job.meta, reason, options.worker);
      } catch (error) {
        process.stderr.write(`could not record the failure of ${job.label}: ${(error as Error).message}\n`);
      }
      const result: JobResult = { job, status: 'failed', reason, path, primary: null, seconds: 0 };
      results.push(result);
      ended.set(job.runId, 'failed');
      events.onFinish?.(result);
    };

    // A dependency outside this pool was finished before (the grid checked); inside, it must have ended without failing.
    const ready = (job: PoolJob) => job.dependsOn.every((id) => !inPool.has(id) || (ended.has(id) && ended.get(id) !== 'failed'));
    const inFlight = () => [...slots].some((slot) => slot.jobs.length > 0);
    // Fused mode: the next ready run and up to groupSize - 1 more ready runs of the same fusion key.
    const take = (index: number): PoolJob[] => {
      const job = queue.splice(index, 1)[0]!;
      const key = options.mode === 'fused' ? fusionKey(job.spec) : null;
      const group = [job];
      if (key === null) return group;
      const limit = options.groupSize ?? FUSED_GROUP_SIZE;
      for (let i = 0; i < queue.length && group.length < limit; ) {
        const other = queue[i]!;
        if (ready(other) && other.keepAdapter === job.keepAdapter && other.modelSource === job.modelSource && fusionKey(other.spec) === key) {
          group.push(...queue.splice(i, 1));
        } else i += 1;
      }
      return group;
    };

    /** Moves the runs that would end after the deadline, and those that read their adapters, out of the queue. */
    const deferLate = () => {
      if (!options.deadline) return;
      const { at, seconds } = options.deadline;
      const late = new Set(queue.filter((job) => Date.now() + (seconds(job) ?? 0) * 1000 > at).map((job) => job.runId));
      for (let grew = true; grew; ) {
        grew = false;
        for (const job of queue) {
          if (!late.has(job.runId) && job.dependsOn.some((id) => late.has(id))) {
            late.add(job.runId);
            grew = true;
          }
        }
      }
      for (const job of [...queue]) {
        if (!late.has(job.runId)) continue;
        queue.splice(queue.indexOf(job), 1);
        deferred.push(job);
      }
    };

    const pump = () => {
      if (!stopping) {
        deferLate();
        // Runs whose dependency failed fail too, with the reason (repeated: failures cascade).
        for (let changed = true; changed; ) {
          changed = false;
          for (const job of [...queue]) {
            const failed = job.dependsOn.find((id) => ended.get(id) === 'failed');
            if (failed === undefined) continue;
            queue.splice(queue.indexOf(job), 1);
            failWithoutRunning(job, `it uses the adapter of run ${failed}, which failed`);
            changed = true;
          }
        }
        for (const slot of [...idle]) {
          const next = queue.findIndex(ready);
          const tier = (job: PoolJob | undefined) => job?.head === true;
          const same =
            slot.lastData === null || options.mode === 'baseline'
              ? -1
              : queue.findIndex((job) => ready(job) && dataKey(job) === slot.lastData && tier(job) === tier(queue[next]));
          const index = same >= 0 ? same : next;
          if (index < 0) break;
          const group = take(index);
          const job = group[0]!;
          idle.delete(slot);
          slot.jobs = group;
          slot.lastData = dataKey(job);
          if (group.length > 1) {
            send(slot, {
              type: 'run-group',
              runs: group.map((j) => ({ runId: j.runId, spec: j.spec, meta: j.meta, modelSource: j.modelSource })),
              options: { ...options.worker, keepAdapter: job.keepAdapter },
            });
          } else {
            send(slot, {
              type: 'run',
              runId: job.runId,
              spec: job.spec,
              meta: job.meta,
              modelSource: job.modelSource,
              options: { ...options.worker, keepAdapter: job.keepAdapter },
            });
          }
        }
        if (queue.length > 0 && !inFlight() && !queue.some(ready)) {
          for (const job of queue.splice(0)) failWithoutRunning(job, `its dependencies ${job.dependsOn.join(', ')} never finished`);
        }
      }
      if (stopping || queue.length === 0) {
        for (const slot of [...idle]) {
          idle.delete(slot);
          send(slot, { type: 'exit' });
        }
      }
    };

    const spawn = () => {
      const child = fork(WORKER_FILE, [], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          // One BLAS thread per worker unless asked otherwise: N processes x 1 thread beats
          // 1 process x N threads for many small runs (PERFORMANCE.md).
          OPENBLAS_NUM_THREADS: String(options.worker.threads),
          PEFT_BENCH_THREADS: String(options.worker.threads),
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
      const slot: Slot = { child, jobs: [], lastData: null, exited: false };
      const jobOf = (runId: string) => slot.jobs.find((j) => j.runId === runId) ?? null;
      slots.add(slot);
      child.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            idle.add(slot);
            pump();
            break;
          case 'started': {
            const job = jobOf(message.runId);
            if (job) events.onStart?.(job, child.pid ?? -1, message.backend);
            break;
          }
          case 'progress': {
            const job = jobOf(message.runId);
            if (job) events.onProgress?.(job, message.progress);
            break;
          }
          case 'finished':
          case 'error': {
            const job = jobOf(message.runId);
            if (!job) break;
            const result: JobResult =
              message.type === 'finished'
                ? { job, status: message.status, reason: message.reason, path: message.path, primary: message.primary, seconds: message.seconds, cpuSeconds: message.cpuSeconds }
                : { job, status: 'failed', reason: message.message, path: '', primary: null, seconds: 0 };
            results.push(result);
            ended.set(job.runId, result.status);
            events.onFinish?.(result);
            slot.jobs = slot.jobs.filter((j) => j !== job);
            if (slot.jobs.length === 0) {
              idle.add(slot);
              pump();
            }
            break;
          }
        }
      });
      child.on('exit', (code, signal) => {
        slot.exited = true;
        idle.delete(slot);
        const lost = slot.jobs;
        slot.jobs = [];
        if (lost.length > 0 && !stopping) {
          for (const job of [...lost].reverse()) {
            const count = (crashes.get(job.runId) ?? 0) + 1;
            crashes.set(job.runId, count);
            const description = `worker process ${child.pid} died during the run (${signal ? `signal ${signal}` : `exit code ${code}`})`;
            const retrying = count <= crashRetries;
            events.onCrash?.(job, description, retrying);
            if (retrying) queue.unshift(job);
            else failWithoutRunning(job, `${description}; it died ${count} times, so it is recorded as failed`);
          }
          if (queue.length > 0) spawn();
          pump();
        }
        finishIfDone();
      });
    };

    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const slot of slots) if (!slot.exited) slot.child.kill('SIGTERM');
    };
    if (!options.signal?.aborted) deferLate();
    if (options.signal?.aborted || queue.length === 0) {
      resolve({ results, unfinished: options.signal?.aborted ? jobs : [...deferred], interrupted: options.signal?.aborted === true, deferred });
      return;
    }
    options.signal?.addEventListener('abort', stop);
    const count = Math.max(1, Math.min(options.workers, queue.length));
    for (let i = 0; i < count; i++) spawn();
  });
}

/** Runs with equal keys use the same task splits (task, knobs, seed) on the same model. */
function dataKey(job: PoolJob): string {
  return JSON.stringify([job.spec.task.id, job.spec.task.config, job.spec.seed, job.modelSource]);
}

function send(slot: Slot, message: ToWorker): void {
  if (!slot.exited && slot.child.connected) slot.child.send(message);
}
