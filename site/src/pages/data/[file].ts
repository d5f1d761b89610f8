// The aggregated data as downloadable files in the build: data/aggregated.json and data/<table>.csv.
import type { APIRoute, GetStaticPaths } from 'astro';
import { loadSiteData } from '../../lib/data.ts';
import { CSV_TABLES, toCsv, toJson, type CsvTable } from '@peft-bench/bench/aggregate/index';

export const getStaticPaths: GetStaticPaths = () => [
  { params: { file: 'aggregated.json' } },
  ...CSV_TABLES.map((t) => ({ params: { file: `${t}.csv` } })),
];

export const GET: APIRoute = async ({ params }) => {
  const { agg } = await loadSiteData();
  const file = params.file as string;
  if (file === 'aggregated.json') {
    // Paths of skipped files are made relative to results/ so the build does not leak local directories. The
    // per-run analysis pass-through (about 30 kB a run) stays in the records, so the full grid's download is
    // megabytes rather than tens of them; the seed-averaged subspace and overlap matrices are kept.
    const { analysis: _perRun, ...aggregates } = agg;
    const shareable = { ...aggregates, problems: agg.problems.map((p) => ({ ...p, path: p.path.split('/').slice(-1)[0] })) };
    return new Response(toJson(shareable), { headers: { 'Content-Type': 'application/json' } });
  }
  const table = file.replace(/\.csv$/, '') as CsvTable;
  return new Response(toCsv(agg, table), { headers: { 'Content-Type': 'text/csv' } });
};
