// Each run's record as committed in results/, byte for byte, beside its page (runs/<run_id>.json), so a run
// page links to the raw data it shows.
import type { APIRoute, GetStaticPaths } from 'astro';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSiteData } from '../../lib/data.ts';

export const getStaticPaths: GetStaticPaths = async () => {
  const { records } = await loadSiteData();
  return records.map((r) => ({ params: { id: r.run_id } }));
};

export const GET: APIRoute = async ({ params }) => {
  const { records, resultsDir } = await loadSiteData();
  const id = params.id as string;
  // Records are named by run id; a record stored under another name is written out from the parsed copy.
  const text = await readFile(join(resultsDir, `${id}.json`), 'utf8').catch(() => JSON.stringify(records.find((r) => r.run_id === id), null, 2));
  return new Response(text, { headers: { 'Content-Type': 'application/json' } });
};
