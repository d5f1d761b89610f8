// Training throughput, one JSON line on stdout (compare with /work/shared/peers/torch_gpt.py).
//   tsx packages/core/scripts/throughput.ts --d 256 --L 4 --H 4 --T 128 --B 16 --V 512 --mode lora --r 8 --targets q,v
// Bad options exit 1 with a message before any work.
import { parseArgs } from 'node:util';
import { measureThroughput, THROUGHPUT_DEFAULTS, type ThroughputBackend } from '../src/throughput.ts';

const USAGE =
  'usage: throughput [--d 256] [--L 4] [--H 4] [--T 128] [--B 16] [--V 512] [--mode full|lora] [--r 8]\n' +
  '                  [--targets q,v] [--threads 1] [--backend auto|tensorflow|wasm-blas|wasm|cpu] [--minSeconds 8] [--json]';

function int(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new Error(`--${name}=${raw} is not a number`);
  return v;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      d: { type: 'string' }, L: { type: 'string' }, H: { type: 'string' }, T: { type: 'string' }, B: { type: 'string' },
      V: { type: 'string' }, mode: { type: 'string' }, r: { type: 'string' }, targets: { type: 'string' },
      threads: { type: 'string' }, backend: { type: 'string' }, minSeconds: { type: 'string' }, json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const D = THROUGHPUT_DEFAULTS;
  const result = await measureThroughput({
    d: int('d', values.d, D.d), L: int('L', values.L, D.L), H: int('H', values.H, D.H), T: int('T', values.T, D.T),
    B: int('B', values.B, D.B), V: int('V', values.V, D.V), r: int('r', values.r, D.r),
    threads: int('threads', values.threads, D.threads), minSeconds: int('minSeconds', values.minSeconds, D.minSeconds),
    mode: (values.mode ?? D.mode) as 'full' | 'lora',
    targets: values.targets ? values.targets.split(',').map((s) => s.trim()) : D.targets,
    backend: (values.backend ?? D.backend) as ThroughputBackend,
  });
  // One JSON line either way; --json is accepted for symmetry with the peer's output.
  console.log(JSON.stringify(result));
}

main().catch((e: Error) => {
  console.error(`throughput: ${e.message}`);
  if (/Unknown option|unexpected argument/i.test(e.message)) console.error(USAGE);
  process.exit(1);
});
