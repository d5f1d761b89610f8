// The browser's host (io/host.browser.ts): its SHA-256 agrees with Node's, and its in-memory file store
// round-trips what the checkpoint and adapter code write through it.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as browser from '../src/io/host.browser.ts';
import * as node from '../src/io/host.ts';

describe('browser host', () => {
  it('hashes like Node at every padding boundary', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
      expect(browser.sha256Hex(bytes), `${n} bytes`).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(node.sha256Hex(bytes)).toBe(browser.sha256Hex(bytes));
    }
  });

  it('stores files by path, lists a directory, and reads ranges as Node does', async () => {
    await browser.makeDir('adapter');
    await browser.writeText(browser.joinPath('adapter', 'adapter_config.json'), '{"r": 4}\n');
    await browser.writeFileAtomic('adapter/adapter_model.safetensors', new Uint8Array([1, 2, 3, 4, 5]));
    expect(await browser.readText('adapter/adapter_config.json')).toBe('{"r": 4}\n');
    expect(await browser.fileExists('adapter//adapter_model.safetensors')).toBe(true);
    expect([...browser.filesIn('adapter/').keys()].sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(await browser.readRange('adapter/adapter_model.safetensors', 3, 8)).toEqual({ bytes: new Uint8Array([4, 5]), size: 5 });
    browser.removeDir('adapter');
    expect(await browser.fileExists('adapter/adapter_config.json')).toBe(false);
    await expect(browser.readBytes('adapter/adapter_config.json')).rejects.toThrow("no such file in the browser's file store: adapter/adapter_config.json");
    expect(browser.isLittleEndian()).toBe(node.isLittleEndian());
  });
});
