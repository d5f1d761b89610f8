// Run and store: the record is validated and written atomically, whatever the run's outcome.
import type { RunRecord } from '@peft-bench/results/record/schema';
import { writeRecord } from '@peft-bench/results/record/store';
import { runOne, type RunCallbacks, type RunEnv, type RunInput } from './runner.ts';

export async function executeRun(
  input: RunInput,
  env: RunEnv & { outDir: string },
  callbacks: RunCallbacks = {},
): Promise<{ record: RunRecord; path: string }> {
  const record = await runOne(input, env, callbacks);
  return { record, path: writeRecord(env.outDir, record) };
}
