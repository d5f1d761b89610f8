// Security rules for the GitHub workflows of a public repository with self-hosted GPU runners:
// the checks zizmor makes that matter here, written out so `pnpm test` enforces them. Each rule
// returns findings, one line each ("file job/step: what is wrong").
import { parse } from 'yaml';

type Permissions = string | Record<string, string> | undefined;

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

interface Job {
  'runs-on'?: unknown;
  permissions?: Permissions;
  environment?: unknown;
  container?: unknown;
  uses?: string;
  steps?: Step[];
}

export interface Workflow {
  file: string;
  text: string;
  on: string[];
  permissions: Permissions;
  hasPermissions: boolean;
  jobs: [string, Job][];
}

export interface Rule {
  id: string;
  description: string;
  check(workflow: Workflow): string[];
}

export function loadWorkflow(file: string, text: string): Workflow {
  const doc = parse(text) as Record<string, unknown>;
  const on = doc.on ?? doc[true as unknown as string]; // YAML 1.1 readers turn `on` into true
  const triggers = typeof on === 'string' ? [on] : Array.isArray(on) ? (on as string[]) : Object.keys((on ?? {}) as object);
  return {
    file,
    text,
    on: triggers,
    permissions: doc.permissions as Permissions,
    hasPermissions: 'permissions' in doc,
    jobs: Object.entries((doc.jobs ?? {}) as Record<string, Job>),
  };
}

const GITHUB_HOSTED = /^(ubuntu|windows|macos)-/;
const WRITE_SCOPES_OF_DEPLOY = new Set(['pages', 'id-token']);
const PULL_REQUEST_TRIGGERS = ['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment', 'issue_comment'];
const PRIVILEGED_TRIGGERS = ['pull_request_target', 'workflow_run'];
/** Expressions that name a pull request's own code. */
const PR_CODE = /github\.event\.pull_request|github\.head_ref|github\.event\.workflow_run|refs\/pull\/|gh pr checkout|pull\/[^/\s]+\/(head|merge)/;

function labelsOf(job: Job): string[] {
  const runsOn = job['runs-on'];
  if (typeof runsOn === 'string') return [runsOn];
  if (Array.isArray(runsOn)) return runsOn.map(String);
  if (runsOn && typeof runsOn === 'object') {
    const labels = (runsOn as { labels?: unknown }).labels;
    return Array.isArray(labels) ? labels.map(String) : typeof labels === 'string' ? [labels] : ['(runner group)'];
  }
  return [];
}

/** Self-hosted unless every label names a GitHub-hosted image (an expression counts as self-hosted). */
export function isSelfHosted(job: Job): boolean {
  const labels = labelsOf(job);
  return labels.length > 0 && !labels.every((label) => GITHUB_HOSTED.test(label));
}

function steps(job: Job): [string, Step][] {
  return (job.steps ?? []).map((step, i) => [step.name ?? step.id ?? step.uses ?? `step ${i + 1}`, step]);
}

function isCheckout(step: Step): boolean {
  return typeof step.uses === 'string' && step.uses.startsWith('actions/checkout@');
}

/** What a job's token may do: its own block, else the workflow's, else the repository default. */
function effectivePermissions(workflow: Workflow, job: Job): Permissions | 'default' {
  if (job.permissions !== undefined) return job.permissions;
  if (workflow.hasPermissions) return workflow.permissions ?? {};
  return 'default';
}

function writeScopes(permissions: Permissions | 'default'): string[] {
  if (permissions === 'default') return ['(the repository default, which may be write-all)'];
  if (typeof permissions === 'string') return permissions === 'read-all' ? [] : [permissions];
  return Object.entries(permissions ?? {})
    .filter(([, level]) => level === 'write')
    .map(([scope]) => scope);
}

