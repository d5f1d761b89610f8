// Every check before any work: bad input found by the pre-checks (the method against the model,
// the backend, --threads, --out, the model's files, the data files, the length policy) exits 2
// with a message naming what was wrong, and writes nothing. --dry-run plans without training.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { saveModel } from '@peft-bench/core/checkpoint/checkpoint';
import { createModel } from '@peft-bench/core/model/model';
import { ByteTokenizer, saveTokenizer } from '@peft-bench/core/tokenizer/index';
import { mainCommand, type MainOptions } from '../src/cli/main.ts';
import { availableBackends } from '../src/run/precheck.ts';
import { REPO_ROOT } from '../src/run/code-version.ts';
import { sanitizeReason } from '../src/run/sanitize.ts';
import { runCli } from './helpers.ts';
import { writeTinyDatasets } from './real-data.ts';
import { loadRecordFile } from '@peft-bench/results/record/store';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

async function run(overrides: Partial<MainOptions>): Promise<{ code: number; stderr: string; stdout: string; out: string }> {
  const out = overrides.out ?? path.join(tmp('peft-pre-'), 'results');
  let stderr = '';
  let stdout = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  const std = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  try {
    const code = await mainCommand({ seeds: '1', model: 'tiny-random', set: [], knob: [], task: 'nli', ...overrides, out });
    return { code, stderr, stdout, out };
  } finally {
    err.mockRestore();
    std.mockRestore();
  }
}

/** Nothing under `out`, and no record anywhere below its parent. */
function wroteNothing(out: string): boolean {
  return !fs.existsSync(out) || fs.readdirSync(out).length === 0;
}

async function tinyCheckpoint(): Promise<string> {
  const dir = tmp('peft-pre-model-');
  const tokenizer = new ByteTokenizer();
  const model = createModel({ family: 'gpt2', vocabSize: tokenizer.vocabSize, d: 16, nLayer: 1, nHead: 2, maxSeq: 128 }, 3);
  await saveModel(model, dir);
  model.dispose();
  saveTokenizer(tokenizer, path.join(dir, 'tokenizer.json'));
  return dir;
}

afterEach(() => vi.restoreAllMocks());

