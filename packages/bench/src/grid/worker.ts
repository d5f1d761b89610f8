// A grid worker process: runs one spec at a time and writes its record itself, so the record
// lands even if the parent dies. Started by pool.ts with `--import tsx`.
import { executeRun } from '../run/execute.ts';
import type { FromWorker, ToWorker } from './messages.ts';

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
  const { runId, spec, meta, modelSource, options } = message;
  try {
    const started = Date.now();
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
    });
  } catch (error) {
    send({ type: 'error', runId, message: (error as Error).stack ?? String(error) });
  }
});

send({ type: 'ready' });
