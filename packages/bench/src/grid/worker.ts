// A grid worker process: runs one spec at a time and writes its record itself, so the record
// lands even if the parent dies. Started by pool.ts with `--import tsx`.
import { writeRecord } from '@peft-bench/results/record/store';
import { executeRun } from '../run/execute.ts';
import { runFused } from '../run/fused.ts';
import type { FromWorker, ToWorker } from './messages.ts';

/** CPU seconds (user + system, all threads) this process has used. */
function cpuNow(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function send(message: FromWorker): void {
  if (process.connected) process.send!(message);
}

// The parent is gone (killed or exited): stop rather than train for nobody.
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group; the parent decides (it stops workers with SIGTERM), so a
// worker never looks like it crashed and gets its run retried while the grid is stopping.
process.on('SIGINT', () => {});

process.on('message', async (message: ToWorker) => {
  if (message.type === 'exit') {
    process.disconnect();
    return;
  }
  if (message.type === 'run-group') {
    const { runs, options } = message;
    const started = Date.now();
    // CPU seconds since the previous record: the group's first record carries its setup and
    // training, so the records' sum is the group's total.
    let cpuLast = cpuNow();
    // A run's seconds: an equal share of the group's setup and training, plus its own evaluation.
    let shared: number | null = null;
    try {
      await runFused(runs, options, {
        onBackend: (backend) => runs.forEach((run) => send({ type: 'started', runId: run.runId, backend })),
        onProgress: (progress) => send({ type: 'progress', runId: runs[0]!.runId, progress }),
        onRecord: (record) => {
          const path = writeRecord(options.outDir, record);
          shared ??= Math.max(0, (Date.now() - started) / 1000 - record.cost.eval_seconds) / runs.length;
          const seconds = shared + record.cost.eval_seconds;
          const cpu = cpuNow();
          const cpuSeconds = cpu - cpuLast;
          cpuLast = cpu;
          send({ type: 'finished', runId: record.run_id, status: record.status, reason: record.reason, path, primary: record.metrics.primary, seconds, cpuSeconds });
        },
      });
    } catch (error) {
      for (const run of runs) send({ type: 'error', runId: run.runId, message: (error as Error).stack ?? String(error) });
    }
    return;
  }
  const { runId, spec, meta, modelSource, options } = message;
  try {
    const started = Date.now();
    const cpuStart = cpuNow();
    const outcome = await executeRun({ runId, spec, meta, modelSource }, options, {
      onBackend: (backend) => send({ type: 'started', runId, backend }),
      onProgress: (progress) => send({ type: 'progress', runId, progress }),
    });
    send({
      type: 'finished',
      runId,
      status: outcome.record.status,
      reason: outcome.record.reason,
      path: outcome.path,
      primary: outcome.record.metrics.primary,
      seconds: (Date.now() - started) / 1000,
      cpuSeconds: cpuNow() - cpuStart,
    });
  } catch (error) {
    send({ type: 'error', runId, message: (error as Error).stack ?? String(error) });
  }
});

send({ type: 'ready' });
