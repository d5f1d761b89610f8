// The aggregated data as downloadable files in the build: data/aggregated.json, data/<table>.csv and
// data/runs.json (the Runs page's table).
import type { APIRoute, GetStaticPaths } from 'astro';
import { loadSiteData } from '../../lib/data.ts';
import { DOWNLOAD_FILES, downloadBody } from '../../lib/downloads.ts';

export const getStaticPaths: GetStaticPaths = () => DOWNLOAD_FILES.map((file) => ({ params: { file } }));

export const GET: APIRoute = async ({ params }) => {
  const { agg, runRows } = await loadSiteData();
  const file = params.file as string;
  const type = file.endsWith('.csv') ? 'text/csv' : 'application/json';
  return new Response(downloadBody(agg, file, runRows), { headers: { 'Content-Type': type } });
};
