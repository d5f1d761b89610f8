// The conformance suite: every method folder in the registry is checked here, with no tests of
// its own needed (see checks.ts for what is checked). METHODS=lora,dora limits a local run.
import { describe, it, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../src/registry.ts';
import { FAMILIES, useCpu } from './fixtures.ts';
import { checkAttachment, checkDefinition, checkRefusesFamily, checkValidation, configsFor } from './checks.ts';

// tf.dropout draws its mask from Math.random when given no seed (lora_dropout): seeded here so that
// every run of the suite trains the same weights and a failure reproduces.
Math.random = (() => {
  let state = 0x9e3779b9;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
})();

await useCpu();
const registry = await loadRegistry();
const only = process.env.METHODS?.split(',');
const methods = registry.all().filter((m) => !only || only.includes(m.id));
const tmp = mkdtempSync(join(tmpdir(), 'peft-conformance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const variants = new Map<string, Record<string, unknown>[]>();
for (const m of methods) for (const f of FAMILIES) variants.set(`${m.id}/${f}`, await configsFor(m, f, tmp));

describe.each(methods.map((m) => [m.id, m] as const))('%s', (_id, method) => {
  it('declares a complete definition', () => checkDefinition(method));
  it('rejects invalid hyperparameters naming the method and the field', () => checkValidation(method));
  for (const family of FAMILIES) {
    const configs = variants.get(`${method.id}/${family}`)!;
    if (method.modelFamilies && !method.modelFamilies.includes(family)) {
      it(`refuses ${family} models with a clear message`, () => checkRefusesFamily(method, family, configs[0]!));
      continue;
    }
    for (const extra of configs) {
      it(`${family} ${JSON.stringify(extra)}: counts, frozen, identity, merge, save/load, training, detach`, () =>
        // Generous: the autoencoder init took 73 s while the other packages' tests shared both cores.
        checkAttachment(method, family, extra, tmp), 180_000);
    }
  }
});
