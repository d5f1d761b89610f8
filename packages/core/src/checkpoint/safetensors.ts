// The safetensors format (huggingface/safetensors), read and written directly:
//   8 bytes   little-endian u64 N, the header length
//   N bytes   JSON: { "__metadata__": {str: str}, name: { dtype, shape, data_offsets: [begin, end] }, ... }
//             (offsets relative to the byte after the header; padded with spaces to a multiple of 8)
//   rest      the tensors' bytes, little-endian, row-major, back to back.
// Floating dtypes read as Float32Array (F16 and BF16 are widened); integers as Int32Array / BigInt64Array.
import { isLittleEndian, readBytes, readRange, sha256Hex, writeFileAtomic } from '../io/host.ts';

export { sha256Hex, writeFileAtomic };

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';
export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'I32', 'I64'];

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };

/** One tensor to write. Float dtypes take a Float32Array (F16/BF16 are rounded to nearest even). */
export interface SafetensorsInput {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array | ArrayLike<number>;
}

/** One tensor read: `dtype` is the stored one, `data` is widened (floats to F32). */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

if (!isLittleEndian()) throw new Error('safetensors: this reader assumes a little-endian host');

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** float32 -> IEEE half bits, round to nearest even, with subnormals, inf and NaN. */
export function f32ToF16Bits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into the exponent: still correct
  return sign | half;
}

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float32 -> bfloat16 bits (the top 16 bits), round to nearest even. */
export function f32ToBf16Bits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function encode(name: string, t: SafetensorsInput): Uint8Array {
  const n = numel(t.shape);
  if (t.data.length !== n) throw new Error(`safetensors: '${name}' has ${t.data.length} values but shape [${t.shape}] needs ${n}`);
  switch (t.dtype) {
    case 'F32':
      return new Uint8Array(Float32Array.from(t.data as ArrayLike<number>).buffer);
    case 'I32':
      return new Uint8Array(Int32Array.from(t.data as ArrayLike<number>).buffer);
    case 'I64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt((t.data as ArrayLike<number | bigint>)[i]!);
      return new Uint8Array(out.buffer);
    }
    case 'F16':
    case 'BF16': {
      const out = new Uint16Array(n);
      const conv = t.dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
      for (let i = 0; i < n; i++) out[i] = conv(Number((t.data as ArrayLike<number>)[i]));
      return new Uint8Array(out.buffer);
    }
    default:
      throw new Error(`safetensors: '${name}' has dtype '${String(t.dtype)}': valid dtypes are ${SAFETENSORS_DTYPES.join(', ')}`);
  }
}

/** The file's bytes: header with tensors sorted by name, `__metadata__` first. */
export function serializeSafetensors(tensors: Map<string, SafetensorsInput>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`safetensors: metadata '${k}' must be a string (JSON-encode objects)`);
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new Error("safetensors: '__metadata__' cannot be a tensor name");
    const t = tensors.get(name)!;
    if (!t.shape.every((s) => Number.isInteger(s) && s >= 0)) throw new Error(`safetensors: '${name}' has an invalid shape [${t.shape}]`);
    const bytes = encode(name, t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // pad the header with spaces to a multiple of 8
  let at = 8 + headerLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function fail(source: string, what: string): never {
  throw new Error(`${source}: not a valid safetensors file: ${what}`);
}

/** One header entry: where a tensor's bytes are (relative to the end of the header). */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  offsets: [number, number];
}

/** The checked header of a safetensors file: every entry's dtype, shape and byte range. */
export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Where the tensor data starts (8 + header length). */
  dataStart: number;
}

/**
 * Checks the 8-byte length, the JSON header and every entry against the file size, from the
 * first `prefix` bytes of a file of `fileSize` bytes (the prefix must hold the header). A
 * truncated file fails here, naming `source`.
 */
