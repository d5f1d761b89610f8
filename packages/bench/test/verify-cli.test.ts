// `pnpm bench verify` as a user runs it, on committed records and tampered copies.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clone, committedNli, RESULTS } from '@peft-bench/results/test/committed';
import { runCli } from './helpers.ts';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'peft-verify-'));

describe('pnpm bench verify', { timeout: 60_000 }, () => {
  it('prints one line per failing file and a summary; exit 1 on any failure, 0 when all verify', async () => {
    const dir = tempDir();
    const { name, json } = committedNli();
    fs.copyFileSync(path.join(RESULTS, name), path.join(dir, name));
    const good = await runCli(['verify', dir]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('verified 1 record file(s): 1 ok, 0 failed');
    const shadow = clone(json);
    shadow.metrics.test.acc = 1;
    shadow.metrics.primary = 1;
    fs.writeFileSync(path.join(dir, '0-shadow.json'), JSON.stringify(shadow));
    fs.writeFileSync(path.join(dir, 'broken.json'), '{');
    const bad = await runCli(['verify', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`FAIL ${path.join(dir, '0-shadow.json')}: file name 0-shadow.json is not its run_id`);
    expect(bad.stdout).toContain(`FAIL ${path.join(dir, 'broken.json')}: not valid JSON`);
    expect(bad.stdout).toContain('verified 3 record file(s): 1 ok, 2 failed');
    const missing = await runCli(['verify', path.join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or directory/);
  });

  it('--changed-since verifies only records added or changed since a git ref', async () => {
    const repo = tempDir();
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
    git('init', '-q');
    git('config', 'user.email', 't@example.org');
    git('config', 'user.name', 't');
    fs.mkdirSync(path.join(repo, 'results'));
    const { name, json } = committedNli();
    fs.writeFileSync(path.join(repo, 'results', 'old-bad.json'), '{');
    git('add', '.');
    git('commit', '-qm', 'base');
    fs.copyFileSync(path.join(RESULTS, name), path.join(repo, 'results', name));
    const fake = clone(json);
    fake.metrics.test.acc = 7.5;
    fs.writeFileSync(path.join(repo, 'results', `${json.run_id.replace(/^./, 'f')}.json`), JSON.stringify(fake));
    const result = await runCli(['verify', '--changed-since', 'HEAD'], {}, repo);
    expect(result.stdout).toContain('verified 2 record file(s) changed since HEAD: 1 ok, 1 failed');
    expect(result.stdout).not.toContain('old-bad.json');
    expect(result.code).toBe(1);
    const badRef = await runCli(['verify', '--changed-since', 'no-such-ref'], {}, repo);
    expect(badRef.code).toBe(2);
    expect(badRef.stderr).toMatch(/--changed-since a commit, branch or tag/);
  });
});
