// Adapter tensors on disk: F32 safetensors through core's reader/writer, as host arrays.
import { readFile } from 'node:fs/promises';
import { parseSafetensors, serializeSafetensors, toFloat32, writeSafetensors as writeFile } from '@peft-bench/core/checkpoint/safetensors';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** HF PEFT writes this metadata into adapter_model.safetensors. */
const METADATA = { format: 'pt' };

const asInput = (tensors: Map<string, HostTensor>) => new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, ...t }]));

export function encodeSafetensors(tensors: Map<string, HostTensor>): Uint8Array {
  return serializeSafetensors(asInput(tensors), METADATA);
}

export function decodeSafetensors(bytes: Uint8Array, source?: string): Map<string, HostTensor> {
  // A plain Uint8Array copy: the parser's slice() must copy (a Node Buffer's slice is a view of a shared pool).
  return toHost(parseSafetensors(new Uint8Array(bytes), source).tensors);
}

function toHost(tensors: Map<string, Parameters<typeof toFloat32>[0]>): Map<string, HostTensor> {
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
}

export async function writeSafetensors(path: string, tensors: Map<string, HostTensor>): Promise<void> {
  await writeFile(path, asInput(tensors), METADATA);
}

export async function readSafetensors(path: string): Promise<Map<string, HostTensor>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeSafetensors(bytes, path);
}
