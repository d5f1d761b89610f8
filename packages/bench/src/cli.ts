// The bench command line: `pnpm bench --method lora --rank 64`, grids, throughput, aggregation.
// Every input is checked before anything trains; bad input is one paragraph on stderr, exit 2,
// and no record written.
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { reportError } from './cli/errors.ts';

const EXAMPLES = `
Examples:
  pnpm bench --method lora --rank 64                 every synthetic task, seed 0, default model
  pnpm bench --method lora --rank 8 --task sql,math --seeds 3
  pnpm bench --method dora --rank 16 --set lora_alpha=32 --set target_modules=q,k,v,o
  pnpm bench --method houlsby --rank 16 --lr 5e-3 --steps 300
  pnpm bench --method full --model tiny-random --steps 20 --out /tmp/results
  pnpm bench --list --json                           tasks, methods (with hyperparameters), models
  pnpm bench --grid leaderboard --dry-run            run count, finished runs, wall-time estimate
  pnpm bench --grid leaderboard --workers 2          run (or resume) the leaderboard grid
  pnpm bench throughput --method lora --rank 8 --model default --threads 1 --json
  pnpm bench grid-speed --mode fused                 runs/hour on a fixed 40-run sample of a grid (leaderboard-fixed300 by default)
  pnpm bench aggregate --results results --out aggregate
  pnpm bench report --results results
  pnpm bench verify                                  verify every record in results/ (exit 1 if any fails)`;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('pnpm bench')
    .description('PEFT Bench: fine-tune with a PEFT method on the benchmark tasks and write scored run records.')
    .enablePositionalOptions()
    .option('--method <id>', 'method to run (see --list)')
    .option('--rank <n>', 'the value of the method\'s rank-like hyperparameter (r, n, bottleneck)')
    .option('--task <ids>', 'comma-separated task ids (default: every synthetic task)')
    .option('--seeds <n|list>', 'a count (3 = seeds 0,1,2) or a list (0,4,7)', '1')
    .option('--lr <x>', 'learning rate (default: the model\'s times the method\'s lrScale, see --list)')
    .option('--steps <n>', 'training steps')
    .option('--batch <n>', 'batch size (sequences per optimizer step)')
    .option('--micro-batch <n>', 'micro-batch size (gradient accumulation); must divide --batch')
    .option('--model <id|dir>', 'model id (see --list; `default` is the default model, base) or a checkpoint directory', 'default')
    .option('--protocol <id>', 'training protocol: converge (early stopping on validation loss, best checkpoint kept) or fixed-300 (the fixed-step protocol of the earlier records)', 'converge')
    .option('--data-dir <dir>', 'directory with the real-tier datasets (default: PEFT_BENCH_DATA_DIR)')
    .option('--set <key=value>', 'a method hyperparameter (repeatable)', collect, [])
    .option('--knob <key=value>', 'a task knob for every selected task (repeatable), e.g. --knob test=50', collect, [])
    .option('--out <dir>', 'results directory', 'results')
    .option('--backend <name>', 'compute backend (default: the fastest available)')
    .option('--threads <n>', 'BLAS threads per process (default: all cores for one run, 1 per grid worker)')
    .option('--json', 'machine-readable output: one JSON line per run, then a summary line')
    .option('--list', 'list tasks, methods and models (with --json: everything, machine-readable)')
    .option('--force', 'run again even when a valid record for the same run id exists')
    .option('--smoke', 'a seconds-long run of one task to check a method end to end')
    .option('--keep-adapters <dir>', 'save each trained adapter to <dir>/<run_id>/ (for slice scoring)')
    .option('--grid <name|file>', 'run a grid (packages/bench/grids/<name>.yaml or a YAML file)')
    .option('--workers <n>', 'grid worker processes (default: one per core)')
    .option('--time-limit <duration>', 'with --grid: start no run estimated (from measured runs) to end after this long, e.g. 2h30m; the rest are left for the next invocation instead of being cut off')
    .option('--declared-lr', "with --grid: also run the runs at a method's default learning rate that wait for it to be chosen (the grid's lr_search), at the declared rate")
    .option('--fused', 'with --grid: train compatible runs (one method, task and seed; LoRA family and IA3) together in one worker, sharing the frozen base model (records say so in provenance.execution)')
    .option('--dry-run', 'print what would run (run ids, finished or not; with --grid the run count and a wall-time estimate), run nothing')
    .option('--max-excluded <share>', 'largest share of a split the length policy may exclude before a run refuses to start', '0.2')
    .option('--per-run-seconds <s>', 'with --dry-run: seconds per run to assume when no runs were measured yet')
    .option('--finished-in <dir>', 'with --grid: also skip runs finished in <dir> (repeatable), e.g. write new records elsewhere while results/ holds the finished ones', collect, [])
    .option('--experiments <names>', "with --grid: only these experiment blocks (comma-separated), e.g. one question's runs: --grid leaderboard --experiments targets-qv,targets-all-linear")
    .option('--shard <i/n>', 'with --grid: run only shard i of n')
    .option('--plan', 'with --grid and --shards: print the CI matrix of shards that have unfinished runs')
    .option('--shards <n>', 'with --plan: number of shards')
    .addHelpText('after', EXAMPLES)
    .action(async (options) => {
      const { mainCommand } = await import('./cli/main.ts');
      process.exitCode = await mainCommand(options);
    });

  program
    .command('throughput')
    .description('measure training tokens/s through the real path: a registered method on a named model or an explicit shape (one JSON line with --json)')
    .option('--method <id>', 'method to attach (any registered method)', 'full')
    .option('--rank <n>', "the method's rank-like field (r, n, bottleneck)")
    .option('--set <key=value>', 'method hyperparameter (repeatable), e.g. --set target_modules=q,v', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--model <id|dir>', 'a registered model or checkpoint directory (default: an untrained GPT-2 of the shape below)')
    .option('--d <n>', 'hidden width (explicit shape; default 256, the PyTorch peer)')
    .option('--L <n>', 'layers (default 4)')
    .option('--H <n>', 'heads (default 4)')
    .option('--T <n>', 'tokens per row (default 128; at most the model context)')
    .option('--B <n>', 'rows per step (default 16)')
    .option('--V <n>', 'vocabulary size (explicit shape; default 512)')
    .option('--min-seconds <s>', 'measure for at least this long (after 2 warm-up steps)')
    .option('--no-sgemm', 'skip the sgemm peak probe')
    .option('--threads <n>', 'BLAS threads')
    .option('--backend <name>', 'compute backend')
    .option('--json', 'one JSON line')
    .action(async (options) => {
      const { throughputCommand } = await import('./cli/throughput.ts');
      process.exitCode = await throughputCommand(options);
    });

  program
    .command('grid-speed')
    .description('trained runs per hour on a fixed, seeded 40-run sample of a grid (cells of method x task x seed), into a scratch dir: wall time, per-run train/eval/setup seconds, peak RSS, load average')
    .option('--grid <name|file>', 'grid to sample (the measured figures in the README are of leaderboard-fixed300)', 'leaderboard-fixed300')
    .option('--mode <baseline|single|fused>', 'baseline: each run alone, nothing kept between runs; single: workers keep task splits between runs; fused: compatible runs of a cell train together', 'single')
    .option('--workers <n>', 'worker processes, one BLAS thread each (default: one per core)')
    .option('--runs <n>', 'sample size (default 40)')
    .option('--seed <n>', 'sample seed (default 20261202)')
    .option('--only <methods>', "only the sample's runs of these methods (comma-separated), e.g. the fusable ones")
    .option('--out <dir>', 'scratch directory for the records (default: a new temp dir)')
    .option('--dry-run', 'list the sample, run nothing')
    .option('--json', 'one JSON object')
    .action(async (options) => {
      const { gridSpeedCommand } = await import('./cli/grid-speed.ts');
      process.exitCode = await gridSpeedCommand(options);
    });

  program
    .command('compare-torch')
    .description('training speed against the PyTorch CPU peer under the written protocol (quiet machine, alternated sides, medians of 3+ rounds)')
    .option('--rounds <n>', 'rounds (at least 3)', '3')
    .option('--threads <n>', 'BLAS threads on both sides', '1')
    .option('--peer <file>', 'the peer script (default ../shared/peers/torch_gpt.py)')
    .option('--python <path>', 'the Python that has torch', '/usr/bin/python3')
    .option('--min-seconds <s>', 'timed seconds per run on each side', '8')
    .option('--allow-load', 'measure even when the load average is at or above 0.3 (the table says so)')
    .option('--json', 'one JSON object instead of the Markdown table')
    .action(async (options) => {
      const { compareTorchCommand } = await import('./cli/compare-torch.ts');
      process.exitCode = await compareTorchCommand(options);
    });

  program
    .command('estimate-check')
    .description("how the grid's wall-time estimate compared with what the runs started since a time took, each estimated from the records made before it")
    .requiredOption('--since <time>', 'check the runs started at or after this time (UTC unless it says otherwise), e.g. 2026-12-03T00:00')
    .option('--until <time>', 'and before this time')
    .option('--results <dir>', 'results directory', 'results')
    .option('--protocol <id>', 'only runs of this protocol (converge, fixed-300)')
    .option('--model <id>', 'only runs on this base model')
    .option('--runs', 'one line per run')
    .option('--json', 'one JSON object')
    .action(async (options) => {
      const { estimateCheckCommand } = await import('./cli/estimate-check.ts');
      process.exitCode = await estimateCheckCommand(options);
    });

  program
    .command('check-equivalence')
    .description('re-run a sample of finished grid runs under the current code and, if every result is identical, record the old code version as equivalent (so finished records stay finished)')
    .option('--from <version>', 'the code version of the records to compare with (default: the most common in --results)')
    .option('--since <git-ref>', "each method's old code version from that commit's sources (code versions are per method), instead of --from")
    .option('--grid <name|file>', 'grid whose runs are sampled (the committed records are leaderboard-fixed300 runs)', 'leaderboard-fixed300')
    .option('--results <dir>', 'results directory', 'results')
    .option('--per-method <n>', 'runs re-run per method', '1')
    .option('--methods <ids>', 'only these methods (comma-separated)')
    .option('--workers <n>', 'worker processes')
    .option('--write', 'record the equivalence in packages/bench/code-equivalence.json when every sampled run is identical')
    .action(async (options) => {
      const { checkEquivalenceCommand } = await import('./cli/equivalence.ts');
      process.exitCode = await checkEquivalenceCommand(options);
    });

  program
    .command('aggregate')
    .description('aggregate the run records into JSON and CSV tables for the site')
    .option('--results <dir>', 'results directory', 'results')
    .option('--out <dir>', 'output directory for aggregated.json and the CSV tables', 'aggregate')
    .option('--protocol <id>', 'aggregate the records of this protocol (default: converge on the default base when it has records, else the protocol and model with the most; never pooled)')
    .option('--model <id>', 'aggregate the records of this base model')
    .option('--json', 'print the summary as JSON')
    .action(async (options) => {
      const { aggregateCommand } = await import('./cli/aggregate.ts');
      process.exitCode = await aggregateCommand(options);
    });

  program
    .command('report')
    .description('print what the results say: Markdown tables for each of the report\'s questions (rank, complement, growing, LayerNorm, stability, learning rates and the studies)')
    .option('--results <dir>', 'results directory', 'results')
    .option('--out <file>', 'write the report to <file> instead of printing it')
    .option('--protocol <id>', 'report the records of this protocol (default: converge on the default base when it has records, else the protocol and model with the most; never pooled)')
    .option('--model <id>', 'report the records of this base model')
    .option('--json', 'print the leaderboard as JSON: per task and method the mean, ci95, n_configs and selected_on')
    .action(async (options) => {
      const { reportCommand } = await import('./cli/report.ts');
      process.exitCode = await reportCommand(options);
    });

  program
    .command('choose-lr')
    .description("choose each method's default learning rate on valid from a learning-rate search grid (factors ranked per task by the valid primary metric, best mean rank wins); --write records it for new runs")
    .option('--grid <name|file>', 'the search grid', 'leaderboard-lr')
    .option('--results <dir>', 'results directory', 'results')
    .option('--write', 'record the choices of methods whose search runs all finished in packages/bench/chosen-lr.json and methods.json')
    .option('--json', 'one JSON object instead of the tables')
    .action(async (options) => {
      const { chooseLrCommand } = await import('./cli/choose-lr.ts');
      process.exitCode = await chooseLrCommand(options);
    });

  program
    .command('export-methods')
    .description('write packages/results/src/methods.json from the method definitions (what aggregation and the site know about each method)')
    .action(async () => {
      const { exportMethodsCommand } = await import('./cli/export-methods.ts');
      process.exitCode = await exportMethodsCommand();
    });

  program
    .command('import')
    .description('validate run records from a directory and add them to the results directory')
    .argument('<dir>', 'directory with run records (e.g. downloaded CI artifacts)')
    .option('--out <dir>', 'results directory', 'results')
    .action(async (dir, options) => {
      const { importCommand } = await import('./cli/import.ts');
      process.exitCode = await importCommand(dir, options);
    });

  program
    .command('verify')
    .description('verify run records (run id = hash of the spec, file name = run id, values in range, safe ids and links); exit 1 if any fails')
    .argument('[paths...]', 'record files or directories of them (default: results)')
    .option('--changed-since <ref>', 'verify only the records added or changed since this git ref (e.g. origin/main)')
    .option('--json', 'one JSON line per failing file, then a summary line')
    .action(async (paths: string[], options) => {
      const { verifyCommand } = await import('./cli/verify.ts');
      process.exitCode = await verifyCommand(paths, options);
    });

  program
    .command('slice')
    .description('score singular components i..j of a trained low-rank update, or its part outside a smaller run\'s subspaces (post hoc)')
    .requiredOption('--run <run_id>', 'the trained run (its adapter kept with --keep-adapters or by a grid)')
    .option('--from <i>', 'first singular component (1-based)')
    .option('--to <j>', 'last singular component (inclusive)')
    .option('--complement-of <run_id>', 'instead of i..j: the part outside this (smaller-rank) run\'s subspaces')
    .option('--results <dir>', 'results directory holding the run\'s record', 'results')
    .option('--adapters <dir>', 'where the adapters were kept (default: .adapters beside --results)')
    .option('--out <dir>', 'where to write the record', 'results')
    .option('--backend <name>', 'compute backend')
    .option('--threads <n>', 'BLAS threads')
    .option('--data-dir <dir>', 'data directory for real-tier tasks')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  pnpm bench slice --run 3f2a... --from 9 --to 64\n  pnpm bench slice --run 3f2a... --complement-of 91bc...')
    .action(async (options) => {
      const { sliceCommand } = await import('./cli/slice.ts');
      process.exitCode = await sliceCommand(options);
    });
  program
    .command('eval-adapter')
    .description('score a saved adapter (HF PEFT layout: adapter_config.json + adapter_model.safetensors, e.g. from the site\'s Playground) on a task\'s test split, beside the frozen base')
    .requiredOption('--adapter <dir>', 'the adapter folder')
    .option('--method <id>', 'the method that made it (see --list)')
    .option('--rank <n>', "the method's rank-like field it was made with (r, n, ...)")
    .option('--set <key=value>', 'another hyperparameter it was made with (repeatable)', collect, [])
    .option('--task <id>', 'the task to score on')
    .option('--knob <key=value>', 'a task knob (repeatable), e.g. --knob test=50 for the first 50 test examples', collect, [])
    .option('--model <id|dir>', 'the base model (default: the bench\'s default model)')
    .option('--seed <n>', 'seed of the method\'s initialisation and of the task\'s training examples (default 0)')
    .option('--backend <name>', 'compute backend')
    .option('--threads <n>', 'BLAS threads (default 1)')
    .option('--data-dir <dir>', 'data directory for real-tier tasks')
    .option('--json', 'one JSON line')
    .addHelpText('after', '\nExample:\n  pnpm bench eval-adapter --adapter ~/Downloads/lora-nli --method lora --rank 4 --task nli --knob test=50')
    .action(async (options) => {
      const { evalAdapterCommand } = await import('./cli/eval-adapter.ts');
      process.exitCode = await evalAdapterCommand(options);
    });
  return program;
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.exitCode = reportError(error);
    });
}
