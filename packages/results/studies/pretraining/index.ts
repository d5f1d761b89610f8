// Question 6: how much does pretraining coverage matter? The same methods on the naive model (task
// language only) and on base (which also learned the skills the tasks build on), under one protocol,
// and the share of full fine-tuning's gain over the frozen base each recovers on each.
import type { Aggregated, ConfigGroup, TaskInfo } from '../../src/aggregate/aggregate.ts';
import { mean } from '../../src/aggregate/stats.ts';
import {
  atLrFactor, chooseGroup, defineStudy, DIVERGED_NOTE, groupCell, groupsAt, scopeProtocol, tasksOf, typicalTraining,
  type FindingsTable, type StudyConfig,
} from '../define.ts';

/** The two base models compared: without and with the skill documents in their corpus. */
export const MODELS = ['naive', 'base'] as const;

/** Every method at its defaults (LoRA also at r=64 and on q,v only), as packages/bench/grids/study-pretraining.yaml runs them. */
export const CONFIGS: StudyConfig[] = [
  { label: 'frozen', method: 'none' },
  { label: 'full', method: 'full' },
  { label: 'lora r=8', method: 'lora', rank: 8 },
  { label: 'lora r=8 (q,v)', method: 'lora', rank: 8, set: { target_modules: ['q', 'v'] } },
  { label: 'lora r=64', method: 'lora', rank: 64 },
  { label: 'dora r=8', method: 'dora', rank: 8 },
  { label: 'houlsby r=8', method: 'houlsby', rank: 8 },
  { label: 'ia3', method: 'ia3' },
  { label: 'ln', method: 'ln' },
  { label: 'bitfit', method: 'bitfit' },
  { label: 'prompt', method: 'prompt' },
  { label: 'vera', method: 'vera' },
];

/**
 * The configuration's group on a task: at the method's default learning rate and the scope's usual training settings.
 * A configuration whose every run diverged is returned too (it is an answer: LoRA r=8 on nli), when none has a score.
 */
function groupOf(agg: Aggregated | null, want: StudyConfig, task: TaskInfo): ConfigGroup | undefined {
  if (!agg) return undefined;
  const typical = typicalTraining(agg);
  const groups = groupsAt(agg, want, task.id).filter((g) => atLrFactor(agg, 1)(g) && typical(g));
  const scored = groups.filter((g) => g.stats.mean !== null);
  return chooseGroup(scored.length > 0 ? scored : groups.filter((g) => g.counts.diverged > 0), task.direction);
}

/** (method - frozen) / (full - frozen), signed so that a gain is positive; null where full fine-tuning gains nothing over the frozen base. */
export function shareOfGain(method: number | null | undefined, frozen: number | null | undefined, full: number | null | undefined, task: Pick<TaskInfo, 'direction'>): number | null {
  if (method == null || frozen == null || full == null) return null;
  const sign = task.direction === 'lower' ? -1 : 1;
  const fullGain = sign * (full - frozen);
  return fullGain > 0 ? (sign * (method - frozen)) / fullGain : null;
}

