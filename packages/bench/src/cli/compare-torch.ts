// `pnpm bench compare-torch`: training speed against the PyTorch CPU peer (/work/shared/peers/torch_gpt.py),
// under a written protocol: the machine must be quiet (1-minute load average below 0.3) before starting; the
// two sides alternate, run by run, each in a fresh process with the same BLAS thread count; at least three
// rounds; medians reported; the load average is recorded before every run; wall clock throughout.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../run/code-version.ts';
import { InputError } from '../run/resolve.ts';
import { reportError } from './errors.ts';
import { parsePositiveInt } from './values.ts';

export const QUIET_LOAD = 0.3;

export interface CompareFlags {
  rounds?: string;
  threads?: string;
  peer?: string;
  python?: string;
  minSeconds?: string;
  allowLoad?: boolean;
  json?: boolean;
}

interface Setting {
  name: string;
  peer: string[];
  ours: string[];
}

/** The peer's reference shape and the default model's shape, each in full fine-tuning and LoRA r=8 on q,v. */
export const SETTINGS: Setting[] = [
  { name: 'd=256 L4 T128 B16 V512, full', peer: [], ours: ['--method', 'full'] },
  { name: 'd=256 L4 T128 B16 V512, LoRA r=8 q,v', peer: ['--lora', '8', '--targets', 'q,v'], ours: ['--method', 'lora', '--rank', '8', '--set', 'target_modules=q,v', '--set', 'lora_alpha=16'] },
  { name: 'default model (d=128 L4 T128 B16 V1024), full', peer: ['--d', '128', '--V', '1024'], ours: ['--method', 'full', '--model', 'default'] },
  { name: 'default model, LoRA r=8 q,v', peer: ['--d', '128', '--V', '1024', '--lora', '8', '--targets', 'q,v'], ours: ['--method', 'lora', '--rank', '8', '--set', 'target_modules=q,v', '--set', 'lora_alpha=16', '--model', 'default'] },
];

interface Measurement {
  tokens_per_s: number;
  load_before: number;
  wall_s: number;
  gflops?: number;
  sgemm_gflops?: number | null;
  peak_rss_bytes?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function runJson(command: string, args: string[], env: NodeJS.ProcessEnv): { json: Record<string, unknown>; wall: number } {
  const start = performance.now();
  const r = spawnSync(command, args, { cwd: REPO_ROOT, env, encoding: 'utf8', maxBuffer: 16 << 20 });
  const wall = (performance.now() - start) / 1000;
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) throw new Error(`${path.basename(command)} ${args.slice(0, 3).join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`);
  return { json: JSON.parse(line) as Record<string, unknown>, wall };
}

