// lora-complement's analysis on real adapters: two LoRAs (r=2 and r=8) trained a few steps on the
// tiny model, compared by the LoRA paper's Fig. 3 grid, and a large adapter built to contain the
// small one's subspace, where φ must be 1.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train, type Batch } from '@peft-bench/core/train/trainer';
import { normalArray } from '@peft-bench/core/model/rng';
import { createModel, type Model } from '@peft-bench/core/model/model';
import { getMethod } from '../src/registry.ts';
import { attachmentDeltas, compareLowRank, readLoraDeltas, type DenseDelta } from '../src/lowrank-io.ts';
import { resolveLinears } from '../src/targets.ts';
import { MAX_COMPARED_MODULES, subspaceComparison, type SubspaceComparison } from '../src/analysis.ts';
import type { Attachment } from '../src/types.ts';
import { LoraAttachment } from '../lora/layer.ts';
import { tinyModel, useCpu } from './fixtures.ts';

const SMALL_R = 2;
const LARGE_R = 8;
const MODULES = ['blocks.0.attn.q', 'blocks.0.attn.v', 'blocks.1.attn.q', 'blocks.1.attn.v'];

/** A fixed batch of token ids for the tiny model (vocabulary 48). */
function batch(seed: number): Batch {
  const B = 2;
  const T = 12;
  const tokens = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + seed * 5 + 3) % 48);
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 11 + seed + 1) % 48);
  return { tokens, targets, weights: new Float32Array(B * T).fill(1), B, T };
}

async function trainSteps(model: Model, att: Attachment, steps: number, seed: number): Promise<void> {
  const result = await train({ model, trainable: att.trainable, data: () => batch(seed), steps, lr: 3e-2, schedule: 'constant', gradClip: null });
  expect(result.status).toBe('ok');
}

/** Trains a LoRA of rank r (scaling 1) on q and v for a few steps and saves it; returns its folder. */
async function trainedLora(model: Model, r: number, seed: number, dir: string): Promise<{ dir: string; factors: Map<string, { A: Float32Array; B: Float32Array }> }> {
  const att = (await (await getMethod('lora')).attach(model, { r, lora_alpha: r, target_modules: ['q', 'v'] }, { seed })) as LoraAttachment;
  try {
    await trainSteps(model, att, 6, seed);
    await att.save(dir);
    const factors = new Map(att.modules.map((m) => [m.linear.name, {
      A: Float32Array.from(m.parts[0]!.A.dataSync() as Float32Array),
      B: Float32Array.from(m.parts[0]!.B.dataSync() as Float32Array),
    }]));
    return { dir, factors };
  } finally {
    att.detach();
  }
}

type Analysis = Record<string, unknown> & SubspaceComparison;

/** Attaches lora-complement with `config`, runs `use` (optionally after training steps), always detaches. */
async function withComplement<T>(model: Model, config: Record<string, unknown>, use: (att: Attachment) => Promise<T> | T, trainFor = 0): Promise<T> {
  const att = await (await getMethod('lora-complement')).attach(model, config, { seed: 1 });
  try {
    if (trainFor > 0) await trainSteps(model, att, trainFor, 4);
    return await use(att);
  } finally {
    att.detach();
  }
}

function phiCells(a: Analysis): number[] {
  return Object.values(a.subspaceSimilarity.modules).flatMap((m) => m.phi.flat());
}

