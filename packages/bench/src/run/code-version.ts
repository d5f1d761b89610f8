// The code version that goes into every run id: a hash of the source files that compute a
// result (core, the methods, the runner), not of the git commit, so a commit that only touches
// docs, the site or the CLI leaves finished runs finished.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Folders (relative to the repo root) whose source determines results. */
const RESULT_SOURCES = ['packages/core/src', 'packages/core/native', 'packages/methods', 'packages/bench/src/run'];
const SOURCE_FILE = /\.(ts|mts|js|mjs|c|h|json)$/;
const SKIP_DIRS = new Set(['node_modules', 'test', 'tests', 'dist', 'build', 'scripts', 'models']);

function listSources(dir: string, out: string[]): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) listSources(full, out);
    } else if (SOURCE_FILE.test(entry.name) && !/\.test\.ts$/.test(entry.name)) {
      out.push(full);
    }
  }
}

let cached: string | null = null;

/**
 * sha256 (first 16 hex) over the sorted relative paths and contents of the result sources.
 * PEFT_BENCH_CODE_VERSION pins it instead: for re-using records across a change known not to
 * alter results, and for tests that must not depend on the source tree.
 */
export function codeVersion(root: string = REPO_ROOT): string {
  const pinned = process.env.PEFT_BENCH_CODE_VERSION;
  if (pinned) return pinned;
  if (cached !== null && root === REPO_ROOT) return cached;
  const files: string[] = [];
  for (const rel of RESULT_SOURCES) listSources(path.join(root, rel), files);
  files.sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(path.relative(root, file).split(path.sep).join('/'));
    hash.update('\0');
    hash.update(fs.readFileSync(file));
    hash.update('\0');
  }
  const version = hash.digest('hex').slice(0, 16);
  if (root === REPO_ROOT) cached = version;
  return version;
}
