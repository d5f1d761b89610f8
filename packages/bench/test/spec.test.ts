import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson, runIdOf, type RunSpec } from '../src/run/spec.ts';
import { sampleSpec } from '@peft-bench/results/test/fixtures';

describe('run ids', () => {
  it('are stable for the same spec, whatever the key order', () => {
    const spec = sampleSpec();
    const shuffled: RunSpec = {
      code_version: spec.code_version,
      training: { ...spec.training },
      seed: spec.seed,
      model: { hash: spec.model.hash, id: spec.model.id },
      task: { config: { difficulty: 1, train_size: 256 }, id: 'nli' },
      method: { rank: 8, config: { target_modules: ['q', 'v'], lora_alpha: 16, r: 8 }, id: 'lora' },
    };
    expect(runIdOf(spec)).toMatch(/^[0-9a-f]{20}$/);
    expect(runIdOf(spec)).toBe(runIdOf(sampleSpec()));
    expect(runIdOf(shuffled)).toBe(runIdOf(spec));
    expect(canonicalJson(shuffled)).toBe(canonicalJson(spec));
  });

  it('change when any field that determines the result changes', () => {
    const base = runIdOf(sampleSpec());
    const edits: ((spec: RunSpec) => void)[] = [
      (s) => (s.method.id = 'dora'),
      (s) => (s.method.rank = 16),
      (s) => (s.method.config.lora_alpha = 32),
      (s) => (s.method.config.target_modules = ['v', 'q']),
      (s) => (s.task.id = 'math'),
      (s) => (s.task.config.difficulty = 2),
      (s) => (s.model.id = 'default'),
      (s) => (s.model.hash = 'abc124'),
      (s) => (s.seed = 1),
      (s) => (s.code_version = 'fedcba9876543210'),
      ...(Object.keys(sampleSpec().training) as (keyof RunSpec['training'])[]).map(
        (key) => (s: RunSpec) => {
          const value = s.training[key];
          (s.training as unknown as Record<string, unknown>)[key] =
            typeof value === 'number' ? value + 1 : value === null ? 1 : `${value}-changed`;
        },
      ),
    ];
    const ids = new Set<string>([base]);
    for (const edit of edits) {
      const spec = sampleSpec();
      edit(spec);
      const id = runIdOf(spec);
      expect(id).not.toBe(base);
      ids.add(id);
    }
    expect(ids.size).toBe(edits.length + 1);
  });

  it('reject non-finite numbers instead of hashing them as null', () => {
    const spec = sampleSpec();
    spec.training.lr = Number.NaN;
    expect(() => runIdOf(spec)).toThrow(/training\.lr.*not a finite number/);
  });
});

describe('what readers of records know about methods (packages/results/src/methods.json)', () => {
  it('is the export of the current method definitions (else run pnpm bench export-methods)', async () => {
    const { methodsJsonText, METHODS_JSON } = await import('../src/cli/export-methods.ts');
    expect(readFileSync(METHODS_JSON, 'utf8')).toBe(await methodsJsonText());
    // Loading every method folder takes seconds on a busy machine.
  }, 60_000);

  it('gives every method and model the learning rate the runner uses, and the scales runs were made with', async () => {
    const { defaultLr: runnerLr, PROTOCOLS, TRAINING_DEFAULTS } = await import('../src/run/defaults.ts');
    const { defaultLr: readerLr, isBaseline, methodInfos } = await import('@peft-bench/results/methods');
    const methods = methodInfos();
    expect(methods.length).toBeGreaterThan(10);
    for (const protocol of PROTOCOLS) {
      for (const model of [...Object.keys(TRAINING_DEFAULTS[protocol]), 'base', 'naive', 'dir:gpt2@abc']) {
        for (const method of methods) {
          expect([protocol, model, method.id, readerLr(model, method.id, protocol)]).toEqual([protocol, model, method.id, runnerLr(model, method, protocol)]);
        }
      }
    }
    // The scales the committed records were made with: a change here would change every spec.
    const scales = Object.fromEntries(methods.filter((m) => m.lrScale !== 1).map((m) => [m.id, m.lrScale]));
    expect(scales).toEqual({ full: 0.25, vera: 5, ia3: 2, prompt: 5, ln: 2, 'ln-outlier': 2, 'ln-random': 2, bitfit: 2 });
    expect(methods.filter((m) => isBaseline(m.id)).map((m) => m.id)).toEqual(['full', 'none']);
    expect(methods.filter((m) => m.rankParam !== null).every((m) => m.rankMeaning)).toBe(true);
  });
});
