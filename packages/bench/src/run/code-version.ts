// The code version that goes into every run id: a hash of the source files that compute that run's
// result, not of the git commit, so a commit that only touches docs, the site or the CLI leaves finished
// runs finished. It is scoped per method: the shared result sources (core, the method API, the runner)
// plus the method's own folder and the sibling method folders it imports, so adding or changing one
// method does not make every other method's runs new.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Folders (relative to the repo root) whose source determines every run's result. */
const SHARED_SOURCES = ['packages/core/src', 'packages/core/native', 'packages/methods/src', 'packages/bench/src/run'];
/** Under the shared folders but never executed by a run: speed measurement and pretraining corpora. */
const NOT_RESULT_SOURCES = new Set(['packages/core/src/throughput.ts', 'packages/core/src/corpus']);
const METHODS_DIR = 'packages/methods';
const SOURCE_FILE = /\.(ts|mts|js|mjs|c|h|json)$/;
const SKIP_DIRS = new Set(['node_modules', 'test', 'tests', 'dist', 'build', 'scripts', 'models']);
/** `from '../lora/layer.ts'` in a method folder: the sibling method folder it builds on. */
const SIBLING_IMPORT = /from\s+['"]\.\.\/([a-z0-9][a-z0-9-]*)\//g;

function listSources(root: string, dir: string, out: string[]): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (NOT_RESULT_SOURCES.has(path.relative(root, full).split(path.sep).join('/'))) continue;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) listSources(root, full, out);
    } else if (SOURCE_FILE.test(entry.name) && !/\.test\.ts$/.test(entry.name)) {
      out.push(full);
    }
  }
}

/** The method folders a method's result depends on: its own and, transitively, the siblings it imports. */
export function methodFolders(methodId: string, root: string = REPO_ROOT): string[] {
  const seen = new Set<string>();
  const visit = (id: string) => {
    const dir = path.join(root, METHODS_DIR, id);
    if (seen.has(id) || id === 'src' || !fs.existsSync(dir)) return;
    seen.add(id);
    const files: string[] = [];
    listSources(root, dir, files);
    for (const file of files) {
      for (const match of fs.readFileSync(file, 'utf8').matchAll(SIBLING_IMPORT)) visit(match[1]!);
    }
  };
  visit(methodId);
  return [...seen].sort();
}

const cache = new Map<string, string>();

/**
 * sha256 (first 16 hex) over the sorted relative paths and contents of the sources that compute a run of
 * `methodId`. PEFT_BENCH_CODE_VERSION pins it instead (tests that must not depend on the source tree);
 * to carry finished records across a change that does not alter results, declare the old version
 * equivalent instead (grid/equivalence.ts), which is checked by re-running a sample.
 */
export function codeVersion(methodId: string, root: string = REPO_ROOT): string {
  const pinned = process.env.PEFT_BENCH_CODE_VERSION;
  if (pinned) return pinned;
  const key = `${root}\0${methodId}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const files: string[] = [];
  for (const rel of SHARED_SOURCES) listSources(root, path.join(root, rel), files);
  for (const id of methodFolders(methodId, root)) listSources(root, path.join(root, METHODS_DIR, id), files);
  files.sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(path.relative(root, file).split(path.sep).join('/'));
    hash.update('\0');
    hash.update(fs.readFileSync(file));
    hash.update('\0');
  }
  const version = hash.digest('hex').slice(0, 16);
  cache.set(key, version);
  return version;
}
