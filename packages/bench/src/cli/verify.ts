// `pnpm bench verify [paths...]`: verifies run record files (record/verify.ts) and prints one line per
// file that fails, then a summary; exit 1 if any failed. `--changed-since <ref>` verifies only the
// records added or changed since a git ref (CI on pull requests).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadRecordFile } from '@peft-bench/results/record/store';
import { MODELS, safetensorsParamCount } from '../run/models.ts';
import { InputError } from '../run/resolve.ts';
import { reportError } from './errors.ts';

export interface VerifyCommandOptions {
  changedSince?: string;
  json?: boolean;
}

/** The shipped models' parameter counts by checkpoint hash (records of them must state that count). */
function knownModels(): Map<string, number> {
  const known = new Map<string, number>();
  for (const def of MODELS) {
    if (def.kind !== 'checkpoint') continue;
    const weights = path.join(def.dir, 'model.safetensors');
    if (fs.existsSync(weights)) known.set(createHash('sha256').update(fs.readFileSync(weights)).digest('hex'), safetensorsParamCount(weights));
  }
  return known;
}

function recordFiles(target: string): string[] {
  if (!fs.existsSync(target)) throw new InputError(`Cannot verify ${target}: no such file or directory. Give record files or directories of them (default: results).`);
  if (fs.statSync(target).isFile()) return [target];
  return fs
    .readdirSync(target)
    .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
    .sort()
    .map((name) => path.join(target, name));
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n')[0];
    throw new InputError(`git ${args.join(' ')} failed${stderr ? ` (${stderr})` : ''}: give --changed-since a commit, branch or tag of this repository, e.g. origin/main.`);
  }
}

/** *.json files under `targets` added or modified since `ref` (committed or not), plus untracked ones. */
function changedFiles(ref: string, targets: string[]): string[] {
  git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  const changed = git(['diff', '--name-only', '--diff-filter=ACMR', '--relative', ref, '--', ...targets]);
  const untracked = git(['ls-files', '--others', '--exclude-standard', '--', ...targets]);
  const names = [...changed.split('\n'), ...untracked.split('\n')].filter((name) => name.endsWith('.json') && !path.basename(name).startsWith('.'));
  return [...new Set(names)].sort();
}

export async function verifyCommand(paths: string[], options: VerifyCommandOptions): Promise<number> {
  try {
    const targets = paths.length > 0 ? paths : ['results'];
    const files = options.changedSince !== undefined ? changedFiles(options.changedSince, targets) : targets.flatMap(recordFiles);
    const models = knownModels();
    let failed = 0;
    for (const file of files) {
      const loaded = loadRecordFile(file, { knownModels: models });
      if (loaded.ok) continue;
      failed += 1;
      if (options.json) process.stdout.write(`${JSON.stringify({ path: file, ok: false, reason: loaded.message })}\n`);
      else process.stdout.write(`FAIL ${file}: ${loaded.message}\n`);
    }
    const scope = options.changedSince !== undefined ? ` changed since ${options.changedSince}` : '';
    const summary = `verified ${files.length} record file(s)${scope}: ${files.length - failed} ok, ${failed} failed`;
    if (options.json) process.stdout.write(`${JSON.stringify({ summary: true, files: files.length, ok: files.length - failed, failed })}\n`);
    else process.stdout.write(`${summary}\n`);
    return failed > 0 ? 1 : 0;
  } catch (error) {
    return reportError(error);
  }
}
