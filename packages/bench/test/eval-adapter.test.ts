// `pnpm bench eval-adapter`: an adapter folder in the HF PEFT layout is loaded by its method's own
// load() onto the model and scored on the task's test split; bad input is exit 2 with a message.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@peft-bench/core/backend/index';
import { createModel } from '@peft-bench/core/model/model';
import { ByteTokenizer } from '@peft-bench/core/tokenizer/index';
import { writeExampleLoraAdapter } from '@peft-bench/methods/examples';
import { MODELS } from '../src/run/models.ts';
import { runCli } from './helpers.ts';

const tiny = MODELS.find((m) => m.id === 'tiny-random')!;

async function exampleAdapter(r: number): Promise<string> {
  if (tiny.kind !== 'random') throw new Error('tiny-random is a seeded model');
  const model = createModel({ ...tiny.random.config, vocabSize: new ByteTokenizer().vocabSize }, tiny.random.seed);
  try {
    return await writeExampleLoraAdapter(model, fs.mkdtempSync(path.join(os.tmpdir(), 'peft-eval-adapter-')), r, 1);
  } finally {
    model.dispose();
  }
}

describe('eval-adapter', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('scores a saved LoRA adapter on the test split beside the frozen base', { timeout: 120_000 }, async () => {
    const dir = await exampleAdapter(2);
    const result = await runCli(['eval-adapter', '--adapter', dir, '--method', 'lora', '--rank', '2', '--set', 'target_modules=q,v', '--task', 'summarize', '--model', 'tiny-random', '--knob', 'test=3', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({ method: 'lora', task: 'summarize', model: 'tiny-random', test_examples: 3, metric: 'fact_f1' });
    expect(out.trainable).toBe(2 * 2 * 2 * (32 + 32));
    expect(out.score).toBeGreaterThanOrEqual(0);
    expect(Object.keys(out.metrics)).toContain('rouge1');
  });

  it('refuses, with exit 2, a folder without the adapter files, a config the files do not fit, or an unknown method', { timeout: 120_000 }, async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-eval-empty-'));
    let result = await runCli(['eval-adapter', '--adapter', empty, '--method', 'lora', '--task', 'nli', '--model', 'tiny-random']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('adapter_config.json is missing');

    const dir = await exampleAdapter(2);
    result = await runCli(['eval-adapter', '--adapter', dir, '--method', 'lora', '--rank', '4', '--task', 'nli', '--model', 'tiny-random', '--knob', 'test=2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/does not fit lora with .*"r":4.*shape/);

    result = await runCli(['eval-adapter', '--adapter', dir, '--method', 'nope', '--task', 'nli', '--model', 'tiny-random']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nope');
    expect(fs.readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });
});
