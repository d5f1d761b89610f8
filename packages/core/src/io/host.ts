// What the host provides: file access, hashing, memory size. This is the Node version; in a
// browser bundle core's package.json "browser" map swaps in host.browser.ts (an in-memory file
// store), so the model, checkpoints, adapters and trainer above it run unchanged in both.
import { createHash } from 'node:crypto';
import { access, mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { endianness, totalmem } from 'node:os';
import { join } from 'node:path';

export const HOST = 'node';

export function joinPath(...parts: string[]): string {
  return join(...parts);
}

export function isLittleEndian(): boolean {
  return endianness() === 'LE';
}

export function totalMemoryBytes(): number {
  return totalmem();
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function readBytes(path: string): Promise<Uint8Array> {
  return readFile(path);
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** `length` bytes from `offset` (fewer at the end of the file) and the file's size. */
export async function readRange(path: string, offset: number, length: number): Promise<{ bytes: Uint8Array; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
    await handle.read(bytes, 0, bytes.length, offset);
    return { bytes, size };
  } finally {
    await handle.close();
  }
}

export async function makeDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

export async function writeText(path: string, text: string): Promise<void> {
  await writeFile(path, text);
}

/** Write to a temp file beside the target, then rename, so readers never see a partial file. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