const percent = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(0)}%`);
const rate = (lr: number) => String(Number(lr.toPrecision(3)));

export default defineStudy({
  id: 'pretraining',
  order: 6,
  title: '6. How much does pretraining coverage matter?',
  intro: 'Each method at its defaults and its default learning rate on the naive model (pretrained on the task language only) and on base (which also read documents that teach the skills the tasks build on, in other forms), under the same protocol; the share of full fine-tuning\'s gain over the frozen base that each recovers, (method - frozen) / (full - frozen), on each model (— where full fine-tuning does not score above the frozen base).',
  empty: 'No method has runs on both naive and base under this protocol yet.',
  grid: { name: 'study-pretraining' },
  tables({ agg, aggregateOf }) {
    const protocol = scopeProtocol(agg);
    const [naive, base] = MODELS.map((model) => aggregateOf({ protocol, model }));
    const tasks = tasksOf(agg, naive ?? null, base ?? null);
    const on = (a: Aggregated | null | undefined, want: StudyConfig, t: TaskInfo) => groupOf(a ?? null, want, t);
    const answered = CONFIGS.some((c) => tasks.some((t) => on(naive, c, t) && on(base, c, t)));
    if (!answered) return [];
    const [frozen, full] = CONFIGS;
    const shares = new Map<string, { naive: number[]; base: number[] }>(CONFIGS.map((c) => [c.label, { naive: [], base: [] }]));
    const perTask: FindingsTable[] = tasks.flatMap((t) => {
      let diverged = false;
      const rows = CONFIGS.flatMap((c) => {
        const [n, b] = [on(naive, c, t), on(base, c, t)];
        if (!n && !b) return [];
        const share = (a: Aggregated | null | undefined, g: ConfigGroup | undefined) => shareOfGain(g?.stats.mean, on(a, frozen!, t)?.stats.mean, on(a, full!, t)?.stats.mean, t);
        const [sn, sb] = [share(naive, n), share(base, b)];
        if (sn !== null) shares.get(c.label)!.naive.push(sn);
        if (sb !== null) shares.get(c.label)!.base.push(sb);
        if ((n?.counts.diverged ?? 0) + (b?.counts.diverged ?? 0) > 0) diverged = true;
        return [[c.label, groupCell(n), groupCell(b), percent(sn), percent(sb)]];
      });
      // A task where only the frozen base has runs says nothing about coverage.
      if (!rows.some((r) => r[0] !== frozen!.label)) return [];
      return [{
        title: `${t.id} (${t.primaryMetric})`,
        headers: ['method', 'naive', 'base', 'share of full\'s gain, naive', 'share of full\'s gain, base'],
        rows,
        ...(diverged ? { note: `${DIVERGED_NOTE} A configuration with no score has no share.` } : {}),
      }];
    });
    const summary = CONFIGS.filter((c) => c !== frozen && c !== full).flatMap((c) => {
      const s = shares.get(c.label)!;
      if (s.naive.length === 0 && s.base.length === 0) return [];
      return [[c.label, `${percent(mean(s.naive))} (${s.naive.length})`, `${percent(mean(s.base))} (${s.base.length})`]];
    });
    // On naive each method trains at its declared rate; on base at the rate chosen on valid (question 5).
    // Where the two differ, base at naive's rate (from the search's runs, where it has any) tells the
    // corpus's effect from the rate's.
    let sameRateDiverged = false;
    const typicalOnBase = base ? typicalTraining(base) : () => false;
    const sameRate = CONFIGS.filter((c) => c !== frozen).flatMap((c) => tasks.flatMap((t) => {
      const [n, b] = [on(naive, c, t), on(base, c, t)];
      if (!base || !n || !b || Math.abs(n.lr - b.lr) <= 1e-6 * n.lr) return [];
      const atNaive = chooseGroup(groupsAt(base, c, t.id).filter((g) => typicalOnBase(g) && Math.abs(g.lr - n.lr) <= 1e-6 * n.lr), t.direction);
      if ([n, b, atNaive].some((g) => (g?.counts.diverged ?? 0) > 0)) sameRateDiverged = true;
      const at = (g: ConfigGroup | undefined) => (g ? `${groupCell(g)} at ${rate(g.lr)}` : '—');
      return [[c.label, t.id, at(n), at(b), at(atNaive)]];
    }));
    return [
      ...perTask,
      ...(summary.length ? [{
        title: 'Share of full fine-tuning\'s gain, mean over tasks',
        headers: ['method', 'naive', 'base'],
        rows: summary,
        note: 'Mean over the tasks where full fine-tuning scores above the frozen base on that model (in brackets, how many). 100% is full fine-tuning\'s score, 0% the frozen base\'s.',
      }] : []),
      ...(sameRate.length ? [{
        title: 'Where the learning rates differ: base at naive\'s rate',
        headers: ['method', 'task', 'naive', 'base', 'base at naive\'s rate'],
        rows: sameRate,
        note: `On naive each method trains at its declared rate; on base at the rate chosen on valid from the learning-rate search (question 5). The last column is base at the rate naive used, from the search's runs where there are any (— where base has none), so a difference between the models can be told from a difference between the rates.${sameRateDiverged ? ` ${DIVERGED_NOTE}` : ''}`,
      }] : []),
    ];
  },
});
