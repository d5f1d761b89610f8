// The page-side helpers that need no browser: matching a browser run to its leaderboard configuration, and the ETA.
import { describe, expect, it } from 'vitest';
import { etaSeconds, findLeaderboardCell, type BoardConfig } from '../src/client.ts';

const HASH = 'dc6db7341f207a84e922e5c32aba3569698f53a9c6d98375df2e7d7b2ae22aec';
const LORA = { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q', 'v'], init_lora_weights: 'default', use_rslora: false, bias: 'none' };
const group = (over: Partial<BoardConfig> & { config?: Record<string, unknown> }): BoardConfig => ({
  method: 'lora', task: 'nli', rank: 4, lr: 0.002, steps: 300, model: `default@${HASH.slice(0, 16)}`, config: LORA,
  label: 'r=4', mean: 0.602, std: 0.025, n: 3, runId: 'abc', ...over,
});
const manifest = { model: { id: 'default', params: 957_184, hash: HASH } };
const request = { method: 'lora', task: 'nli', rank: 4, lr: 0.002 };

describe('findLeaderboardCell', () => {
  it('finds the group with the same method, task, rank, hyperparameters, model and learning rate', () => {
    const board = [group({ config: { ...LORA, use_rslora: true }, mean: 0.593 }), group({ lr: 0.004, mean: 0.59 }), group({})];
    expect(findLeaderboardCell(board, manifest, request, LORA)).toEqual({ cell: board[2], exact: true });
  });

  it('falls back to the nearest learning rate of the same configuration, and says so', () => {
    const board = [group({ lr: 0.0005, mean: 0.5 }), group({ lr: 0.004, mean: 0.59 })];
    expect(findLeaderboardCell(board, manifest, request, LORA)).toEqual({ cell: board[1], exact: false });
  });

  it('finds nothing on another model, another checkpoint of it, another rank, or other hyperparameters', () => {
    expect(findLeaderboardCell([group({ model: `base@${HASH.slice(0, 16)}` })], manifest, request, LORA)).toBeNull();
    expect(findLeaderboardCell([group({ model: 'default@0123456789abcdef' })], manifest, request, LORA)).toBeNull();
    expect(findLeaderboardCell([group({ rank: 8 })], manifest, request, LORA)).toBeNull();
    expect(findLeaderboardCell([group({ config: { ...LORA, lora_alpha: 16 } })], manifest, request, LORA)).toBeNull();
    expect(findLeaderboardCell([group({ mean: null })], manifest, request, LORA)).toBeNull();
  });
});

describe('etaSeconds', () => {
  it('extrapolates the mean pace so far', () => {
    expect(etaSeconds(25, 100, 10)).toBe(30);
    expect(etaSeconds(100, 100, 40)).toBe(0);
    expect(etaSeconds(0, 100, 0)).toBeNaN();
  });
});
