// Run keys (the run id without the code version) and how much of a grid is recorded: what the site's
// "in progress" line counts.
import { describe, expect, it } from 'vitest';
import { recordedGridRuns } from '../src/aggregate/grid-progress.ts';
import { aggregate } from '../src/aggregate/index.ts';
import { runKeyOf, runKeyOfRecord, specOfRecord } from '../src/record/verify.ts';
import { sealedRecord } from './fixtures.ts';

describe('run keys', () => {
  it('are the same for a run under any code version, and differ between runs', () => {
    const a = sealedRecord(0);
    const later = sealedRecord(0, { code_version: 'fedcba9876543210' });
    expect(later.run_id).not.toBe(a.run_id);
    expect(runKeyOfRecord(later)).toBe(runKeyOfRecord(a));
    expect(runKeyOfRecord(sealedRecord(1))).not.toBe(runKeyOfRecord(a));
    expect(runKeyOfRecord(a)).not.toBe(a.run_id);
    // What a grid exports from a resolved spec (any code version) is what a reader gets from the record.
    expect(runKeyOf(specOfRecord(a, 'whatever', a.training.eval_every))).toBe(runKeyOfRecord(a));
  });
});

describe('recorded grid runs', () => {
  it('counts each grid run once whatever its code version, and neither failed runs nor runs outside the grid', () => {
    const grid = [0, 1, 2, 3].map((seed) => runKeyOfRecord(sealedRecord(seed)));
    const records = [
      sealedRecord(0),
      sealedRecord(0, { code_version: 'fedcba9876543210' }), // the same run again, under another code version
      sealedRecord(1, { status: 'diverged', reason: 'loss was NaN at step 3', metrics: { ...sealedRecord(1).metrics, primary: null, valid: {}, test: {} } }),
      sealedRecord(2, { status: 'failed', reason: 'out of memory', metrics: { ...sealedRecord(2).metrics, primary: null, valid: {}, test: {} } }),
      sealedRecord(9), // not a grid run
    ];
    const agg = aggregate(records);
    expect(agg.runs.map((r) => r.runKey).sort()).toEqual(records.map(runKeyOfRecord).sort());
    // Seeds 0 (once) and 1 (diverged is an outcome); not 2 (failed, to be run again), 3 (not recorded) or 9.
    expect(recordedGridRuns(agg.runs, grid)).toBe(2);
    expect(recordedGridRuns(agg.runs, [])).toBe(0);
  });
});
