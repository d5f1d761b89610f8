// The calibration rule, checked on the committed calibration records (grids/calibration-converge.yaml on
// base, calibration-converge-large.yaml on base-large, calibration-converge-naive.yaml on naive): under
// the converge protocol, full fine-tuning scores at least 0.30 above the frozen base and at most 0.95
// on the task's primary metric, and the trained runs (full fine-tuning, LoRA r=8 on every linear layer)
// stop on a plateau of the validation loss before their maximum steps.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords } from '@peft-bench/results/record/read';
import { aggregate, CALIBRATION_RULE, taskSeparation } from '@peft-bench/results/aggregate/index';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { REPO_ROOT } from '../src/run/code-version.ts';
import { DEFAULT_MODEL_ID } from '../src/run/models.ts';

const TASKS = ['sql', 'nli', 'summarize', 'math'];
const { minGain, maxFull } = CALIBRATION_RULE;
/**
 * Per base, the tasks the calibration found off, with what was measured (README, Task difficulty):
 * checked to still be off, so that the day one passes this list and the README are updated.
 */
const OFF: Record<string, Record<string, string>> = {
  [DEFAULT_MODEL_ID]: {
    nli: 'full fine-tuning 0.555 against frozen 0.330 (+0.225); LoRA r=8 at 5e-3 diverges',
  },
  'base-large': {
    nli: 'full fine-tuning 0.585 against frozen 0.310 (+0.275); LoRA r=8 at 5e-3 diverges',
    summarize: 'full fine-tuning 1.000, above the 0.95 ceiling',
  },
  naive: {
    nli: 'full fine-tuning 0.460 against frozen 0.385 (+0.075)',
    summarize: 'full fine-tuning 0.985, above the 0.95 ceiling: the template nearly saturates it',
    math: 'full fine-tuning 0.260 against frozen 0.000',
  },
};

/**
 * Where the report, which reads every seed of the leaderboard's configuration, judges a task otherwise
 * than the seed-0 calibration run, and why: these tasks are off in OFF and calibrated in the report.
 */
const OFF_ON_SEED_0_ONLY: Record<string, Record<string, string>> = {
  naive: {
    summarize: 'full fine-tuning scored 0.985 on seed 0, over the ceiling, and 0.933 and 0.861 on seeds 1 and 2 (the pretraining study): a mean of 0.927, within it',
  },
};

describe.each(Object.keys(OFF))('calibration under the converge protocol on %s', (model) => {
  it('full fine-tuning is at least 0.30 above frozen and at most 0.95, and trained runs plateau, on every calibrated task', async () => {
    const { records, problems } = await readRecords(path.join(REPO_ROOT, 'results'));
    expect(problems).toEqual([]);
    const calibration = records.filter((r) => r.protocol === 'converge' && r.model.id === model && r.seed === 0 && r.status !== 'failed');
    const find = (method: string, task: string): RunRecord | undefined => {
      // The calibration runs are the first of their spec; later grids (other code versions) may repeat seed 0.
      const found = calibration
        .filter((r) => r.method.id === method && r.task.id === task && (method !== 'lora' || r.method.rank === 8))
        .sort((a, b) => a.provenance.started_at.localeCompare(b.provenance.started_at));
      return found[0];
    };
    const measured = TASKS.filter((task) => find('none', task)?.status === 'ok' && find('full', task)?.status === 'ok');
    expect(measured).toEqual(TASKS);
    const off = OFF[model]!;
    for (const task of Object.keys(off)) {
      const full = find('full', task)!.metrics.primary!;
      const frozen = find('none', task)!.metrics.primary!;
      expect(full < frozen + minGain || full > maxFull, `${task} is recorded as off: ${off[task]}`).toBe(true);
    }
    for (const task of measured.filter((t) => !(t in off))) {
      const frozen = find('none', task)!;
      const full = find('full', task)!;
      // The same examples: the task knobs (including the training set size) agree.
      expect(full.task.config).toEqual(frozen.task.config);
      expect(full.metrics.primary!, `full on ${task}`).toBeGreaterThanOrEqual(frozen.metrics.primary! + minGain);
      expect(full.metrics.primary!, `full on ${task}`).toBeLessThanOrEqual(maxFull);
      const lora = find('lora', task);
      if (lora) expect(lora.method.config.target_modules).toEqual(['all-linear']);
      for (const trained of [full, ...(lora ? [lora] : [])]) {
        expect(trained.convergence?.stopped, `${trained.method.id} on ${task}`).toBe('plateau');
        expect(trained.convergence!.best_step).toBeLessThan(trained.training.steps);
      }
    }
  });

  it('agrees with the report: the tasks the leaderboard marks as not calibrated are the ones recorded as off', async () => {
    const { records } = await readRecords(path.join(REPO_ROOT, 'results'));
    const agg = aggregate(records, [], { protocol: 'converge', model });
    const verdicts = taskSeparation(agg).filter((s) => TASKS.includes(s.task));
    expect(verdicts.map((s) => s.task).sort()).toEqual([...TASKS].sort());
    const seed0Only = OFF_ON_SEED_0_ONLY[model] ?? {};
    const offInReport = Object.keys(OFF[model]!).filter((task) => !(task in seed0Only));
    expect(verdicts.filter((s) => s.calibrated === false).map((s) => s.task).sort()).toEqual(offInReport.sort());
    for (const task of Object.keys(seed0Only)) expect(verdicts.find((s) => s.task === task)!.calibrated, `${task}: ${seed0Only[task]}`).toBe(true);
  });
});
