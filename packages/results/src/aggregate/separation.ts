// Can a task's column of the leaderboard be read as a ranking? Two checks per task, side by side:
// calibration (full fine-tuning gains enough over the frozen base without saturating the metric, so
// there is room between the methods) and discriminability (the methods' spread against the seed noise,
// and how many pairs of methods differ significantly).
import { discriminabilityByTask, type Aggregated } from './aggregate.ts';
import type { Discriminability } from '../stats/discriminability.ts';

/**
 * The calibration rule for a task's primary metric (higher is better, on a 0-1 scale): full fine-tuning
 * scores at least `minGain` above the frozen base and at most `maxFull`.
 */
export const CALIBRATION_RULE = { minGain: 0.3, maxFull: 0.95 } as const;

export interface TaskSeparation {
  task: string;
  metric: string;
  /** Test means of the reference rows at their configurations chosen on valid (null without runs). */
  frozen: number | null;
  full: number | null;
  /** full - frozen. */
  gain: number | null;
  /**
   * Whether the task passes CALIBRATION_RULE; null when it cannot be judged (a reference row is missing,
   * or the metric is lower-is-better, for which the rule is not defined).
   */
  calibrated: boolean | null;
  /** Why it fails the rule, in words; null when it passes or cannot be judged. */
  off: string | null;
  discriminability: Discriminability;
}

const f3 = (v: number) => v.toFixed(3);

/** One entry per task of the scope, in the aggregate's task order. */
export function taskSeparation(agg: Aggregated): TaskSeparation[] {
  const disc = discriminabilityByTask(agg);
  return agg.tasks.map((task) => {
    const meanOf = (method: string) => agg.methodTask.find((r) => r.task === task.id && r.method === method)?.best?.mean ?? null;
    const frozen = meanOf('none');
    const full = meanOf('full');
    const gain = frozen !== null && full !== null ? full - frozen : null;
    let calibrated: boolean | null = null;
    let off: string | null = null;
    if (gain !== null && full !== null && task.direction === 'higher') {
      const tooSmall = gain < CALIBRATION_RULE.minGain;
      const saturated = full > CALIBRATION_RULE.maxFull;
      calibrated = !tooSmall && !saturated;
      if (tooSmall) off = `full fine-tuning gains ${f3(gain)} over the frozen base, less than ${CALIBRATION_RULE.minGain.toFixed(2)}`;
      else if (saturated) off = `full fine-tuning scores ${f3(full)}, above the ${CALIBRATION_RULE.maxFull.toFixed(2)} ceiling`;
    }
    return { task: task.id, metric: task.primaryMetric, frozen, full, gain, calibrated, off, discriminability: disc[task.id]! };
  });
}

const num = (v: number | null, digits = 3) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));

/** A task's entry as the report's and the site's tables print it. */
export function separationCells(s: TaskSeparation) {
  const d = s.discriminability;
  return {
    frozen: num(s.frozen),
    full: num(s.full),
    verdict: s.calibrated === null ? '—' : s.calibrated ? 'yes' : `no: ${s.off}`,
    spread: d.spread === null ? '—' : `${num(d.spread)} (${d.best}, ${d.worst})`,
    pooledSd: num(d.pooled_sd),
    ratio: num(d.ratio, 1),
    pairs: d.separable_pairs === null ? '—' : `${d.separable_pairs} of ${d.pairs}`,
  };
}

export function separationMarkdown(agg: Aggregated): string {
  const rows = taskSeparation(agg);
  if (rows.length === 0) return '';
  const lines = rows.map((s) => {
    const c = separationCells(s);
    return `| ${s.task} (${s.metric}) | ${c.frozen} | ${c.full} | ${c.verdict} | ${c.spread} | ${c.pooledSd} | ${c.ratio} | ${c.pairs} |`;
  });
  return [
    '## How well the tasks separate the methods',
    '',
    `Calibrated: full fine-tuning at least ${CALIBRATION_RULE.minGain.toFixed(2)} above the frozen base and at most ${CALIBRATION_RULE.maxFull.toFixed(2)}, `
      + 'so there is room between the methods. Spread: best minus worst parameter-efficient mean on test, each method at its configuration '
      + 'chosen on valid (at r=8 where it was run at r=8); pooled sd: the seed-to-seed standard deviation pooled over the methods; ratio: '
      + 'spread / pooled sd; separable pairs: pairs of methods whose means differ by a t test at 5% on the pooled variance. '
      + 'A column that is not calibrated, or where few pairs separate, ranks its methods mostly by chance.',
    '',
    '| task | frozen | full | calibrated | spread (best, worst) | pooled sd | ratio | separable pairs |',
    '|---|---:|---:|---|---|---:|---:|---:|',
    ...lines,
    '',
  ].join('\n');
}
