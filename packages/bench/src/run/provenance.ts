// Where and with what a run was made: versions, CPU, git commit and whether the result-relevant
// source differed from it.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './code-version.ts';

const requireFromCore = createRequire(path.join(REPO_ROOT, 'packages/core/package.json'));

function packageVersion(name: string): string | null {
  try {
    return (requireFromCore(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

let cachedVersions: Record<string, string> | null = null;

export function versions(): Record<string, string> {
  if (cachedVersions) return cachedVersions;
  const out: Record<string, string> = { node: process.versions.node };
  // tfjs-node-gpu is an optional dependency that may be present without loading; the backend name says which ran.
  for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm']) {
    const version = packageVersion(name);
    if (version) out[name] = version;
  }
  cachedVersions = out;
  return out;
}

export function cpuModel(): string {
  const cpus = os.cpus();
  return cpus.length > 0 ? `${cpus[0]!.model.trim()} (${cpus.length} logical cores)` : 'unknown';
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

let cachedGit: { commit: string; dirty: boolean } | null = null;

/** HEAD and whether the source that computes results has uncommitted changes (results/ etc. do not count). */
export function gitState(): { commit: string; dirty: boolean } {
  if (cachedGit) return cachedGit;
  const commit = git(['rev-parse', 'HEAD']) ?? 'unknown';
  const status = git(['status', '--porcelain', '--', 'packages/core/src', 'packages/core/native', 'packages/methods', 'packages/bench/src']);
  cachedGit = { commit, dirty: status === null ? true : status.length > 0 };
  return cachedGit;
}
