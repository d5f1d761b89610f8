// The conformance suite: every method folder in the registry is checked here, with no tests of
// its own needed. A method is attached to a tiny model of each family it supports and must:
// report exactly the scalars that change in real training steps, leave frozen tensors
// bit-identical, keep outputs unchanged at init when it claims so, merge/unmerge exactly,
// save/load round-trip, lower the loss on a fixed batch, restore the base on detach, and reject
// invalid hyperparameters with a message naming the field.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../src/registry.ts';
import { fieldSchemas } from '../src/validate.ts';
import { withRank } from '../src/registry.ts';
import type { Method, Attachment, ModelFamily } from '../src/types.ts';
import { FAMILIES, Trainer, fixedBatch, logits, maxAbsDiff, snapshot, tinyModel, useCpu } from './fixtures.ts';

await useCpu();
const registry = await loadRegistry();
// METHODS=lora,dora limits a local run to some methods.
const only = process.env.METHODS?.split(',');
const methods = registry.all().filter((m) => !only || only.includes(m.id));
const SEED = 11;
const tmp = mkdtempSync(join(tmpdir(), 'peft-conformance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The configs to check for a method on a family: its declared variants, or the defaults. */
async function configsFor(method: Method, family: ModelFamily): Promise<Record<string, unknown>[]> {
  if (!method.conformance) return [{}];
  const model = tinyModel(family);
  try {
    const list = await method.conformance({ model, dir: join(tmp, `${method.id}-${family}-fixture`), seed: SEED });
    return list.length ? (list as Record<string, unknown>[]) : [{}];
  } finally {
    model.dispose();
  }
}
const variants = new Map<string, Record<string, unknown>[]>();
for (const m of methods) for (const f of FAMILIES) variants.set(`${m.id}/${f}`, await configsFor(m, f));

function changedScalars(before: Map<string, Float32Array>, after: Map<string, Float32Array>): number {
  let n = 0;
  for (const [k, a] of before) {
    const b = after.get(k)!;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  }
  return n;
}

describe.each(methods.map((m) => [m.id, m] as const))('%s', (_id, method) => {
  it('declares a complete definition', () => {
    expect(method.title.length).toBeGreaterThan(0);
    expect(method.paper.url).toMatch(/^https?:\/\//);
    expect(method.description.length).toBeGreaterThan(40);
    const fields = fieldSchemas(method.hyperparameters);
    for (const [name, f] of Object.entries(fields)) {
      expect(f.description, `${name} description`).toBeTruthy();
      expect(f.default, `${name} default`).not.toBeUndefined();
    }
  });

  it('rejects invalid hyperparameters naming the method and the field', () => {
    expect(() => method.parse({ no_such_field: 1 })).toThrow(new RegExp(`${method.id}.*no_such_field`));
    const fields = fieldSchemas(method.hyperparameters);
    for (const [name, f] of Object.entries(fields)) {
      const bad = f.minimum !== undefined ? f.minimum - 1 : f.enum ? '__not_a_value__' : f.type === 'boolean' ? 'yes' : f.type === 'array' ? 5 : f.type === 'number' || f.type === 'integer' ? 'x' : null;
      if (bad === null) continue;
      expect(() => method.parse({ [name]: bad }), name).toThrow(new RegExp(`method '${method.id}'.*${name}`));
    }
    if (method.rankParam) {
      const rank = fields[method.rankParam]!.default as number;
      expect(withRank(method, rank)[method.rankParam]).toBe(rank);
      expect(() => withRank(method, 0)).toThrow(new RegExp(`${method.rankParam}`));
    }
    else expect(() => withRank(method, 4)).toThrow(/takes no rank/);
  });

  for (const family of FAMILIES) {
    const supported = !method.modelFamilies || method.modelFamilies.includes(family);
    if (!supported) {
      it(`refuses ${family} models with a clear message`, async () => {
        const model = tinyModel(family);
        await expect(method.attach(model, variants.get(`${method.id}/${family}`)![0], { seed: SEED })).rejects.toThrow(new RegExp(`${method.id}.*${family}`));
        model.dispose();
      });
      continue;
    }

    for (const extra of variants.get(`${method.id}/${family}`)!) {
    it(`${family} ${JSON.stringify(extra)}: counts, frozen tensors, identity, merge, save/load, training, detach`, async () => {
      const config = method.parse(extra);
      const model = tinyModel(family);
      // Every position is used (so full fine-tuning changes every position embedding): T = maxSeq - prefix.
      const batch0 = fixedBatch(48, 2, 16);
      let batch = batch0;
      const base0 = snapshot(model.params());
      const out0 = logits(model, batch0);
      let att: Attachment | null = await method.attach(model, config, { seed: SEED });
      const prefix = model.embeddings.prefix?.length ?? 0;
      if (prefix > 0) batch = fixedBatch(48, 2, 16 - prefix);
      const trainer = new Trainer();
      try {
        // Identity at init.
        const outInit = logits(model, batch);
        if (method.isIdentityAtInit(config)) expect(maxAbsDiff(outInit, out0), 'identity at init').toBeLessThan(1e-4);

        // Counts: every scalar that changes in real steps, base and added, equals trainableCount().
        const everything = new Map(model.params());
        const baseVars = new Set(everything.values());
        for (const [k, v] of att.trainable) if (!baseVars.has(v)) everything.set(`added:${k}`, v);
        const before = snapshot(everything);
        const baseAtAttach = snapshot(model.params());
        const frozenKeys = [...model.params()].filter(([, v]) => ![...att!.trainable.values()].includes(v)).map(([k]) => k);
        const losses: number[] = [];
        // One step: the method's step callback (a growing rank must keep the function unchanged at the switch), then AdamW.
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
        const changed = changedScalars(before, snapshot(everything));
        expect(changed, 'scalars changed vs trainableCount()').toBe(att.trainableCount());
        const baseAfter = snapshot(model.params());
        for (const k of frozenKeys) expect(maxAbsDiff(baseAtAttach.get(k)!, baseAfter.get(k)!), `frozen ${k}`).toBe(0);

        // A short run lowers the loss.
        if (att.trainable.size > 0) {
          for (let s = 3; s < 20; s++) step(s);
          // The tiny random model starts near the uniform loss, so small-parameter methods move it only a little.
          const best = Math.min(...losses.slice(-10));
          expect(best, `best of the last 10 of ${losses.length} losses vs the first`).toBeLessThan(losses[0]! - 0.002);
        }
        att.setTraining?.(false);
        const outTrained = logits(model, batch);

        // Merge and unmerge.
        if (att.merge && att.unmerge) {
          const beforeMerge = snapshot(model.params());
          att.merge();
          expect(maxAbsDiff(logits(model, batch), outTrained), 'merged vs unmerged outputs').toBeLessThan(1e-4);
          att.unmerge();
          const afterUnmerge = snapshot(model.params());
          for (const [k, v] of beforeMerge) expect(maxAbsDiff(v, afterUnmerge.get(k)!), `unmerge restores ${k}`).toBeLessThan(1e-6);
          expect(maxAbsDiff(logits(model, batch), outTrained), 'outputs after unmerge').toBeLessThan(1e-5);
        }

        // Analysis is JSON-friendly.
        const analysis = att.analysis?.();
        if (analysis) expect(JSON.parse(JSON.stringify(analysis))).toEqual(analysis);

        // Save, then load into a fresh attachment on a fresh copy of the base.
        const dir = join(tmp, `${method.id}-${family}`);
        await att.save(dir);
        const fresh = tinyModel(family);
        const att2 = await method.attach(fresh, config, { seed: SEED });
        await att2.load(dir);
        // A grown rank is restored from the file, so the fresh attachment needs no steps.
        expect(maxAbsDiff(logits(fresh, batch), outTrained), 'outputs after load').toBeLessThan(1e-5);
        att2.detach();
        fresh.dispose();

        // Detach restores the base exactly.
        att.detach();
        att = null;
        const baseEnd = snapshot(model.params());
        for (const [k, v] of base0) expect(maxAbsDiff(v, baseEnd.get(k)!), `detach restores ${k}`).toBe(0);
        expect(maxAbsDiff(logits(model, batch0), out0), 'outputs after detach').toBe(0);
      } finally {
        att?.detach();
        trainer.dispose();
        model.dispose();
      }
    }, 60_000);
    }
  }
});
