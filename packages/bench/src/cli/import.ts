// `pnpm bench import <dir> --out results`: adds validated records (e.g. CI shard artifacts) to
// the results directory atomically. Invalid files are reported by path and skipped; a record
// already present with the same run id is left as it is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasFinished, loadRecordFile, writeRecord } from '../record/store.ts';

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
  let present = 0;
  let skipped = 0;
  for (const file of listJson(dir)) {
    const loaded = loadRecordFile(file);
    if (!loaded.ok) {
      process.stderr.write(`skipped ${file}: ${loaded.message}\n`);
      skipped += 1;
      continue;
    }
    if (hasFinished(options.out, loaded.record.run_id)) {
      present += 1;
      continue;
    }
    writeRecord(options.out, loaded.record);
    added += 1;
  }
  process.stdout.write(`imported ${added} records into ${options.out} (${present} already there, ${skipped} invalid files skipped)\n`);
  return 0;
}
