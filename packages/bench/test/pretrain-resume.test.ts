// Resumable pretraining: a run halted after a checkpoint and then resumed ends with the same loss
// curve and the same weights (byte for byte) as an uninterrupted run of the same recipe; a changed
// recipe is refused. A tiny recipe (no WordNet, so it runs anywhere) keeps this to seconds.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '@peft-bench/core';
import { pretrain, rewriteCard, STATE_DIR } from '../src/pretrain.ts';

const recipe = {
  id: 'tiny-resume',
  description: 'A tiny resumable recipe for tests.',
  seed: 7,
  corpus: { seed: 11, mix: { tasks: 120, skills: { facts: 30, arithmetic: 30, logic: 30, dialogue: 30 }, wordnet: null } },
  tokenizer: { kind: 'bpe', vocabSize: 300, trainDocuments: 100 },
  architecture: { family: 'gpt2', d: 16, nLayer: 1, nHead: 2, maxSeq: 32 },
  training: {
    steps: 7, batch: 4, seqLen: 32, lr: 0.01, warmupSteps: 2, schedule: 'cosine', minLrRatio: 0.1,
    weightDecay: 0.1, gradClip: 1, heldOutDocuments: 10, checkpointEvery: 2,
  },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pretrain-resume-'));
  await writeFile(path.join(dir, 'recipe.json'), JSON.stringify(recipe));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resumable pretraining', () => {
  // 'auto' is the backend pretraining uses (wasm + OpenBLAS where the addon is built); 'cpu' the reference.
  it.each(['cpu', 'auto'])('halted after a checkpoint and resumed, it ends exactly where an uninterrupted run does (%s backend)', async (backend) => {
    const common = { recipe: path.join(dir, 'recipe.json'), backend, quiet: true };
    const straight = await pretrain({ ...common, out: path.join(dir, `straight-${backend}`) });
    expect(straight).not.toBeNull();
    expect(existsSync(path.join(dir, `straight-${backend}`, STATE_DIR))).toBe(false); // removed once complete

    // "Killed" after step 5: the last checkpoint is step 4, so step 5 is redone on resume.
    const out = path.join(dir, `resumed-${backend}`);
    expect(await pretrain({ ...common, out, haltAfterStep: 5 })).toBeNull();
    const state = await readSafetensors(path.join(out, STATE_DIR, 'state.safetensors'));
    expect(state.metadata.step).toBe('4');
    expect(existsSync(path.join(out, 'model.safetensors'))).toBe(false);

    const resumed = await pretrain({ ...common, out });
    expect(resumed!.resumes).toBe(1);
    expect(resumed!.steps).toBe(7);
    expect(resumed!.losses).toEqual(straight!.losses);
    expect(resumed!.finalLoss).toBe(straight!.finalLoss);
    expect(resumed!.heldOutLoss).toBe(straight!.heldOutLoss);
    expect(resumed!.checkpointHash).toBe(straight!.checkpointHash);
    expect(await readFile(path.join(out, 'tokenizer.json'), 'utf8')).toBe(await readFile(path.join(dir, `straight-${backend}`, 'tokenizer.json'), 'utf8'));
    const card = await readFile(path.join(out, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('| facts |');
    expect(card).toContain('resumed 1 time');
    // --card rebuilds the same card from recipe.json and pretrain_log.json.
    await rewriteCard(out);
    expect(await readFile(path.join(out, 'MODEL_CARD.md'), 'utf8')).toBe(card);
  }, 120_000);

  it('interrupted twice, it still ends where an uninterrupted run does', async () => {
    const common = { recipe: path.join(dir, 'recipe.json'), backend: 'auto', quiet: true };
    const out = path.join(dir, 'twice');
    expect(await pretrain({ ...common, out, haltAfterStep: 3 })).toBeNull(); // state at step 2
    expect(await pretrain({ ...common, out, haltAfterStep: 5 })).toBeNull(); // resumed at 2, state at 4
    const resumed = await pretrain({ ...common, out });
    const straight = JSON.parse(await readFile(path.join(dir, 'straight-auto', 'pretrain_log.json'), 'utf8'));
    expect(resumed!.resumes).toBe(2);
    expect(resumed!.losses).toEqual(straight.losses);
    expect(resumed!.checkpointHash).toBe(straight.checkpointHash);
  }, 120_000);

  it('refuses to resume a state made from another recipe', async () => {
    const out = path.join(dir, 'changed');
    const file = path.join(dir, 'changed.json');
    await writeFile(file, JSON.stringify(recipe));
    expect(await pretrain({ recipe: file, out, backend: 'cpu', quiet: true, haltAfterStep: 3 })).toBeNull();
    await writeFile(file, JSON.stringify({ ...recipe, training: { ...recipe.training, lr: 0.02 } }));
    await expect(pretrain({ recipe: file, out, backend: 'cpu', quiet: true })).rejects.toThrow(/different recipe.*delete .*\.pretrain-state to start over/);
    expect(existsSync(path.join(out, 'model.safetensors'))).toBe(false);
  }, 120_000);
});