export function parseSafetensorsHeader(prefix: Uint8Array, fileSize: number, source = 'safetensors'): SafetensorsHeader {
  if (fileSize < 8 || prefix.length < 8) fail(source, `${fileSize} bytes, shorter than the 8-byte header length`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(fileSize - 8)) fail(source, `header length ${headerLen} exceeds the file size ${fileSize} (truncated?)`);
  const n = Number(headerLen);
  if (prefix.length < 8 + n) fail(source, `header of ${n} bytes was not read in full`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(prefix.subarray(8, 8 + n)));
  } catch (e) {
    fail(source, `header is not JSON (${(e as Error).message})`);
  }
  if (header == null || typeof header !== 'object' || Array.isArray(header)) fail(source, 'header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) metadata[k] = String(v);
      continue;
    }
    const e = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e.dtype as SafetensorsDtype;
    if (!SAFETENSORS_DTYPES.includes(dtype)) {
      fail(source, `tensor '${name}' has dtype '${String(e.dtype)}'; readable dtypes are ${SAFETENSORS_DTYPES.join(', ')}`);
    }
    const shape = e.shape as number[];
    if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0)) fail(source, `tensor '${name}' has an invalid shape`);
    const offs = e.data_offsets as number[];
    if (!Array.isArray(offs) || offs.length !== 2 || !(offs[0]! >= 0 && offs[1]! >= offs[0]! && offs[1]! <= dataLen)) {
      fail(source, `tensor '${name}' has data_offsets ${JSON.stringify(offs)} outside the ${dataLen} data bytes (truncated?)`);
    }
    const count = numel(shape);
    if (offs[1]! - offs[0]! !== count * BYTES[dtype]) {
      fail(source, `tensor '${name}' spans ${offs[1]! - offs[0]!} bytes, but ${dtype} [${shape}] needs ${count * BYTES[dtype]}`);
    }
    entries.set(name, { dtype, shape, offsets: [offs[0]!, offs[1]!] });
  }
  return { entries, metadata, dataStart };
}

/** Reads and checks only the header of a safetensors file (cheap for multi-GB checkpoints). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let length: { bytes: Uint8Array; size: number };
  try {
    length = await readRange(path, 0, 8);
  } catch (e) {
    throw new Error(`safetensors: cannot read ${path}: ${(e as Error).message}`);
  }
  const declared = length.size >= 8 ? Number(new DataView(length.bytes.buffer, length.bytes.byteOffset, 8).getBigUint64(0, true)) : 0;
  const { bytes } = await readRange(path, 0, 8 + Math.max(0, Math.min(declared, length.size - 8)));
  return parseSafetensorsHeader(bytes, length.size, path);
}

/** Parses safetensors bytes; `source` names the file in error messages. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes, bytes.length, source);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, { dtype, shape, offsets: offs }] of entries) {
    const count = numel(shape);
    // Copy into an aligned buffer: the file's data need not be aligned for typed-array views.
    // (Uint8Array's slice copies; a Node Buffer's slice would be a view into the whole file.)
    const raw = Uint8Array.prototype.slice.call(bytes, dataStart + offs[0]!, dataStart + offs[1]!);
    let data: Float32Array | Int32Array | BigInt64Array;
    if (dtype === 'F32') data = new Float32Array(raw.buffer, 0, count);
    else if (dtype === 'I32') data = new Int32Array(raw.buffer, 0, count);
    else if (dtype === 'I64') data = new BigInt64Array(raw.buffer, 0, count);
    else {
      const bits = new Uint16Array(raw.buffer, 0, count);
      const out = new Float32Array(count);
      if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = f16BitsToF32(bits[i]!);
      else {
        const u32 = new Uint32Array(out.buffer);
        for (let i = 0; i < count; i++) u32[i] = bits[i]! << 16;
      }
      data = out;
    }
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(path);
  } catch (e) {
    throw new Error(`safetensors: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseSafetensors(bytes, path);
}

/** Writes atomically (temp file + rename); returns the sha256 of the bytes written. */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, SafetensorsInput>,
  metadata: Record<string, string> = {},
): Promise<string> {
  const bytes = serializeSafetensors(tensors, metadata);
  await writeFileAtomic(path, bytes);
  return sha256Hex(bytes);
}

/** Converts a read tensor's data to Float32Array (integers too), for loading weights. */
export function toFloat32(t: SafetensorsTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Int32Array) return Float32Array.from(t.data);
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]);
  return out;
}
