// Adapter tensors on disk: F32 safetensors through core's reader/writer, as host arrays.
import {
  parseSafetensors, readSafetensors as readFile, serializeSafetensors, toFloat32, writeSafetensors as writeFile,
} from '@peft-bench/core/checkpoint/safetensors';

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
  return toHost(parseSafetensors(bytes, source).tensors);
}

function toHost(tensors: Map<string, Parameters<typeof toFloat32>[0]>): Map<string, HostTensor> {
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
}

export async function writeSafetensors(path: string, tensors: Map<string, HostTensor>): Promise<void> {
  await writeFile(path, asInput(tensors), METADATA);
}

export async function readSafetensors(path: string): Promise<Map<string, HostTensor>> {
  return toHost((await readFile(path)).tensors);
}
