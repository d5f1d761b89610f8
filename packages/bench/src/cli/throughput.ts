// `pnpm bench throughput`: training tokens/s of a GPT-2-style model (core's measureThroughput),
// printed as one JSON line (with --json) or a sentence.
import { measureThroughput, THROUGHPUT_BACKENDS, type ThroughputBackend } from '@peft-bench/core/throughput';
import { InputError } from '../run/resolve.ts';
import { reportError } from './errors.ts';
import { parseIdList, parsePositiveInt } from './values.ts';

export interface ThroughputFlags {
  d: string;
  L: string;
  H: string;
  T: string;
  B: string;
  V: string;
  mode: 'full' | 'lora';
  r: string;
  targets: string;
  steps?: string;
  warmup?: string;
  threads?: string;
  backend?: string;
  minSeconds?: string;
  json?: boolean;
}

export async function throughputCommand(flags: ThroughputFlags): Promise<number> {
  try {
    const backend = flags.backend ?? 'auto';
    if (!(THROUGHPUT_BACKENDS as readonly string[]).includes(backend)) {
      throw new InputError(`Unknown backend "${backend}". Valid backends: ${THROUGHPUT_BACKENDS.join(', ')}.`);
    }
    const options = {
      d: parsePositiveInt('--d', flags.d),
      L: parsePositiveInt('--L', flags.L),
      H: parsePositiveInt('--H', flags.H),
      T: parsePositiveInt('--T', flags.T),
      B: parsePositiveInt('--B', flags.B),
      V: parsePositiveInt('--V', flags.V),
      mode: flags.mode,
      r: parsePositiveInt('--r', flags.r),
      targets: parseIdList('--targets', flags.targets),
      threads: flags.threads !== undefined ? parsePositiveInt('--threads', flags.threads) : Number(process.env.PEFT_BENCH_THREADS ?? 1),
      backend: backend as ThroughputBackend,
      ...(flags.minSeconds !== undefined ? { minSeconds: Number(flags.minSeconds) } : {}),
    };
    let result;
    try {
      result = await measureThroughput(options);
    } catch (error) {
      // measureThroughput validates its options first; those messages are about the input.
      if (/is invalid|is unknown|not divisible/.test((error as Error).message)) throw new InputError((error as Error).message);
      throw error;
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(
        `${Math.round(result.tokens_per_s)} tokens/s (${result.cfg.mode}, d=${result.cfg.d} L=${result.cfg.L} T=${result.cfg.T} B=${result.cfg.B} V=${result.cfg.V}) on ${result.backend} with ${result.threads} thread(s), ${result.steps} timed steps\n`,
      );
    }
    return 0;
  } catch (error) {
    return reportError(error);
  }
}
