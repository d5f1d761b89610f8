import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  checkpointHash, createModel, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, loadModel, parseSafetensors, readSafetensors,
  saveModel, serializeSafetensors, writeSafetensors, type SafetensorsInput,
} from '../src/index.ts';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ckpt-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('safetensors', () => {
  it('writes the documented layout: u64 header length, sorted JSON header with metadata, packed data', async () => {
    const tensors = new Map<string, SafetensorsInput>([
      ['b.weight', { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      ['a.ids', { dtype: 'I32', shape: [3], data: new Int32Array([7, -8, 9]) }],
    ]);
    const path = join(dir, 'x.safetensors');
    const hash = await writeSafetensors(path, tensors, { config: '{"d":2}' });
    const bytes = await readFile(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
    expect(Object.keys(header)).toEqual(['__metadata__', 'a.ids', 'b.weight']);
    expect(header['a.ids']).toEqual({ dtype: 'I32', shape: [3], data_offsets: [0, 12] });
    expect(header['b.weight']).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [12, 28] });
    expect(bytes.readFloatLE(8 + n + 12 + 8)).toBe(3);
    expect(bytes.length).toBe(8 + n + 28);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]); // atomic: no temp left
    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ config: '{"d":2}' });
    expect(Array.from(back.tensors.get('a.ids')!.data as Int32Array)).toEqual([7, -8, 9]);
    expect(Array.from(back.tensors.get('b.weight')!.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('round-trips F16, BF16 (widened to F32) and I64', () => {
    const values = new Float32Array([0, -1.5, 65504, 1e-7, 3.140625, -0.0001, Infinity]);
    const bytes = serializeSafetensors(
      new Map<string, SafetensorsInput>([
        ['h', { dtype: 'F16', shape: [7], data: values }],
        ['b', { dtype: 'BF16', shape: [7], data: values }],
        ['i', { dtype: 'I64', shape: [2], data: new BigInt64Array([5n, -(2n ** 40n)]) }],
      ]),
    );
    const file = parseSafetensors(bytes);
    const h = file.tensors.get('h')!;
    expect(h.dtype).toBe('F16');
    expect(Array.from(h.data as Float32Array)).toEqual(Array.from(values, (v) => f16BitsToF32(f32ToF16Bits(v))));
    expect((h.data as Float32Array)[2]).toBe(65504);
    expect((h.data as Float32Array)[4]).toBe(3.140625);
    expect((h.data as Float32Array)[3]).toBeCloseTo(1.19e-7, 8); // subnormal half
    const b = file.tensors.get('b')!.data as Float32Array;
    expect(b[1]).toBe(-1.5);
    expect(b[4]).toBe(3.140625);
    expect(Math.abs(b[5]! + 0.0001) / 0.0001).toBeLessThan(1 / 128);
    expect(Array.from(file.tensors.get('i')!.data as BigInt64Array)).toEqual([5n, -(2n ** 40n)]);
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie rounds to even
  });

  it('copies tensor data out of a Buffer that is a view into a larger pool, at any offset', () => {
    const tensors = new Map<string, SafetensorsInput>(
      [0, 1, 2, 3].map((i) => [`t${i}`, { dtype: 'F32', shape: [3], data: Float32Array.from([i, i + 0.5, -i]) }]),
    );
    tensors.set('h', { dtype: 'F16', shape: [2], data: new Float32Array([1.5, -2]) });
    const bytes = serializeSafetensors(tensors);
    // Buffer.from of a small array comes from Node's shared pool (byteOffset > 0); odd offsets leave the data unaligned.
    for (const shift of [0, 1, 3]) {
      const pool = Buffer.alloc(bytes.length + 64, 0x7f);
      const view = pool.subarray(5 + shift, 5 + shift + bytes.length);
      view.set(bytes);
      for (const input of [view, Buffer.from(bytes)]) {
        const file = parseSafetensors(input, 'pooled.st');
        input.fill(0); // the parsed tensors must not change with the source bytes
        for (const [name, t] of tensors) {
          const got = file.tensors.get(name)!.data as Float32Array;
          expect(Array.from(got), `${name} at shift ${shift}`).toEqual(Array.from(t.data as Float32Array));
          expect(got.buffer.byteLength, `${name} owns its buffer`).toBe(got.byteLength);
        }
      }
    }
  });

  it('reports corrupt files with the path and what is wrong', async () => {
    const good = serializeSafetensors(new Map([['w', { dtype: 'F32', shape: [4], data: new Float32Array(4) }]]));
    expect(() => parseSafetensors(good.subarray(0, 5), 'short.st')).toThrow('short.st: not a valid safetensors file: 5 bytes');
    expect(() => parseSafetensors(good.subarray(0, good.length - 4), 'cut.st')).toThrow("tensor 'w' has data_offsets [0,16] outside the 12 data bytes");
    const wrongDtype = Buffer.from(good);
    wrongDtype.write('"F64"', wrongDtype.indexOf('"F32"'));
    expect(() => parseSafetensors(wrongDtype, 'x.st')).toThrow("dtype 'F64'; readable dtypes are F32, F16, BF16, I32, I64");
    const path = join(dir, 'garbage.safetensors');
    await writeFile(path, Buffer.from('\x10\x00\x00\x00\x00\x00\x00\x00{not json at all'));
    await expect(readSafetensors(path)).rejects.toThrow(`${path}: not a valid safetensors file: header is not JSON`);
    expect(() => serializeSafetensors(new Map([['w', { dtype: 'F32', shape: [3], data: new Float32Array(2) }]]))).toThrow("'w' has 2 values but shape [3] needs 3");
  });
});

describe('model checkpoints', () => {
  it.each(['gpt2', 'llama'] as const)('save/load round-trips a %s model exactly, with a stable content hash', async (family) => {
    const model = createModel({ family, vocabSize: 13, d: 8, nLayer: 2, nHead: 2, maxSeq: 8, mlpHidden: 12, tieEmbeddings: family === 'gpt2' }, 5);
    const out = join(dir, family);
    const hash = await saveModel(model, out);
    expect(await checkpointHash(out)).toBe(hash);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ format: 'peft-bench/model@1', family, d: 8 });
    const loaded = await loadModel(out);
    expect(loaded.config).toEqual(model.config);
    for (const [name, v] of model.params()) expect(Array.from(loaded.params().get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
    const toks = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const a = model.forward(toks).dataSync();
    const b = loaded.forward(toks).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    // same weights -> same hash; different weights -> different hash
    expect(await saveModel(loaded, join(dir, `${family}-again`))).toBe(hash);
    const other = createModel(model.config, 6);
    expect(await saveModel(other, join(dir, `${family}-other`))).not.toBe(hash);
    tf.dispose(toks);
    for (const m of [model, loaded, other]) m.dispose();
  });

  it('says which file is missing', async () => {
    await expect(loadModel(join(dir, 'nowhere'))).rejects.toThrow('config.json is missing');
  });
});