describe('lora-complement analysis: r=2 vs r=8 subspace similarity (LoRA paper Fig. 3)', () => {
  let tmp: string;
  let model: Model;
  let small: Awaited<ReturnType<typeof trainedLora>>;
  let large: Awaited<ReturnType<typeof trainedLora>>;
  let containing: string;

  beforeAll(async () => {
    await useCpu();
    tmp = mkdtempSync(join(tmpdir(), 'peft-complement-analysis-'));
    model = tinyModel('llama');
    small = await trainedLora(model, SMALL_R, 1, join(tmp, 'small'));
    large = await trainedLora(model, LARGE_R, 2, join(tmp, 'large'));
    // A rank-8 adapter whose first two components are the small adapter's factors and whose other six
    // are 1000x weaker: its top-2 output directions are the small update's, and it contains them.
    containing = join(tmp, 'containing');
    const given = new Map<string, { A: Float32Array; B: Float32Array; r: number }>();
    for (const [name, f] of small.factors) {
      const lin = resolveLinears('lora', model, [name])[0]!;
      const { inFeatures: nIn, outFeatures: nOut } = lin;
      const extraA = normalArray(nIn * LARGE_R, 0.3, 11);
      const extraB = normalArray(LARGE_R * nOut, 1e-3, 12);
      const A = new Float32Array(nIn * LARGE_R);
      const B = new Float32Array(LARGE_R * nOut);
      for (let i = 0; i < nIn; i++) for (let c = 0; c < LARGE_R; c++) A[i * LARGE_R + c] = c < SMALL_R ? f.A[i * SMALL_R + c]! : extraA[i * LARGE_R + c]!;
      for (let c = 0; c < LARGE_R; c++) for (let j = 0; j < nOut; j++) B[c * nOut + j] = c < SMALL_R ? f.B[c * nOut + j]! : extraB[c * nOut + j]!;
      given.set(name, { A, B, r: LARGE_R });
    }
    const att = new LoraAttachment({
      methodId: 'lora', model, ctx: { seed: 3 }, targets: resolveLinears('lora', model, [...given.keys()]), r: LARGE_R, alpha: LARGE_R,
      rslora: false, dropout: 0, init: 'default', dora: false, trainable: false, given, givenScaling: 1,
    });
    await att.save(containing);
    att.detach();
  }, 60_000);

  afterAll(() => {
    model?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('posthoc: a φ grid per module, i = 1, 2 (r=2 side) by j = 1, 2, 4, 8 (r=8 side), in [0, 1], nondecreasing in j for j >= i', async () => {
    const raw = await readLoraDeltas(model, large.dir);
    const { a, applied } = await withComplement(model, { small_adapter: small.dir, large_adapter: large.dir }, (att) => ({
      a: att.analysis!() as Analysis,
      applied: attachmentDeltas(att),
    }));
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    const sim = a.subspaceSimilarity;
    expect(sim.small).toBe('small_adapter');
    expect(sim.large).toBe('large_adapter');
    expect(sim.vectors).toBe('left');
    expect(Object.keys(sim.modules)).toEqual(MODULES);
    for (const m of Object.values(sim.modules)) {
      expect(m.is).toEqual([1, 2]);
      expect(m.js).toEqual([1, 2, 4, 8]);
      m.is.forEach((i, r) => {
        m.phi[r]!.forEach((v) => {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        });
        // φ(i, j) = ||U_i^T U_j||^2 / i once j >= i: the numerator can only grow with j.
        for (let c = 1; c < m.js.length; c++) if (m.js[c - 1]! >= i) expect(m.phi[r]![c]!).toBeGreaterThanOrEqual(m.phi[r]![c - 1]!);
      });
      expect(m.phi[1]![3]!).toBeLessThan(0.999); // two independently trained updates do not share their whole subspace
    }
    // The same grid through an independent path (HF orientation, compareLowRank).
    const reference = await compareLowRank(model, small.dir, large.dir);
    for (const [name, m] of Object.entries(sim.modules)) {
      expect(reference[name]!.is).toEqual(m.is);
      expect(reference[name]!.js).toEqual(m.js);
      m.phi.forEach((row, r) => row.forEach((v, c) => expect(Math.abs(v - reference[name]!.phi[r]![c]!)).toBeLessThanOrEqual(1e-4)));
    }
    // The mean grid averages the modules; the summary reads its cells.
    expect(sim.mean.is).toEqual([1, 2]);
    expect(sim.mean.js).toEqual([1, 2, 4, 8]);
    const meanCell = (r: number, c: number) => Object.values(sim.modules).reduce((s, m) => s + m.phi[r]![c]!, 0) / MODULES.length;
    expect(sim.mean.phi[1]![3]!).toBeCloseTo(meanCell(1, 3), 3);
    expect(a.complement!.phiTop1).toBeCloseTo(meanCell(0, 0), 3);
    expect(a.complement!.phiSmallRank).toBeCloseTo(meanCell(1, 1), 3);
    expect(a.complement!.phiFull).toBeCloseTo(meanCell(1, 3), 3);
    // Energy kept = ||ΔW_c||^2 / ||ΔW_large||^2, with ΔW_c the update the attachment actually applies.
    const sq = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0);
    for (const [name, m] of Object.entries(sim.modules)) {
      expect(m.energyKept).toBeGreaterThan(0.05);
      expect(m.energyKept).toBeLessThan(1);
      expect(m.energyKept).toBeCloseTo(sq(applied.get(name)!.data) / sq(raw.get(name)!.data), 3);
    }
    expect(a.complement!.side).toBe('both');
    expect(a.complement!.energyKept).toBeCloseTo(Object.values(sim.modules).reduce((s, m) => s + m.energyKept, 0) / MODULES.length, 3);
    // The update this run applies is still reported against W as before.
    expect(Object.keys(a.modules as object)).toEqual(MODULES);
  });

  it('posthoc: φ = 1 where the large update contains the small one’s subspace, and the complement keeps almost nothing', async () => {
    const a = await withComplement(model, { small_adapter: small.dir, large_adapter: containing }, (att) => att.analysis!() as Analysis);
    for (const m of Object.values(a.subspaceSimilarity.modules)) {
      expect(m.is).toEqual([1, 2]);
      expect(m.js).toEqual([1, 2, 4, 8]);
      for (const v of m.phi.flat()) expect(v).toBeGreaterThan(0.999);
      expect(m.energyKept).toBeLessThan(1e-3);
    }
    expect(a.complement!.phiFull).toBeGreaterThan(0.999);
    expect(a.subspaceSimilarity.mean.phi.flat().every((v) => v > 0.999)).toBe(true);
  });

  it('side row keeps the output-space overlap: more energy kept than side both', async () => {
    const both = await withComplement(model, { small_adapter: small.dir, large_adapter: large.dir }, (att) => att.analysis!() as Analysis);
    const row = await withComplement(model, { small_adapter: small.dir, large_adapter: large.dir, side: 'row' }, (att) => att.analysis!() as Analysis);
    expect(row.complement!.side).toBe('row');
    expect(row.complement!.energyKept).toBeGreaterThan(both.complement!.energyKept);
    expect(phiCells(row).every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('train mode: compares with large_adapter when given, else with the trained update (orthogonal to the small one)', async () => {
    const posthoc = await withComplement(model, { small_adapter: small.dir, large_adapter: large.dir }, (att) => att.analysis!() as Analysis);
    const withLarge = await withComplement(model, { mode: 'train', small_adapter: small.dir, large_adapter: large.dir, r: 4, lora_alpha: 8 },
      (att) => att.analysis!() as Analysis, 3);
    expect(withLarge.subspaceSimilarity.large).toBe('large_adapter');
    expect(withLarge.subspaceSimilarity.modules).toEqual(posthoc.subspaceSimilarity.modules);

    const a = await withComplement(model, { mode: 'train', small_adapter: small.dir, r: 4, lora_alpha: 8 }, (att) => att.analysis!() as Analysis, 3);
    expect(a.subspaceSimilarity.large).toBe('trained update');
    expect(Object.keys(a.subspaceSimilarity.modules)).toEqual(MODULES);
    for (const m of Object.values(a.subspaceSimilarity.modules)) {
      expect(m.is).toEqual([1, 2]);
      expect(m.js).toEqual([1, 2, 4]);
      // trained inside the complement of both subspaces: no shared output direction, all energy outside
      for (const v of m.phi.flat()) expect(v).toBeLessThan(1e-3);
      expect(m.energyKept).toBeGreaterThan(0.999);
    }
  });
});

describe('subspaceComparison limits', () => {
  /** A seeded rank-r update of a linear, in our layout [in, out]. */
  function lowRank(nIn: number, nOut: number, r: number, seed: number): DenseDelta {
    const a = normalArray(nIn * r, 1, seed);
    const b = normalArray(r * nOut, 1, seed + 1);
    const data = new Float32Array(nIn * nOut);
    for (let i = 0; i < nIn; i++) for (let j = 0; j < nOut; j++) {
      let acc = 0;
      for (let c = 0; c < r; c++) acc += a[i * r + c]! * b[c * nOut + j]!;
      data[i * nOut + j] = acc;
    }
    return { inFeatures: nIn, outFeatures: nOut, data };
  }

  it('compares at most MAX_COMPARED_MODULES modules in model order and names what it skipped and why', () => {
    const model = createModel({ family: 'llama', vocabSize: 48, d: 16, nLayer: 3, nHead: 2, maxSeq: 8, mlpHidden: 16 }, 1);
    const linears = model.linears();
    expect(linears.length).toBeGreaterThan(MAX_COMPARED_MODULES + 1);
    const small = new Map(linears.map((l, k) => [l.name, lowRank(l.inFeatures, l.outFeatures, 2, 10 * k)]));
    const large = new Map(linears.map((l, k) => [l.name, lowRank(l.inFeatures, l.outFeatures, 4, 10 * k + 5)]));
    // a zero update has no subspace to compare
    const first = linears[0]!;
    large.set(first.name, { inFeatures: first.inFeatures, outFeatures: first.outFeatures, data: new Float32Array(first.inFeatures * first.outFeatures) });
    small.delete(linears[1]!.name);
    const out = subspaceComparison(model, small, large, { side: 'both', smallLabel: 'small', largeLabel: 'large' });
    const compared = Object.keys(out.subspaceSimilarity.modules);
    expect(compared).toHaveLength(MAX_COMPARED_MODULES);
    expect(compared).toEqual(linears.map((l) => l.name).filter((n) => n !== first.name && n !== linears[1]!.name).slice(0, MAX_COMPARED_MODULES));
    const skipped = Object.fromEntries(out.subspaceSimilarity.skipped!.map((s) => [s.reason, s.modules]));
    expect(skipped['a zero update has no subspace']).toEqual([first.name]);
    expect(skipped['only in large']).toEqual([linears[1]!.name]);
    expect(skipped[`more than ${MAX_COMPARED_MODULES} modules`]!.length).toBe(linears.length - 2 - MAX_COMPARED_MODULES);
    for (const m of Object.values(out.subspaceSimilarity.modules)) {
      expect(m.is).toEqual([1, 2]);
      expect(m.js).toEqual([1, 2, 4]);
    }
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    model.dispose();
  });

  it('no shared module: no grid, no summary', () => {
    const model = createModel({ family: 'llama', vocabSize: 48, d: 16, nLayer: 1, nHead: 2, maxSeq: 8, mlpHidden: 16 }, 1);
    const [q, v] = [model.module('blocks.0.attn.q'), model.module('blocks.0.attn.v')] as { name: string }[];
    const out = subspaceComparison(model, new Map([[q!.name, lowRank(16, 16, 2, 1)]]), new Map([[v!.name, lowRank(16, 16, 2, 2)]]), { side: 'both', smallLabel: 's', largeLabel: 'l' });
    expect(out.subspaceSimilarity.modules).toEqual({});
    expect(out.subspaceSimilarity.mean).toEqual({ is: [], js: [], phi: [] });
    expect(out.complement).toBeUndefined();
    expect(out.subspaceSimilarity.skipped!.map((s) => s.reason)).toEqual(['only in s', 'only in l']);
    model.dispose();
  });
});
