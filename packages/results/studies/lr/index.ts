// Question 9: does LoRA diverge at high learning rates? LoRA r=8 and full fine-tuning at 1x to 16x their
// declared learning rates (packages/bench/grids/study-lr.yaml; a grid's lr_factors multiply the declared
// rate, which is the default until a rate is chosen on valid): how many runs diverged, and what the
// others scored.
import type { ConfigGroup } from '../../src/aggregate/aggregate.ts';
import {
  atLrFactor, cell, chooseGroup, defineStudy, groupsAt, lrLabel, typicalTraining, type FindingsTable, type StudyConfig,
} from '../define.ts';
import { declaredLr } from '../../src/methods.ts';
import { LEGACY_PROTOCOL } from '../../src/record/schema.ts';

export const CONFIGS: StudyConfig[] = [
  { label: 'lora r=8', method: 'lora', rank: 8 },
  { label: 'full', method: 'full' },
];
/** Multiples of each method's declared learning rate (methods.ts declaredLr). */
export const LR_FACTORS = [1, 2, 4, 8, 16];

const rate = (diverged: number, ok: number) => (ok + diverged > 0 ? `${((100 * diverged) / (ok + diverged)).toFixed(0)}%` : '—');

export default defineStudy({
  id: 'lr',
  order: 9,
  title: '9. Does LoRA diverge at high learning rates?',
  intro: 'LoRA r=8 (every linear layer) and full fine-tuning at 1, 2, 4, 8 and 16 times their declared learning rates (the defaults until a rate is chosen on valid): how many runs diverged (the loss turned NaN or infinite, rose above 3 times its initial value, or ended above where it started), and the test score of the runs that did not.',
  empty: 'No LoRA r=8 or full fine-tuning runs above their declared learning rate yet.',
  grid: { name: 'study-lr' },
  chart: { page: 'stability', anchor: '', label: 'Stability: every method\'s score across its learning-rate grid, and divergence' },
  tables({ agg, tasks }) {
    const typical = typicalTraining(agg);
    const model = agg.scope?.model ?? '';
    // Per configuration, task and factor: the group of runs (one configuration; several only with other task knobs).
    const groupAt = (c: StudyConfig, task: (typeof tasks)[number], factor: number): ConfigGroup | undefined =>
      chooseGroup(groupsAt(agg, c, task.id).filter((g) => atLrFactor(agg, factor, 'declared')(g) && typical(g)), task.direction);
    const rows = CONFIGS.flatMap((c) => LR_FACTORS.map((f) => ({ c, f, groups: tasks.map((t) => groupAt(c, t, f)) })))
      .filter((row) => row.groups.some((g) => g !== undefined));
    // Answered once some run is above the declared rate.
    if (!rows.some((row) => row.f > 1)) return [];
    const label = (c: StudyConfig, f: number) => [c.label, lrLabel(f, f * declaredLr(model, c.method, agg.scope?.protocol ?? LEGACY_PROTOCOL))];
    const divergence: FindingsTable = {
      title: 'Diverged runs',
      headers: ['method', 'lr', ...tasks.map((t) => t.id), 'runs', 'diverged', 'divergence rate'],
      rows: rows.map(({ c, f, groups }) => {
        const sum = (pick: (g: ConfigGroup) => number) => groups.reduce((s, g) => s + (g ? pick(g) : 0), 0);
        return [
          ...label(c, f),
          ...groups.map((g) => (g ? `${g.counts.diverged}/${g.counts.total}` : '—')),
          String(sum((g) => g.counts.total)), String(sum((g) => g.counts.diverged)), rate(sum((g) => g.counts.diverged), sum((g) => g.counts.ok)),
        ];
      }),
      note: 'Per task: diverged runs / all runs. Divergence rate: diverged / (ok + diverged) over the tasks; runs that failed (crashed) are not a training outcome and are left out of it.',
    };
    const scores: FindingsTable = {
      title: 'Test score of the runs that did not diverge',
      headers: ['method', 'lr', ...tasks.map((t) => `${t.id} (${t.primaryMetric})`)],
      rows: rows.map(({ c, f, groups }) => [...label(c, f), ...groups.map((g) => cell(g?.stats))]),
      note: 'Per task only, since the tasks\' metrics differ; — where every run diverged or none was made.',
    };
    return [divergence, scores];
  },
});
