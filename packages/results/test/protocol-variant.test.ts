// A configuration trained with another batch size or maximum steps than its protocol (a study of the
// protocol itself) is shown in its study, never chosen for the leaderboard, whatever its validation score.
import { describe, expect, it } from 'vitest';
import { aggregate, shortLabels } from '../src/aggregate/aggregate.ts';
import { leaderboardJson } from '../src/aggregate/leaderboard.ts';
import { protocolTraining } from '../src/methods.ts';
import type { RunRecord } from '../src/record/schema.ts';
import { sampleRecord } from './fixtures.ts';

let next = 0;
function run(seed: number, score: number, training: { batch_size: number; steps: number }, model = 'base'): RunRecord {
  const r = sampleRecord((next++).toString(16).padStart(20, '0'));
  return {
    ...r,
    protocol: 'converge',
    seed,
    model: { ...r.model, id: model, hash: `${model}-hash` },
    training: { ...r.training, ...training },
    metrics: { ...r.metrics, primary: score, valid: { accuracy: score }, test: { accuracy: score } },
  } as RunRecord;
}

describe('protocol variants', () => {
  const protocol = protocolTraining('base', 'converge')!;

  it('come from the catalogue: converge on base trains batches of 16 for at most 3,000 steps', () => {
    expect(protocol).toEqual({ batch_size: 16, steps: 3000 });
    // A model the catalogue does not list trains as the naive model.
    expect(protocolTraining('some/checkpoint', 'converge')).toEqual(protocolTraining('naive', 'converge'));
    expect(protocolTraining('base', 'no-such-protocol')).toBeNull();
  });

  it('are left out of the leaderboard though they score better on valid', () => {
    const records = [0, 1, 2].flatMap((seed) => [run(seed, 0.5, protocol), run(seed, 0.9, { batch_size: 4, steps: 12000 })]);
    const agg = aggregate(records);
    expect(agg.groups.map((g) => g.protocolVariant).sort()).toEqual([false, true]);
    const cell = leaderboardJson(agg).nli!.lora!;
    expect(cell.mean).toBeCloseTo(0.5, 12);
    expect(cell.n_configs).toBe(1);
  });

  it('do not exist in a scope where no run trains with the protocol settings (records with settings of their own)', () => {
    const agg = aggregate([run(0, 0.5, { batch_size: 4, steps: 10 }), run(0, 0.7, { batch_size: 8, steps: 10 })]);
    expect(agg.groups.every((g) => !g.protocolVariant)).toBe(true);
    expect(leaderboardJson(agg).nli!.lora!.mean).toBeCloseTo(0.7, 12);
  });
});

describe('labels of configurations at and off the protocol', () => {
  const keys = ['r', 'lr', 'batch_size', 'micro_batch_size', 'steps'];
  const at = { r: 8, lr: 0.005, batch_size: 16, micro_batch_size: 8, steps: 3000 };
  it("leave the protocol's batch size and steps out, and name them for a study's runs", () => {
    const labels = shortLabels([
      { key: 'a', config: at, atProtocol: true },
      { key: 'b', config: { ...at, batch_size: 4, micro_batch_size: 4, steps: 12000 }, atProtocol: false },
    ], keys);
    expect([...labels.values()]).toEqual(['r=8, lr=0.005', 'r=8, lr=0.005, batch_size=4, micro_batch_size=4, steps=12000']);
  });
  it('keep every field when leaving them out would give two configurations one label', () => {
    const labels = shortLabels([
      { key: 'a', config: at, atProtocol: true },
      { key: 'b', config: { ...at, micro_batch_size: 16 }, atProtocol: true },
    ], keys);
    expect(labels.get('a')).toBe('r=8, lr=0.005, batch_size=16, micro_batch_size=8, steps=3000');
    expect(labels.get('b')).toBe('r=8, lr=0.005, batch_size=16, micro_batch_size=16, steps=3000');
  });
});