export async function compareTorchCommand(flags: CompareFlags): Promise<number> {
  try {
    const rounds = flags.rounds !== undefined ? parsePositiveInt('--rounds', flags.rounds) : 3;
    if (rounds < 3) throw new InputError(`--rounds ${rounds}: the protocol needs at least 3 rounds for a median.`);
    const threads = flags.threads !== undefined ? parsePositiveInt('--threads', flags.threads) : 1;
    const peer = path.resolve(flags.peer ?? path.join(REPO_ROOT, '../shared/peers/torch_gpt.py'));
    const python = flags.python ?? '/usr/bin/python3';
    const minSeconds = flags.minSeconds ?? '8';
    if (!fs.existsSync(peer)) throw new InputError(`The PyTorch peer is not at ${peer}: pass --peer <path to torch_gpt.py>.`);
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) throw new InputError(`${python} cannot import torch: install Debian's PyTorch with \`apt-get install -y python3-torch\` (or pass --python).`);
    const load = os.loadavg()[0]!;
    if (load >= QUIET_LOAD && !flags.allowLoad) {
      throw new InputError(`The machine is not quiet: 1-minute load average ${load.toFixed(2)} (the protocol needs < ${QUIET_LOAD}). Stop other jobs and wait, or pass --allow-load to measure anyway (the table then says so).`);
    }
    const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), PEFT_BENCH_THREADS: String(threads) };
    const tsx = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
    const cli = path.join(REPO_ROOT, 'packages/bench/src/cli.ts');
    const results = SETTINGS.map((s) => ({ setting: s.name, torch: [] as Measurement[], ours: [] as Measurement[] }));
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      for (const [i, s] of SETTINGS.entries()) {
        // Alternate which side goes first, so a drift in machine state does not favour one side.
        const order = round % 2 === 0 ? (['torch', 'ours'] as const) : (['ours', 'torch'] as const);
        for (const side of order) {
          const loadBefore = os.loadavg()[0]!;
          if (side === 'torch') {
            const { json, wall } = runJson(python, [peer, '--threads', String(threads), '--minsec', minSeconds, ...s.peer], env);
            results[i]!.torch.push({ tokens_per_s: json.tokens_per_s as number, load_before: loadBefore, wall_s: wall });
          } else {
            const { json, wall } = runJson(tsx, [cli, 'throughput', '--json', '--threads', String(threads), '--min-seconds', minSeconds, ...s.ours], env);
            results[i]!.ours.push({
              tokens_per_s: json.tokens_per_s as number, load_before: loadBefore, wall_s: wall,
              gflops: json.gflops as number, sgemm_gflops: json.sgemm_gflops as number | null, peak_rss_bytes: json.peak_rss_bytes as number,
            });
          }
          process.stderr.write(`round ${round + 1}/${rounds} ${s.name} ${side}: ${results[i]![side].at(-1)!.tokens_per_s} tokens/s (load ${loadBefore.toFixed(2)})\n`);
        }
      }
    }
    const rows = results.map((r) => {
      const t = median(r.torch.map((m) => m.tokens_per_s));
      const o = median(r.ours.map((m) => m.tokens_per_s));
      const g = median(r.ours.map((m) => m.gflops ?? 0));
      const peak = median(r.ours.map((m) => m.sgemm_gflops ?? 0));
      return {
        setting: r.setting, torch_median: t, ours_median: o, ratio: o / t, gflops: g, sgemm_gflops: peak,
        share_of_peak: peak > 0 ? g / peak : null, peak_rss_mib: Math.round(Math.max(...r.ours.map((m) => m.peak_rss_bytes ?? 0)) / 2 ** 20),
        torch: r.torch, ours: r.ours,
      };
    });
    const summary = {
      protocol: `quiet start (load < ${QUIET_LOAD}${flags.allowLoad ? ', overridden with --allow-load' : ''}), sides alternated, ${rounds} rounds, medians, wall clock, OPENBLAS_NUM_THREADS=${threads}`,
      load_at_start: Number(load.toFixed(2)),
      wall_minutes: Number(((performance.now() - started) / 60_000).toFixed(1)),
      cpu: os.cpus()[0]?.model ?? 'unknown',
      rows,
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const loads = (ms: Measurement[]) => ms.map((m) => m.load_before.toFixed(2)).join('/');
    const lines = [
      `Protocol: ${summary.protocol}. Load at start ${summary.load_at_start}; ${summary.wall_minutes} minutes; ${summary.cpu}.`,
      '',
      '| setting | PyTorch tokens/s (median; runs) | PEFT Bench tokens/s (median; runs) | ratio | GFLOP/s, % of sgemm peak | peak RSS | load before each run (torch; ours) |',
      '|---|---:|---:|---:|---:|---:|---|',
      ...rows.map((r) => `| ${r.setting} | ${fmt(r.torch_median)} (${r.torch.map((m) => fmt(m.tokens_per_s)).join(' / ')}) | ${fmt(r.ours_median)} (${r.ours.map((m) => fmt(m.tokens_per_s)).join(' / ')}) | ${r.ratio.toFixed(2)}x | ${r.gflops.toFixed(1)}, ${r.share_of_peak === null ? '—' : `${(100 * r.share_of_peak).toFixed(0)}% of ${r.sgemm_gflops.toFixed(1)}`} | ${r.peak_rss_mib} MiB | ${loads(r.torch)}; ${loads(r.ours)} |`),
      '',
    ];
    process.stdout.write(lines.join('\n'));
    return 0;
  } catch (error) {
    return reportError(error);
  }
}
