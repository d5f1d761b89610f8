// The conformance suite: every method folder in the registry is checked here, with no tests of
// its own needed (see checks.ts for what is checked). METHODS=lora,dora limits a local run.
import { describe, it, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../src/registry.ts';
import { FAMILIES, useCpu } from './fixtures.ts';
import { checkAttachment, checkDefinition, checkRefusesFamily, checkValidation, configsFor } from './checks.ts';

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
