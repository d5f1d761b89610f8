// The method registry, built from the folders of packages/methods at runtime: every
// `packages/methods/<id>/index.ts` that default-exports defineMethod(...) is a method. Adding a
// method is adding a folder.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Registry, type MethodInfo } from './catalog.ts';
import type { Method } from './types.ts';

export { Registry, methodInfo, withRank, type HyperparameterInfo, type MethodInfo } from './catalog.ts';

/** packages/methods */
export const METHODS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NOT_METHODS = new Set(['src', 'test', 'scripts', 'node_modules']);

/** Method folders under `root`: those holding an index.ts. */
export function methodFolders(root = METHODS_ROOT): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !NOT_METHODS.has(e.name) && !e.name.startsWith('.'))
    .filter((e) => existsSync(join(root, e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

const cache = new Map<string, Promise<Registry>>();

/** Imports every method folder; a folder whose default export is not a method, or whose id differs from its name, throws. */
export function loadRegistry(root = METHODS_ROOT): Promise<Registry> {
  let r = cache.get(root);
  if (!r) {
    r = (async () => {
      const methods: Method[] = [];
      for (const folder of methodFolders(root)) {
        const file = join(root, folder, 'index.ts');
        const mod = (await import(pathToFileURL(file).href)) as { default?: Method };
        const m = mod.default;
        if (!m || m.kind !== 'peft-bench-method') {
          throw new Error(`${file}: must \`export default defineMethod({...})\``);
        }
        if (m.id !== folder) throw new Error(`${file}: method id '${m.id}' must equal its folder name '${folder}'`);
        methods.push(m);
      }
      return new Registry(methods);
    })();
    cache.set(root, r);
    r.catch(() => cache.delete(root));
  }
  return r;
}

export async function getMethod(id: string): Promise<Method> {
  return (await loadRegistry()).get(id);
}

export async function listMethods(): Promise<MethodInfo[]> {
  return (await loadRegistry()).list();
}
