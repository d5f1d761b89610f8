// A real grid with real worker processes on the tiny model: a worker is killed (SIGKILL) mid-run,
// then the whole grid is killed (kill -9), then interrupted with SIGINT, then resumed. Every run
// must end with exactly one valid record: nothing lost, nothing duplicated, no half-written file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords } from '@peft-bench/results/record/read';
import { startCli, runCli } from './helpers.ts';

const GRID = `
name: resume-test
defaults:
  model: tiny-random
  tasks: [nli]
  seeds: 2
  task_config:
    nli: { train: 32, valid: 2, test: 2 }
experiments:
  - name: pair
    methods: [lora, ln]
    ranks: [2]
    training: { steps: 40, batch_size: 2, micro_batch_size: 2 }
`;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(events: AsyncGenerator<Record<string, unknown>>, match: (event: Record<string, unknown>) => T | undefined): Promise<T> {
  // next() by hand: breaking out of `for await` would close the generator for later waits.
  for (;;) {
    const { value: event, done } = await events.next();
    if (done) break;
    const value = match(event);
    if (value !== undefined) return value;
  }
  throw new Error('the grid ended before the awaited event');
}

describe('grid resume', () => {
  it('survives a killed worker, a kill -9 of the grid and Ctrl-C, and ends with one valid record per run', { timeout: 240_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-resume-'));
    const gridFile = path.join(dir, 'grid.yaml');
    const out = path.join(dir, 'results');
    fs.writeFileSync(gridFile, GRID);
    // Pinned so that edits to the source tree during the test cannot change the run ids.
    const env = { PEFT_BENCH_CODE_VERSION: 'resume-test' };
    const args = ['--grid', gridFile, '--out', out, '--workers', '2', '--json'];

    const plan = await runCli([...args, '--dry-run'], env);
    expect(plan.code).toBe(0);
    const runIds = (JSON.parse(plan.stdout.trim().split('\n')[0]!).run_list as { run_id: string }[]).map((run) => run.run_id);
    expect(runIds).toHaveLength(4);

    // 1. Kill one worker mid-run: the pool replaces it and retries the run.
    const first = startCli(args, env);
    const workers = new Set<number>();
    // Killed after its first training step: 39 steps and the evaluation are still to come.
    const victim = await waitFor(first.lines, (event) => {
      if (event.event === 'start') workers.add(event.worker_pid as number);
      return event.event === 'training' ? (event.worker_pid as number) : undefined;
    });
    process.kill(victim, 'SIGKILL');
    const crash = await waitFor(first.lines, (event) => {
      if (event.event === 'start') workers.add(event.worker_pid as number);
      return event.event === 'crash' ? event : undefined;
    });
    expect(crash.retrying).toBe(true);
    // 2. Once a run has finished, kill the whole grid with SIGKILL (no chance to clean up).
    await waitFor(first.lines, (event) => {
      if (event.event === 'start') workers.add(event.worker_pid as number);
      return event.event === 'finish' ? true : undefined;
    });
    process.kill(first.child.pid!, 'SIGKILL');
    for (const pid of workers) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const afterKill = fs.readdirSync(out).filter((name) => name.endsWith('.json'));
    expect(afterKill.length).toBeGreaterThanOrEqual(1);
    expect(afterKill.length).toBeLessThan(4);

    // 3. Resume, then stop with SIGINT (Ctrl-C): a clean stop with exit code 130.
    const second = startCli(args, env);
    const resumedPlan = await waitFor(second.lines, (event) => (event.event === 'plan' ? event : undefined));
    expect(resumedPlan.finished).toBe(afterKill.length);
    await waitFor(second.lines, (event) => (event.event === 'start' ? true : undefined));
    second.child.kill('SIGINT');
    const interrupted = await second.done;
    expect(interrupted.code).toBe(130);

    // 4. Resume to the end.
    const third = await runCli(args, env);
    expect(third.code).toBe(0);
    const { records, problems } = await readRecords(out);
    expect(problems).toEqual([]);
    expect(records.map((record) => record.run_id).sort()).toEqual([...runIds].sort());
    expect(fs.readdirSync(out).sort()).toEqual(runIds.map((id) => `${id}.json`).sort());
    expect(records.every((record) => record.status === 'ok')).toBe(true);

    // 5. Nothing left to do.
    const again = await runCli([...args, '--dry-run'], env);
    const done = JSON.parse(again.stdout.trim().split('\n')[0]!);
    expect(done).toMatchObject({ runs: 4, finished: 4, todo: 0 });
    // The plan says what the finished runs took: their records' start to finish, summed.
    const took = records.reduce((sum, r) => sum + (Date.parse(r.provenance.finished_at) - Date.parse(r.provenance.started_at)) / 1000, 0);
    expect(took).toBeGreaterThan(0);
    expect(done.finished_run_seconds).toBeCloseTo(took, 6);
  });
});
