// `pnpm bench import <dir> --out results`: adds verified records (e.g. CI shard artifacts) to
// the results directory atomically. Files that fail verification (record/verify.ts) are reported by
// path and skipped. A record already present with the same run id is kept, unless it is a failed
// run and the imported one finished (ok or diverged), or the present file does not verify: then
// the imported record replaces it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadRecordFile, readVerified, recordPath, writeRecord } from '@peft-bench/results/record/store';

function listJson(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listJson(full));
    else if (entry.name.endsWith('.json') && !entry.name.startsWith('.')) out.push(full);
  }
  return out.sort();
}

export async function importCommand(dir: string, options: { out: string }): Promise<number> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    process.stderr.write(`Nothing to import: ${dir} is not a directory.\n`);
    return 2;
  }
  let added = 0;
  let replaced = 0;
  let present = 0;
  let skipped = 0;
  for (const file of listJson(dir)) {
    const loaded = loadRecordFile(file);
    if (!loaded.ok) {
      process.stderr.write(`skipped ${file}: ${loaded.message}\n`);
      skipped += 1;
      continue;
    }
    const existing = readVerified(options.out, loaded.record.run_id);
    const there = existing !== null || fs.existsSync(recordPath(options.out, loaded.record.run_id));
    if (existing && !(existing.status === 'failed' && loaded.record.status !== 'failed')) {
      present += 1;
      continue;
    }
    writeRecord(options.out, loaded.record);
    if (there) {
      replaced += 1;
      process.stderr.write(`replaced ${recordPath(options.out, loaded.record.run_id)} (${existing ? `was ${existing.status}` : 'did not verify'}) with ${file} (${loaded.record.status})\n`);
    } else {
      added += 1;
    }
  }
  process.stdout.write(
    `imported ${added} records into ${options.out} (${replaced} replaced, ${present} already there, ${skipped} invalid files skipped)\n`,
  );
  return 0;
}
