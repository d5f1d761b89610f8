// Question 7: does the batch size change convergence? LoRA r=8 and full fine-tuning at batches of 4, 16
// and 64 with the examples seen held equal (packages/bench/grids/study-batch-size.yaml): steps and
// examples to the best checkpoint on valid, steps taken, and the test score.
import type { ConfigGroup } from '../../src/aggregate/aggregate.ts';
import { atLrFactor, cell, chooseGroup, defineStudy, groupsAt, int, type FindingsTable, type StudyConfig } from '../define.ts';

export const CONFIGS: StudyConfig[] = [
  { label: 'lora r=8', method: 'lora', rank: 8 },
  { label: 'full', method: 'full' },
];

const batchOf = (g: ConfigGroup) => (typeof g.config.batch_size === 'number' ? g.config.batch_size : null);
const steps = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : int(Math.round(v)));

export default defineStudy({
  id: 'batch-size',
  order: 7,
  title: '7. Does the batch size change convergence?',
  intro: 'LoRA r=8 and full fine-tuning at their default learning rates with batches of 4, 16 and 64 examples, the maximum steps and the validation interval scaled so that each sees the same number of examples at most; how long each trains before its best checkpoint on valid, and what it scores.',
  empty: 'No LoRA r=8 or full fine-tuning runs at two batch sizes yet.',
  grid: { name: 'study-batch-size' },
  tables({ agg, tasks }) {
    return tasks.flatMap((t): FindingsTable[] => {
      const rows = CONFIGS.flatMap((c) => {
        const groups = groupsAt(agg, c, t.id).filter((g) => atLrFactor(agg, 1)(g) && batchOf(g) !== null);
        const batches = [...new Set(groups.map((g) => batchOf(g)!))].sort((a, b) => a - b);
        if (batches.length < 2) return [];
        return batches.map((batch) => {
          const g = chooseGroup(groups.filter((x) => batchOf(x) === batch), t.direction)!;
          const conv = g.convergence;
          const toBest = conv?.stepsToBest.mean ?? null;
          const stopped = conv ? Object.entries(conv.stopped).map(([why, n]) => `${why} ${n}`).join(', ') : '';
          const maxSteps = typeof g.config.steps === 'number' ? ` of ${int(g.config.steps)}` : '';
          return [
            c.label, String(batch), steps(toBest), steps(toBest === null ? null : toBest * batch),
            conv ? `${steps(conv.stepsTaken.mean)}${maxSteps} (${stopped})` : '—', cell(g.stats),
          ];
        });
      });
      return rows.length ? [{
        title: `${t.id} (${t.primaryMetric})`,
        headers: ['method', 'batch', 'steps to best', 'examples to best', 'steps taken', 'test'],
        rows,
      }] : [];
    }).map((table, i, all) => (i === all.length - 1 ? {
      ...table,
      note: 'Steps to best: the mean over seeds of the step whose weights were scored (the best validation loss); examples to best: that times the batch; steps taken: the mean over seeds, of the maximum, and how the runs stopped (plateau: the validation loss stopped improving; max_steps: the maximum was reached; diverged: the divergence rule fired).',
    } : table));
  },
});
