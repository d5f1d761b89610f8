// The checks of the conformance suite, as functions, so that the suite (every registered method),
// the scaffold test (a freshly generated folder) and the self-test (a deliberately broken method)
// run the same code. Each throws (via expect) on the first violated property.
import { expect } from 'vitest';
import { join } from 'node:path';
import type { ModelFamily } from '@peft-bench/core/model/config';
import { fieldSchemas } from '../src/validate.ts';
import { withRank } from '../src/registry.ts';
import type { Attachment, Method } from '../src/types.ts';
import { Trainer, fixedBatch, logits, maxAbsDiff, snapshot, tinyModel } from './fixtures.ts';

export const SEED = 11;
const SEQ = 16; // the tiny model's maxSeq: every position is used

/** The configs to check for a method on a family: its declared variants, or the defaults. */
export async function configsFor(method: Method, family: ModelFamily, dir: string): Promise<Record<string, unknown>[]> {
  if (!method.conformance) return [{}];
  const model = tinyModel(family);
  try {
    const list = await method.conformance({ model, dir: join(dir, `${method.id}-${family}-fixture`), seed: SEED });
    return list.length ? list : [{}];
  } finally {
    model.dispose();
  }
}

export function checkDefinition(method: Method): void {
  expect(method.title.length).toBeGreaterThan(0);
  expect(method.paper.url).toMatch(/^https?:\/\//);
  expect(method.description.length).toBeGreaterThan(40);
  for (const [name, f] of Object.entries(fieldSchemas(method.hyperparameters))) {
    expect(f.description, `${name} description`).toBeTruthy();
    expect(f.default, `${name} default`).not.toBeUndefined();
  }
}

export function checkValidation(method: Method): void {
  expect(() => method.parse({ no_such_field: 1 })).toThrow(new RegExp(`${method.id}.*no_such_field`));
  const fields = fieldSchemas(method.hyperparameters);
  for (const [name, f] of Object.entries(fields)) {
    const t = Array.isArray(f.type) ? f.type[0] : f.type;
    const bad = f.minimum !== undefined ? f.minimum - 1 : f.enum ? '__not_a_value__' : t === 'boolean' ? 'yes' : t === 'array' ? 5 : t === 'number' || t === 'integer' ? 'x' : null;
    if (bad === null) continue;
    expect(() => method.parse({ [name]: bad }), name).toThrow(new RegExp(`method '${method.id}'.*${name}`));
  }
  if (method.rankParam) {
    const rank = fields[method.rankParam]!.default as number;
    expect(withRank(method, rank)[method.rankParam]).toBe(rank);
    expect(() => withRank(method, 0)).toThrow(new RegExp(`${method.rankParam}`));
  } else {
    expect(() => withRank(method, 4)).toThrow(/takes no rank/);
  }
}

export async function checkRefusesFamily(method: Method, family: ModelFamily, config: Record<string, unknown>): Promise<void> {
  const model = tinyModel(family);
  try {
    await expect(method.attach(model, config, { seed: SEED })).rejects.toThrow(new RegExp(`${method.id}.*${family}`));
  } finally {
    model.dispose();
  }
}

function changedScalars(before: Map<string, Float32Array>, after: Map<string, Float32Array>): number {
  let n = 0;
  for (const [k, a] of before) {
    const b = after.get(k)!;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  }
  return n;
}

/**
 * Attaches to a tiny model and checks: identity at init (when claimed); trainableCount() equals
 * the scalars that change in 3 real AdamW steps (base and added); frozen tensors bit-identical; a
 * growing method keeps the function at the switch; 20 steps lower the loss; merge/unmerge exact;
 * analysis JSON-friendly; save/load round-trips into a fresh attachment; detach restores the base.
 */
export async function checkAttachment(method: Method, family: ModelFamily, extra: Record<string, unknown>, dir: string): Promise<void> {
  const config = method.parse(extra);
  const model = tinyModel(family);
  const batch0 = fixedBatch(48, 2, SEQ);
  let batch = batch0;
  const base0 = snapshot(model.params());
  const out0 = logits(model, batch0);
  let att: Attachment | null = await method.attach(model, config, { seed: SEED });
  const prefix = model.embeddings.prefix?.length ?? 0;
  if (prefix > 0) batch = fixedBatch(48, 2, SEQ - prefix);
  const trainer = new Trainer();
  try {
    if (method.isIdentityAtInit(config)) expect(maxAbsDiff(logits(model, batch), out0), 'identity at init').toBeLessThan(1e-4);

    // Every distinct variable, base and added, so that a scalar is counted once.
    const everything = new Map(model.params());
    const baseVars = new Set(everything.values());
    for (const [k, v] of att.trainable) if (!baseVars.has(v)) everything.set(`added:${k}`, v);
    const before = snapshot(everything);
    const baseAtAttach = snapshot(model.params());
    const trainableVars = new Set(att.trainable.values());
    const frozenKeys = [...model.params()].filter(([, v]) => !trainableVars.has(v)).map(([k]) => k);
    const losses: number[] = [];
    const step = (s: number) => {
      const outBefore = att!.onStep ? logits(model, batch) : null;
      const r = att!.onStep?.(s);
      if (r?.trainableChanged) {
        expect(maxAbsDiff(logits(model, batch), outBefore!), `function unchanged when trainables change at step ${s}`).toBeLessThan(1e-5);
        for (const [k, v] of att!.trainable) {
          if (baseVars.has(v) || everything.has(`added:${k}`)) continue;
          everything.set(`added:${k}`, v);
          before.set(`added:${k}`, Float32Array.from(v.dataSync() as Float32Array));
        }
      }
      losses.push(trainer.train(model, att!.trainable, batch));
    };
    att.setTraining?.(true);
    if (att.trainable.size > 0) for (let s = 0; s < 3; s++) step(s);
    expect(changedScalars(before, snapshot(everything)), 'scalars changed vs trainableCount()').toBe(att.trainableCount());
    const baseAfter = snapshot(model.params());
    for (const k of frozenKeys) expect(maxAbsDiff(baseAtAttach.get(k)!, baseAfter.get(k)!), `frozen ${k}`).toBe(0);

    if (att.trainable.size > 0) {
      for (let s = 3; s < 20; s++) step(s);
      // The tiny random model starts near the uniform loss, so small-parameter methods move it only a little.
      const best = Math.min(...losses.slice(-10));
      expect(best, `best of the last 10 of ${losses.length} losses vs the first`).toBeLessThan(losses[0]! - 0.002);
    }
    att.setTraining?.(false);
    const outTrained = logits(model, batch);

    // What the method says the deployed model carries must match what its attachment can do.
    if (method.atInference === 'merged') expect(att.merge, `${method.id} says atInference 'merged' but has no merge()`).toBeDefined();
    if (method.atInference === 'added') expect(att.merge, `${method.id} says atInference 'added' but merges`).toBeUndefined();
    if (att.merge && att.unmerge) {
      const beforeMerge = snapshot(model.params());
      att.merge();
      expect(maxAbsDiff(logits(model, batch), outTrained), 'merged vs unmerged outputs').toBeLessThan(1e-4);
      att.unmerge();
      const afterUnmerge = snapshot(model.params());
      for (const [k, v] of beforeMerge) expect(maxAbsDiff(v, afterUnmerge.get(k)!), `unmerge restores ${k}`).toBeLessThan(1e-6);
      expect(maxAbsDiff(logits(model, batch), outTrained), 'outputs after unmerge').toBeLessThan(1e-5);
    }

    const analysis = att.analysis?.();
    if (analysis) expect(JSON.parse(JSON.stringify(analysis))).toEqual(analysis);
    // What it reports has the shape its definition declares (readers of records parse by that schema).
    if (method.analysis) {
      const parsed = method.analysis.safeParse(analysis);
      expect(parsed.success, `${method.id}: analysis() does not fit its declared schema: ${parsed.success ? '' : JSON.stringify(parsed.error.issues[0])}`).toBe(true);
    } else {
      expect(analysis, `${method.id} declares analysis: null but reports one`).toBeUndefined();
    }

    const saveDir = join(dir, `${method.id}-${family}-saved`);
    await att.save(saveDir);
    const fresh = tinyModel(family);
    const att2 = await method.attach(fresh, config, { seed: SEED });
    try {
      await att2.load(saveDir);
      expect(maxAbsDiff(logits(fresh, batch), outTrained), 'outputs after load into a fresh attachment').toBeLessThan(1e-5);
    } finally {
      att2.detach();
      fresh.dispose();
    }

    att.detach();
    att = null;
    const baseEnd = snapshot(model.params());
    for (const [k, v] of base0) expect(maxAbsDiff(v, baseEnd.get(k)!), `detach restores ${k}`).toBe(0);
    expect(maxAbsDiff(logits(model, batch0), out0), 'outputs after detach').toBe(0);

    // A run repeats from its seed: attached and trained again, the first losses are the same to the bit
    // (randomness from Math.random or an unseeded TF.js op, such as a dropout mask, would not be).
    if (losses.length >= 3) {
      const again = await method.attach(model, config, { seed: SEED });
      const retrainer = new Trainer();
      try {
        again.setTraining?.(true);
        const repeated: number[] = [];
        for (let s = 0; s < 3; s++) {
          if (again.onStep) logits(model, batch); // as step() does, so both runs draw the same random numbers
          again.onStep?.(s);
          repeated.push(retrainer.train(model, again.trainable, batch));
        }
        expect(repeated, 'the first 3 losses, trained again from the same seed').toEqual(losses.slice(0, 3));
      } finally {
        again.detach();
        retrainer.dispose();
      }
    }
  } finally {
    att?.detach();
    trainer.dispose();
    model.dispose();
  }
}
