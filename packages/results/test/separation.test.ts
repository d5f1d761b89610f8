// Whether each leaderboard column can be read as a ranking: the calibration rule on the reference rows
// beside the discriminability of the parameter-efficient methods.
import { describe, expect, it } from 'vitest';
import { aggregate } from '../src/aggregate/aggregate.ts';
import { CALIBRATION_RULE, separationMarkdown, taskSeparation } from '../src/aggregate/separation.ts';
import type { RunRecord } from '../src/record/schema.ts';
import { sampleRecord } from './fixtures.ts';

let next = 0;
function run(method: string, task: string, seed: number, score: number): RunRecord {
  const r = sampleRecord((next++).toString(16).padStart(20, '0'));
  const rank = method === 'lora' ? 8 : null;
  return {
    ...r,
    protocol: 'converge',
    seed,
    model: { ...r.model, id: 'base', hash: 'base-hash' },
    method: { id: method, family: method === 'lora' ? 'low-rank' : 'other', config: rank ? { r: rank } : {}, rank },
    task: { ...r.task, id: task },
    metrics: { ...r.metrics, primary: score, valid: { accuracy: score }, test: { accuracy: score } },
  } as RunRecord;
}

/** Three seeds around `mean` (±0.01). */
function seeds(method: string, task: string, mean: number): RunRecord[] {
  return [-0.01, 0, 0.01].map((d, seed) => run(method, task, seed, mean + d));
}

describe('task separation', () => {
  const records = [
    // sql: full gains 0.8 and the two methods are far apart.
    ...seeds('none', 'sql', 0.02), ...seeds('full', 'sql', 0.82), ...seeds('lora', 'sql', 0.7), ...seeds('ln', 'sql', 0.2),
    // nli: full gains only 0.2, and the methods tie.
    ...seeds('none', 'nli', 0.33), ...seeds('full', 'nli', 0.53), ...seeds('lora', 'nli', 0.5), ...seeds('ln', 'nli', 0.5),
    // summarize: full saturates the metric.
    ...seeds('none', 'summarize', 0.1), ...seeds('full', 'summarize', 0.97), ...seeds('lora', 'summarize', 0.9), ...seeds('ln', 'summarize', 0.8),
  ];
  const agg = aggregate(records);
  const byTask = new Map(taskSeparation(agg).map((s) => [s.task, s]));

  it('passes a task whose full fine-tuning gains enough without saturating, and says why the others fail', () => {
    expect(byTask.get('sql')).toMatchObject({ calibrated: true, off: null });
    expect(byTask.get('sql')!.gain).toBeCloseTo(0.8, 9);
    expect(byTask.get('nli')).toMatchObject({ calibrated: false });
    expect(byTask.get('nli')!.off).toBe('full fine-tuning gains 0.200 over the frozen base, less than 0.30');
    expect(byTask.get('summarize')).toMatchObject({ calibrated: false, off: 'full fine-tuning scores 0.970, above the 0.95 ceiling' });
    expect(CALIBRATION_RULE).toEqual({ minGain: 0.3, maxFull: 0.95 });
  });

  it('sets the spread and the separable pairs of the parameter-efficient methods beside it, reference rows left out', () => {
    expect(byTask.get('sql')!.discriminability).toMatchObject({ methods: 2, best: 'lora', worst: 'ln', pairs: 1, separable_pairs: 1 });
    expect(byTask.get('nli')!.discriminability).toMatchObject({ methods: 2, spread: 0, separable_pairs: 0 });
  });

  it('cannot judge a task without a reference row', () => {
    const partial = taskSeparation(aggregate([...seeds('full', 'sql', 0.8), ...seeds('lora', 'sql', 0.5)]));
    expect(partial).toEqual([expect.objectContaining({ task: 'sql', frozen: null, gain: null, calibrated: null, off: null })]);
  });

  it('prints one Markdown row per task with the verdict', () => {
    const md = separationMarkdown(agg);
    expect(md).toContain('## How well the tasks separate the methods');
    expect(md).toMatch(/\| sql \(accuracy\) \| 0\.020 \| 0\.820 \| yes \| 0\.500 \(lora, ln\) \|/);
    expect(md).toContain('| no: full fine-tuning gains 0.200 over the frozen base, less than 0.30 |');
  });
});
