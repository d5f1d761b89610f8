// pnpm new-method <id> [--title "My method"] [--family low-rank]
// Creates packages/methods/<id>/ (index.ts, layer.ts, README.md) that passes the conformance suite.
import { Command } from 'commander';
import { METHODS_ROOT } from '../src/registry.ts';
import { scaffoldMethod } from '../src/scaffold.ts';
import type { MethodFamily } from '../src/types.ts';

const program = new Command('new-method')
  .argument('<id>', 'method id: lowercase letters, digits and -, equal to the folder name')
  .option('--title <title>', 'display title')
  .option('--family <family>', 'baseline | low-rank | seed-idea | adapter | selective', 'low-rank')
  .action((id: string, opts: { title?: string; family: string }) => {
    try {
      const files = scaffoldMethod(METHODS_ROOT, id, { title: opts.title, family: opts.family as MethodFamily });
      console.log(`created ${files.join(', ')}`);
      console.log(`next: edit them, then run  cd packages/methods && METHODS=${id} npx vitest run test/conformance.test.ts`);
    } catch (e) {
      console.error((e as Error).message);
      process.exitCode = 1;
    }
  });
program.parse();
