// What a worker process keeps between runs: a task's splits (generating a synthetic task and
// executing its SQL takes seconds) and the base model's held-out LM loss before training. Both are
// pure functions of their keys, so a cached value is the value the run would compute; the pool sends
// runs of the same task and seed to the worker that just had them (grid/pool.ts) so the cache hits.
import type { TaskDef, TaskSplits } from '@peft-bench/core/tasks/index';

/** Entries kept per cache: a worker moves from cell to cell, rarely back. */
const KEEP = 2;

class Recent<V> {
  private readonly entries = new Map<string, V>();
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > KEEP) this.entries.delete(this.entries.keys().next().value!);
  }
}

const splits = new Recent<Promise<TaskSplits>>();

/** PEFT_BENCH_SETUP_CACHE=off turns the caches off (`pnpm bench grid-speed --mode baseline` measures without them). */
function cacheOn(): boolean {
  return process.env.PEFT_BENCH_SETUP_CACHE !== 'off';
}
const lossesBefore = new Recent<number>();

/** The task's splits for these options, generated once per worker. A failed load is not kept. */
export function loadSplitsCached(task: Pick<TaskDef, 'id' | 'load'>, options: { seed: number; knobs: Record<string, unknown>; dataDir: string | undefined }): Promise<TaskSplits> {
  if (!cacheOn()) return task.load(options as never);
  const key = JSON.stringify([task.id, options.seed, options.knobs, options.dataDir ?? null]);
  let value = splits.get(key);
  if (!value) {
    value = task.load(options as never);
    splits.set(key, value);
    value.catch(() => splits.delete(key));
  }
  return value;
}

/** The base model's held-out loss before training, computed once per model hash and context length. */
export function lossBeforeCached(modelHash: string, maxSeq: number, compute: () => number): number {
  if (!cacheOn()) return compute();
  const key = `${modelHash}|${maxSeq}`;
  let value = lossesBefore.get(key);
  if (value === undefined) {
    value = compute();
    lossesBefore.set(key, value);
  }
  return value;
}