describe('pre-checks: exit 2, nothing written', { timeout: 60_000 }, () => {
  const cases: [string, Partial<MainOptions>, RegExp][] = [
    ['a target module the model does not have', { method: 'lora', set: ['target_modules=q,nonexistent'] }, /Invalid configuration for method "lora" on model "tiny-random": .*'nonexistent' matches no linear module; linear modules are q, k, v, o, up, down/],
    ['ln-outlier n beyond the weights of a norm', { method: 'ln-outlier', rank: '65536' }, /method "ln-outlier" on model "tiny-random": .*n=65536 exceeds the 64 weights of blocks\.0\.ln1.*choose n <= 64/],
    ['--threads out of range', { method: 'lora', threads: '100000' }, /Invalid --threads "100000": expected an integer from 1 to 64/],
    ['--out under /proc', { method: 'lora', out: '/proc/nope' }, /--out \/proc\/nope is under \/proc/],
    ['--max-excluded outside 0..1', { method: 'lora', maxExcluded: '5' }, /Invalid --max-excluded "5": expected a share from 0 to 1/],
  ];
  for (const [name, overrides, message] of cases) {
    it(name, async () => {
      const result = await run(overrides);
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(2);
      expect(wroteNothing(result.out)).toBe(true);
    });
  }

  it.skipIf(availableBackends().includes('tensorflow'))('--backend tensorflow when it cannot load lists the available backends', async () => {
    const result = await run({ method: 'lora', backend: 'tensorflow' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Backend "tensorflow" cannot start here: .*Available backends here: (wasm-blas, )?wasm, cpu/);
    expect(result.stderr).not.toContain(REPO_ROOT);
    expect(wroteNothing(result.out)).toBe(true);
  });

  it('--out on a read-only directory', async () => {
    const dir = tmp('peft-pre-ro-');
    let locked = false;
    try {
      if (process.getuid?.() === 0) {
        execFileSync('chattr', ['+i', dir]); // root writes through chmod; an immutable directory it cannot
        locked = true;
      } else fs.chmodSync(dir, 0o555);
    } catch {
      return; // no way to make a read-only directory here
    }
    try {
      const result = await run({ method: 'lora', out: path.join(dir, 'results') });
      expect(result.stderr).toMatch(/--out .*results cannot be written \((EPERM|EACCES|EROFS) on /);
      expect(result.code).toBe(2);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      if (locked) execFileSync('chattr', ['-i', dir]);
      else fs.chmodSync(dir, 0o755);
    }
  });

  it('a model whose tensors disagree with config.json, a config.json that is not JSON, a truncated safetensors', async () => {
    const shapes = await tinyCheckpoint();
    const configFile = path.join(shapes, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), d: 32 }));
    let result = await run({ method: 'lora', model: shapes });
    expect(result.stderr).toMatch(new RegExp(`${shapes}/model\\.safetensors: 'embeddings\\.tokens' has shape \\[259,16\\], but ${shapes}/config\\.json needs \\[259,32\\]`));
    expect(result.code).toBe(2);
    expect(wroteNothing(result.out)).toBe(true);

    const bad = await tinyCheckpoint();
    fs.writeFileSync(path.join(bad, 'config.json'), '{"format": "peft-bench/model@1",');
    result = await run({ method: 'lora', model: bad });
    expect(result.stderr).toMatch(new RegExp(`${bad}/config\\.json is not JSON`));
    expect(result.code).toBe(2);

    const truncated = await tinyCheckpoint();
    const weights = path.join(truncated, 'model.safetensors');
    fs.truncateSync(weights, Math.floor(fs.statSync(weights).size / 2));
    result = await run({ method: 'lora', model: truncated });
    expect(result.stderr).toMatch(new RegExp(`${weights}: not a valid safetensors file: .*truncated`));
    expect(result.code).toBe(2);
    expect(wroteNothing(result.out)).toBe(true);
  });

  it('a malformed line in a data file is named by file:line', async () => {
    const dataDir = writeTinyDatasets();
    const file = path.join(dataDir, 'rte/train_dev.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[6] = '{"premise": "cut off';
    fs.writeFileSync(file, lines.join('\n'));
    const result = await run({ method: 'lora', task: 'rte', dataDir });
    expect(result.stderr).toMatch(new RegExp(`Task rte cannot read its data: ${file}:7: not valid JSON`));
    expect(result.code).toBe(2);
    expect(wroteNothing(result.out)).toBe(true);
  });

  it('more than --max-excluded of a split with targets that cannot fit refuses to start; the counts are printed otherwise', async () => {
    const dataDir = writeTinyDatasets({ longTargets: 12 });
    let result = await run({ method: 'lora', task: 'wikisql', dataDir });
    expect(result.stderr).toMatch(/Task wikisql on model "tiny-random": 12 of 20 train examples \(60%\) have a target that cannot fit in 384 tokens, more than the 20% allowed \(--max-excluded\)/);
    expect(result.code).toBe(2);
    expect(wroteNothing(result.out)).toBe(true);
    result = await run({ method: 'lora', task: 'wikisql', dataDir, maxExcluded: '0.7', dryRun: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wikisql s0: excluded \(target longer than fits in 384 tokens\): train 12\/20, valid 0\/4, test 0\/4/);
    // tiny-random is for tests: running a real task on it says how to get meaningful scores.
    expect(result.stderr).toMatch(/^note: model "tiny-random" was built for tests .*--model <HF checkpoint dir>/m);
  });

  it('--dry-run for single runs lists run ids and whether each is finished, and trains nothing', async () => {
    const result = await run({ method: 'lora', rank: '2', task: 'nli,sql', dryRun: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[0-9a-f]{20}\s+lora r=2 on nli seed 0.*would run$/m);
    expect(result.stdout).toMatch(/^[0-9a-f]{20}\s+lora r=2 on sql seed 0.*would run$/m);
    expect(result.stdout).toMatch(/2 run\(s\), 0 finished, 2 would run.*nothing trained or written/);
    expect(fs.existsSync(result.out)).toBe(false);
  });
});

describe('--list', () => {
  it('says what each model was built for', async () => {
    const result = await run({ list: true, json: true });
    expect(result.code).toBe(0);
    const models = JSON.parse(result.stdout).models as { id: string; built_for: string[] }[];
    expect(Object.fromEntries(models.map((m) => [m.id, m.built_for]))).toMatchObject({ base: ['synthetic', 'real'], naive: ['synthetic'], 'tiny-random': ['tests'] });
  });
});

describe('divergence and reasons', { timeout: 120_000 }, () => {
  it('--lr 1e9 on tiny-random is recorded as diverged (the command as a user runs it)', async () => {
    const out = path.join(tmp('peft-pre-lr-'), 'results');
    const result = await runCli(['--method', 'lora', '--task', 'nli', '--model', 'tiny-random', '--lr', '1e9', '--out', out, '--json']);
    expect(result.code).toBe(0);
    const [file] = fs.readdirSync(out);
    const loaded = loadRecordFile(path.join(out, file!));
    if (!loaded.ok) throw new Error(loaded.message);
    const record = loaded.record;
    expect(record.status).toBe('diverged');
    expect(record.reason).toMatch(/^non-finite: a trainable weight reached .* after step 1, beyond float16's range/);
    expect(record.metrics.primary).toBeNull();
  });

  it('--out /proc/nope exits 2 at once in a real process', async () => {
    const result = await runCli(['--method', 'lora', '--task', 'nli', '--model', 'tiny-random', '--out', '/proc/nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--out \/proc\/nope is under \/proc/);
  });

  it('a failed record\'s reason loses stack lines and absolute paths', () => {
    const message = `Example x: cannot read ${REPO_ROOT}/packages/core/models/default/model.safetensors and /data/d/gsm8k/train.jsonl:5\n    at foo (${REPO_ROOT}/packages/core/src/x.ts:1:2)\n    at async bar (node:internal/x:3:4)`;
    expect(sanitizeReason(message, { dataDir: '/data/d' })).toBe('Example x: cannot read packages/core/models/default/model.safetensors and <data-dir>/gsm8k/train.jsonl:5');
    expect(sanitizeReason(`${os.homedir()}/x.json is not JSON`)).toBe('~/x.json is not JSON');
  });
});

describe('memory', () => {
  it('a training step that would not fit in memory fails before any work, naming a micro-batch that fits', async () => {
    const { checkMemory } = await import('../src/run/precheck.ts');
    const { resolveRequests } = await import('../src/run/resolve.ts');
    const { loadCatalog } = await import('../src/run/registries.ts');
    const { checkCheckpointFiles } = await import('@peft-bench/core/checkpoint/check');
    const { WASM_HEAP_BYTES } = await import('@peft-bench/core/train/memory');
    const { BASE_MODEL_DIR } = await import('../src/run/models.ts');
    const request = (training: Record<string, number>) => ({
      experiment: 'test', method: 'lora', rank: 8, task: 'math', seed: 0, lr: null, lrFactor: null, set: {}, training,
      taskConfig: {}, model: 'base', keepAdapters: false,
    });
    const catalog = await loadCatalog();
    const [fits, tooBig] = await resolveRequests([request({}), request({ micro_batch_size: 16 })], catalog, { codeVersion: 'test', defaultModel: 'base' });
    const facts = { def: { id: 'base' }, config: (await checkCheckpointFiles(BASE_MODEL_DIR)).config };
    const wasmLimit = WASM_HEAP_BYTES * 0.9;
    // base's own default micro-batch (8) fits the wasm heap; 16 rows of 256 tokens through its 4,096-id head do not.
    expect(fits!.spec.training.micro_batch_size).toBe(8);
    expect(() => checkMemory(fits!, facts, wasmLimit)).not.toThrow();
    expect(() => checkMemory(tooBig!, facts, wasmLimit)).toThrow(/model "base" with a micro-batch of 16 rows x 256 tokens needs about 5\.\d+ GiB, over the 3\.60 GiB available here\. Pass --micro-batch 8/);
  });
});
