// The benchmark workflow's plan, shard and merge steps, run in order by
// .github/scripts/simulate-pipeline.sh with the scripts bench.yml calls, against a local bare
// repository standing in for origin (GitHub's runners and Docker are not available here).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

it('lands an approved method benchmark, skips committed runs, uploads only new records, and lands them on a main that moved', () => {
  const result = spawnSync('bash', [path.join(repo, '.github/scripts/simulate-pipeline.sh')], {
    encoding: 'utf8',
    env: { ...process.env, PEFT_BENCH_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
    timeout: 170_000,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  expect(result.status, output).toBe(0);
  for (const check of [
    'ok: the commit names the method and the reviewed commit',
    'ok: the shard skipped the committed run',
    'ok: the artifact holds only the new record',
    'ok: the first push was rejected and the retry landed',
    'ok: origin main has the records on top of both concurrent commits',
    'ok: the merge job fails',
    'ok: origin main is unchanged',
    'simulation passed',
  ]) {
    expect(output).toContain(check);
  }
}, 180_000);