export const rules: Rule[] = [
  {
    id: 'pinned-actions',
    description: 'every `uses:` is pinned to a full 40-hex commit SHA, with the version in a trailing comment',
    check(workflow) {
      const findings: string[] = [];
      workflow.text.split('\n').forEach((line, i) => {
        const match = /^\s*(?:-\s+)?uses:\s*(['"]?)([^'"\s#]+)\1\s*(#.*)?$/.exec(line);
        if (!match) return;
        const [, , target, comment] = match;
        if (target!.startsWith('./')) return; // an action or workflow of this repository
        const where = `${workflow.file}:${i + 1}`;
        if (target!.startsWith('docker://')) {
          if (!/@sha256:[0-9a-f]{64}$/.test(target!)) findings.push(`${where}: ${target} is not pinned to an image digest`);
        } else if (!/@[0-9a-f]{40}$/.test(target!)) {
          findings.push(`${where}: ${target} is not pinned to a full commit SHA`);
        } else if (!comment || !/#\s*v\d+(\.\d+)*/.test(comment)) {
          findings.push(`${where}: ${target} has no "# vX.Y.Z" comment naming the pinned version`);
        }
      });
      return findings;
    },
  },
  {
    id: 'permissions',
    description: 'the workflow grants nothing at the top (`permissions: {}`) and every job states its own permissions',
    check(workflow) {
      const findings: string[] = [];
      if (!workflow.hasPermissions) findings.push(`${workflow.file}: no top-level permissions (jobs get the repository default token)`);
      else if (typeof workflow.permissions === 'string' || Object.keys(workflow.permissions ?? {}).length > 0) {
        findings.push(`${workflow.file}: top-level permissions ${JSON.stringify(workflow.permissions)} apply to every job; use permissions: {} and grant per job`);
      }
      for (const [id, job] of workflow.jobs) {
        if (job.permissions === undefined) findings.push(`${workflow.file} ${id}: no permissions block`);
      }
      return findings;
    },
  },
  {
    id: 'write-scopes',
    description: 'only the merge job may write contents (on a GitHub-hosted runner), only a Pages deploy job gets pages/id-token, nothing else writes',
    check(workflow) {
      const findings: string[] = [];
      const prTriggered = workflow.on.some((trigger) => PULL_REQUEST_TRIGGERS.includes(trigger));
      for (const [id, job] of workflow.jobs) {
        const deployOnly = (job.steps ?? []).length > 0 && (job.steps ?? []).every((step) => step.uses?.startsWith('actions/deploy-pages@'));
        for (const scope of writeScopes(effectivePermissions(workflow, job))) {
          const allowed =
            (scope === 'contents' && id === 'merge' && !isSelfHosted(job) && !prTriggered) ||
            (WRITE_SCOPES_OF_DEPLOY.has(scope) && deployOnly && !prTriggered);
          if (!allowed) findings.push(`${workflow.file} ${id}: may write ${scope}`);
        }
      }
      return findings;
    },
  },
  {
    id: 'expressions-in-run',
    description: 'no `${{ }}` expression inside a `run:` script (inputs, matrix values, step and job outputs, event fields reach scripts through `env:`)',
    check(workflow) {
      const findings: string[] = [];
      for (const [id, job] of workflow.jobs) {
        for (const [name, step] of steps(job)) {
          for (const expression of step.run?.match(/\$\{\{[^}]*\}\}/g) ?? []) {
            findings.push(`${workflow.file} ${id}/${name}: ${expression} is pasted into the script; pass it through env:`);
          }
        }
      }
      return findings;
    },
  },
  {
    id: 'persist-credentials',
    description: 'every actions/checkout sets `persist-credentials: false`, so no token is left on disk for later steps or a persistent runner',
    check(workflow) {
      const findings: string[] = [];
      for (const [id, job] of workflow.jobs) {
        for (const [name, step] of steps(job)) {
          const persist = step.with?.['persist-credentials'];
          if (isCheckout(step) && persist !== false && persist !== 'false') {
            findings.push(`${workflow.file} ${id}/${name}: checkout leaves the token in the git config (set persist-credentials: false)`);
          }
        }
      }
      return findings;
    },
  },
  {
    id: 'pr-code-in-privileged-trigger',
    description: 'no pull_request_target or workflow_run workflow checks out or runs pull-request code',
    check(workflow) {
      if (!workflow.on.some((trigger) => PRIVILEGED_TRIGGERS.includes(trigger))) return [];
      const findings: string[] = [];
      for (const [id, job] of workflow.jobs) {
        for (const [name, step] of steps(job)) {
          const chosen = isCheckout(step) ? `${String(step.with?.ref ?? '')} ${String(step.with?.repository ?? '')}` : (step.run ?? '');
          if (PR_CODE.test(chosen)) findings.push(`${workflow.file} ${id}/${name}: runs pull-request code under ${workflow.on.filter((t) => PRIVILEGED_TRIGGERS.includes(t)).join(', ')}`);
        }
      }
      return findings;
    },
  },
  {
    id: 'self-hosted-on-pull-request',
    description: 'no job of a workflow that pull requests trigger runs on a self-hosted runner',
    check(workflow) {
      const triggers = workflow.on.filter((trigger) => PULL_REQUEST_TRIGGERS.includes(trigger));
      if (triggers.length === 0) return [];
      return workflow.jobs
        .filter(([, job]) => isSelfHosted(job))
        .map(([id, job]) => `${workflow.file} ${id}: runs on [${labelsOf(job).join(', ')}] and is triggered by ${triggers.join(', ')}`);
    },
  },
  {
    id: 'untrusted-checkout',
    description: 'a job that checks out a commit named by an input runs in an approval environment, on an ephemeral runner or in a container, with a read-only token and no secrets',
    check(workflow) {
      const findings: string[] = [];
      for (const [id, job] of workflow.jobs) {
        const untrusted = (job.steps ?? []).some((step) => isCheckout(step) && /inputs\.|github\.event\.inputs/.test(String(step.with?.ref ?? '')));
        if (!untrusted) continue;
        const where = `${workflow.file} ${id}`;
        if (!job.environment) findings.push(`${where}: runs a chosen commit without an approval environment`);
        if (isSelfHosted(job) && !labelsOf(job).includes('ephemeral') && !job.container) {
          findings.push(`${where}: runs a chosen commit on a persistent self-hosted runner (use the ephemeral label or a container)`);
        }
        const permissions = effectivePermissions(workflow, job);
        if (typeof permissions !== 'object' || JSON.stringify(permissions) !== JSON.stringify({ contents: 'read' })) {
          findings.push(`${where}: runs a chosen commit with permissions ${JSON.stringify(permissions)} (grant contents: read only)`);
        }
        if (/\$\{\{\s*secrets\./.test(JSON.stringify(job))) findings.push(`${where}: runs a chosen commit with secrets`);
      }
      return findings;
    },
  },
];

/** Every finding of every rule. */
export function lintWorkflow(workflow: Workflow): string[] {
  return rules.flatMap((rule) => rule.check(workflow).map((finding) => `[${rule.id}] ${finding}`));
}

/** The shell of every `run:` step, with each `${{ }}` replaced by a variable shellcheck can read. */
export function runScripts(workflow: Workflow): { where: string; script: string }[] {
  const out: { where: string; script: string }[] = [];
  for (const [id, job] of workflow.jobs) {
    for (const [name, step] of steps(job)) {
      if (typeof step.run !== 'string') continue;
      out.push({ where: `${workflow.file} ${id}/${name}`, script: step.run.replace(/\$\{\{[^}]*\}\}/g, '${GITHUB_EXPRESSION}') });
    }
  }
  return out;
}
