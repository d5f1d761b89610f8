// A failed run's reason as a record keeps it: the message without stack frames or absolute paths
// of this machine (records are published, and compared across machines).
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './code-version.ts';

const MAX_REASON = 2000;

/**
 * Drops stack lines ("    at f (file:line)") and rewrites paths: the data directory to
 * `<data-dir>/...`, the repository root to a relative path, the home directory to `~`.
 */
export function sanitizeReason(text: string, options: { dataDir?: string | undefined } = {}): string {
  const roots: [string, string][] = [];
  if (options.dataDir) roots.push([path.resolve(options.dataDir), '<data-dir>']);
  if (process.env.PEFT_BENCH_DATA_DIR) roots.push([path.resolve(process.env.PEFT_BENCH_DATA_DIR), '<data-dir>']);
  roots.push([REPO_ROOT, '.']);
  const home = os.homedir();
  if (home && home !== '/') roots.push([home, '~']);
  // Longest first, so a data directory inside the repository keeps its own name.
  roots.sort((a, b) => b[0].length - a[0].length);
  let lines = text.split('\n').filter((line) => !/^\s+at\s/.test(line) && !/^\s*at\s.*\(.*:\d+:\d+\)\s*$/.test(line));
  lines = lines.map((line) => {
    let out = line.replace(/file:\/\//g, '');
    for (const [root, name] of roots) out = out.split(`${root}/`).join(`${name}/`).split(root).join(name);
    return out;
  });
  const result = lines.join('\n').trim().replace(/(^|[\s(])\.\//g, '$1');
  return result.length > MAX_REASON ? `${result.slice(0, MAX_REASON)}...` : result;
}
