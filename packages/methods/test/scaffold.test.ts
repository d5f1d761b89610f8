// A generated method folder passes the conformance checks as generated, and the checks catch a
// method whose stated trainable count is wrong (the suite can fail).
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { loadRegistry, METHODS_ROOT } from '../src/registry.ts';
import { scaffoldMethod } from '../src/scaffold.ts';
import { defineMethod } from '../src/define.ts';
import { FAMILIES, useCpu } from './fixtures.ts';
import { checkAttachment, checkDefinition, checkValidation } from './checks.ts';
import lora from '../lora/index.ts';

await useCpu();
// Inside the package (so zod and tfjs resolve), with `src` linked so the generated imports work.
const root = join(METHODS_ROOT, 'test', `.scaffold-${process.pid}`);
mkdirSync(root, { recursive: true });
symlinkSync(join(METHODS_ROOT, 'src'), join(root, 'src'));
const tmp = mkdtempSync(join(tmpdir(), 'peft-scaffold-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe('new-method scaffold', () => {
  it('generates a folder that the registry loads and the checks pass', async () => {
    const files = scaffoldMethod(root, 'my-update', { title: 'My update' });
    expect(files.map((f) => f.split('/').pop())).toEqual(['index.ts', 'layer.ts', 'README.md']);
    const registry = await loadRegistry(root);
    expect(registry.ids()).toEqual(['my-update']);
    const method = registry.get('my-update');
    checkDefinition(method);
    checkValidation(method);
    for (const family of FAMILIES) await checkAttachment(method, family, {}, tmp);
  }, 60_000);

  it('refuses bad ids and existing folders with a clear message', () => {
    expect(() => scaffoldMethod(root, 'My_Method')).toThrow(/lowercase/);
    expect(() => scaffoldMethod(root, 'src')).toThrow(/reserved/);
    expect(() => scaffoldMethod(METHODS_ROOT, 'lora')).toThrow(/already exists/);
  });

  it('the CLI reports an invalid id and exits non-zero', () => {
    let out = '';
    try {
      execFileSync('npx', ['tsx', join(METHODS_ROOT, 'scripts/new-method.ts'), 'Bad Id'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      out = String((e as { stderr: string }).stderr);
    }
    expect(out).toMatch(/id 'Bad Id' is invalid/);
    expect(existsSync(join(METHODS_ROOT, 'Bad Id'))).toBe(false);
  }, 30_000);
});

describe('the checks can fail', () => {
  it('a method that under-reports its trainable count is caught', async () => {
    const lying = defineMethod({
      ...lora,
      id: 'lying-lora',
      attach: async (model, config, ctx) => {
        const att = await lora.attach(model, config, ctx);
        return Object.assign(att, { trainableCount: () => 1 });
      },
    });
    await expect(checkAttachment(lying, 'llama', {}, tmp)).rejects.toThrow(/trainableCount/);
  }, 60_000);

  it('a method that claims identity at init but changes the output is caught', async () => {
    const prompt = (await loadRegistry()).get('prompt');
    const claims = defineMethod({ ...prompt, id: 'claims-identity', identityAtInit: true, attach: (m, c, x) => prompt.attach(m, c, x) });
    await expect(checkAttachment(claims, 'gpt2', { num_virtual_tokens: 2 }, tmp)).rejects.toThrow(/identity at init/);
  }, 60_000);
});
