// How the CLI ends on an error: bad input is one paragraph and exit code 2; anything else is a
// bug or an environment problem, shown with its stack and exit code 1.
import * as os from 'node:os';
import { InputError } from '../run/resolve.ts';

export function reportError(error: unknown): number {
  if (error instanceof InputError) {
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  return 1;
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism());
}
