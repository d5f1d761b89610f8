// Checking a checkpoint directory without loading it: config.json, the safetensors header and
// every tensor's shape, with the file named in each message.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/index.ts';
import { checkCheckpointFiles, expectedParamShapes } from '../src/checkpoint/check.ts';
import { saveModel } from '../src/checkpoint/checkpoint.ts';
import { readSafetensorsHeader } from '../src/checkpoint/safetensors.ts';
import { resolveModelConfig } from '../src/model/config.ts';
import { createModel } from '../src/model/model.ts';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const CONFIG = { family: 'gpt2' as const, vocabSize: 40, d: 16, nLayer: 2, nHead: 2, maxSeq: 32 };

async function checkpoint(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'peft-check-'));
  const model = createModel(CONFIG, 1);
  await saveModel(model, dir);
  model.dispose();
  return dir;
}

describe('checkCheckpointFiles', () => {
  it('lists the shapes the model builds, for both families', () => {
    for (const config of [CONFIG, { family: 'llama' as const, vocabSize: 30, d: 16, nLayer: 2, nHead: 4, nKvHead: 2, maxSeq: 16, mlpHidden: 24 }]) {
      const model = createModel(config, 0);
      const built = new Map([...model.params()].map(([name, v]) => [name, v.shape]));
      expect(expectedParamShapes(resolveModelConfig(config))).toEqual(built);
      model.dispose();
    }
  });

  it('accepts a sound checkpoint and returns its config', async () => {
    const dir = await checkpoint();
    const { config, format } = await checkCheckpointFiles(dir);
    expect(format).toBe('peft-bench');
    expect(config.d).toBe(16);
  });

  it('names the file of a truncated model.safetensors', async () => {
    const dir = await checkpoint();
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    await expect(checkCheckpointFiles(dir)).rejects.toThrow(`${file}: not a valid safetensors file: tensor`);
    writeFileSync(file, bytes.subarray(0, 20));
    await expect(readSafetensorsHeader(file)).rejects.toThrow(new RegExp(`${file}: not a valid safetensors file: header length \\d+ exceeds the file size 20`));
  });

  it('names config.json and the tensor when shapes disagree, and a config.json that is not JSON', async () => {
    const dir = await checkpoint();
    const configFile = join(dir, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    writeFileSync(configFile, JSON.stringify({ ...config, d: 8 }));
    await expect(checkCheckpointFiles(dir)).rejects.toThrow(/model\.safetensors: 'embeddings\.tokens' has shape \[40,16\], but .*config\.json needs \[40,8\]/);
    writeFileSync(configFile, '{"format": "peft-bench/model@1", ');
    await expect(checkCheckpointFiles(dir)).rejects.toThrow(`${configFile} is not JSON`);
    const other = await checkpoint();
    copyFileSync(join(other, 'config.json'), configFile);
    writeFileSync(configFile, JSON.stringify({ ...config, nLayer: 1 }));
    await expect(checkCheckpointFiles(dir)).rejects.toThrow(/holds 16 tensor\(s\) that .*config\.json does not describe: blocks\.1\./);
  });
});
