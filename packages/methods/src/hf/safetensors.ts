// Minimal safetensors reader/writer for adapter files (F32 only, which is what adapters hold):
// 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, the
// raw little-endian data. Tensors are written in sorted-name order; the header is padded with
// spaces to a multiple of 8 bytes, as the reference implementation does.
import { readFile, writeFile } from 'node:fs/promises';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeSafetensors(tensors: Map<string, HostTensor> | Record<string, HostTensor>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const entries = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    if (t.data.length !== numel(t.shape)) throw new Error(`safetensors: '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  const view = new DataView(out.buffer, 8 + head.length);
  let pos = 0;
  for (const [, t] of entries) for (const x of t.data) (view.setFloat32(pos, x, true), (pos += 4));
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${source}: too short to be a safetensors file (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > bytes.length - 8) throw new Error(`${source}: header length ${n} exceeds the file size; not a safetensors file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  } catch {
    throw new Error(`${source}: header is not valid JSON; not a safetensors file`);
  }
  const base = 8 + n;
  const tensors = new Map<string, HostTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = e as unknown as Record<string, string>;
      continue;
    }
    if (e.dtype !== 'F32') throw new Error(`${source}: tensor '${name}' is ${e.dtype}; adapters are read as F32 only`);
    const [start, end] = e.data_offsets;
    if (end - start !== numel(e.shape) * 4 || base + end > bytes.length) {
      throw new Error(`${source}: tensor '${name}' offsets [${start}, ${end}] do not fit shape [${e.shape}] or the file`);
    }
    const data = new Float32Array(numel(e.shape));
    for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(base + start + 4 * i, true);
    tensors.set(name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}

export async function writeSafetensors(path: string, tensors: Map<string, HostTensor> | Record<string, HostTensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFile(path, encodeSafetensors(tensors, metadata));
}

export async function readSafetensors(path: string): Promise<Map<string, HostTensor>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeSafetensors(bytes, path).tensors;
}
