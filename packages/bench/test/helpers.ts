// Running the real CLI in a child process, for tests of exit codes, output and resumption.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli.ts');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], env: Record<string, string> = {}, cwd?: string): { child: ChildProcess; done: Promise<CliResult>; lines: AsyncGenerator<Record<string, unknown>> } {
  // From another working directory `tsx` is not resolvable by name: give node its loader's path.
  const loader = cwd === undefined ? 'tsx' : pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', loader, CLI, ...args], {
    env: { ...process.env, PEFT_BENCH_THREADS: '1', OPENBLAS_NUM_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
  });
  let stdout = '';
  let stderr = '';
  const waiting: ((line: string | null) => void)[] = [];
  const buffered: string[] = [];
  let ended = false;
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else buffered.push(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      ended = true;
      for (const waiter of waiting.splice(0)) waiter(null);
      resolve({ code, signal, stdout, stderr });
    });
  });
  async function* lines(): AsyncGenerator<Record<string, unknown>> {
    for (;;) {
      const line = buffered.length > 0 ? buffered.shift()! : ended ? null : await new Promise<string | null>((resolve) => waiting.push(resolve));
      if (line === null) return;
      if (line.startsWith('{')) yield JSON.parse(line) as Record<string, unknown>;
    }
  }
  return { child, done, lines: lines() };
}

export async function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return startCli(args, env, cwd).done;
}
