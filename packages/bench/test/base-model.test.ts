// The `base` model is registered: listed with what it was pretrained on, and either resolvable
// (its weights are built) or refused with the command that builds them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE_MODEL_DIR, checkpointMissingMessage, findModelDef, MODELS } from '../src/run/models.ts';
import { loadCatalog } from '../src/run/registries.ts';

describe('the base model entry', () => {
  it('is listed with a description of its corpus', () => {
    const base = MODELS.find((m) => m.id === 'base');
    expect(base).toMatchObject({ kind: 'checkpoint', dir: BASE_MODEL_DIR });
    expect(base!.description).toMatch(/WordNet/);
    expect(base!.description).toMatch(/pnpm pretrain --model base/);
    expect(existsSync(path.join(BASE_MODEL_DIR, 'recipe.json'))).toBe(true);
  });

  const built = existsSync(path.join(BASE_MODEL_DIR, 'model.safetensors'));
  it.runIf(!built)('without weights, is refused with the command that builds them', async () => {
    const catalog = await loadCatalog();
    await expect(catalog.resolveModel('base')).rejects.toThrow(/not built yet .*Run `pnpm pretrain --model base`/);
    const def = findModelDef('base');
    expect(def.kind === 'checkpoint' && checkpointMissingMessage(def)).toMatch(/--model naive/);
  });

  it.runIf(built)('with weights, resolves to its checkpoint hash', async () => {
    const catalog = await loadCatalog();
    const model = await catalog.resolveModel('base');
    expect(model.id).toBe('base');
    expect(model.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(model.params).toBeGreaterThan(1_000_000);
  });
});
