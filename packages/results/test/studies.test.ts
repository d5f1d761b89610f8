// The studies registry: one folder per question, each listed, each with its grid blocks and report section.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { studies, study, studyMethods } from '../studies/index.ts';
import { aggregate, findings } from '../src/aggregate/index.ts';
import { runRecord } from '../src/record/schema.ts';
import { sealedRecord, seal } from './fixtures.ts';

const STUDIES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../studies');
const GRIDS = path.resolve(STUDIES, '../../bench/grids');

describe('studies', () => {
  it('the registry lists every study folder, in question order', () => {
    const folders = fs.readdirSync(STUDIES, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(studies().map((s) => s.id).sort()).toEqual(folders);
    const orders = studies().map((s) => s.order);
    expect(orders).toEqual([...orders].sort((a, b) => a - b));
    expect(() => study('nope')).toThrow(/unknown study 'nope'; studies are rank, complement/);
  });

  it('grid blocks are keyed by grid names that exist, and block names are unique per grid', () => {
    const grids = new Set(fs.readdirSync(GRIDS).map((n) => n.replace(/\.ya?ml$/, '')));
    const names = new Map<string, string[]>();
    for (const s of studies()) {
      const file = path.join(STUDIES, s.id, 'grid.yaml');
      if (!fs.existsSync(file)) continue;
      const blocks = parseYaml(fs.readFileSync(file, 'utf8')) as Record<string, { name: string }[]>;
      for (const [grid, list] of Object.entries(blocks)) {
        expect(grids.has(grid), `${file}: no grid named ${grid}`).toBe(true);
        names.set(grid, [...(names.get(grid) ?? []), ...list.map((b) => b.name)]);
      }
    }
    for (const list of names.values()) expect(new Set(list).size).toBe(list.length);
    expect(names.get('leaderboard-fixed300')).toContain('rank-sweep');
  });

  it('a study that names a grid file instead of a grid.yaml names one that exists, with the blocks it names', () => {
    const named = studies().filter((s) => s.grid);
    expect(named.map((s) => s.id)).toEqual(['pretraining', 'batch-size', 'targets', 'lr']);
    for (const s of named) {
      expect(fs.existsSync(path.join(STUDIES, s.id, 'grid.yaml')), `${s.id}: both a grid.yaml and a grid`).toBe(false);
      const file = path.join(GRIDS, `${s.grid!.name}.yaml`);
      expect(fs.existsSync(file), `${s.id}: no grid ${file}`).toBe(true);
      const blocks = ((parseYaml(fs.readFileSync(file, 'utf8')) as { experiments: { name: string }[] }).experiments).map((b) => b.name);
      for (const name of s.grid!.experiments ?? []) expect(blocks, `${s.id}: no block ${name} in ${file}`).toContain(name);
    }
  });

  it('the report has one section per study, from the records', () => {
    const records = [1, 2].map((seed) => {
      const r = sealedRecord(seed);
      return runRecord.parse(seal({ ...r, method: { ...r.method, id: 'ln-outlier', config: { n: 4 }, rank: 4 } }));
    });
    const sections = findings(aggregate(records, []));
    expect(sections.map((s) => s.id)).toEqual(studies().map((s) => s.id));
    expect(studyMethods().has('ln-outlier')).toBe(true);
    const ln = sections.find((s) => s.id === 'layernorm')!;
    expect(ln.tables[0]?.rows[0]?.[0]).toBe('ln-outlier n=4');
    expect(sections.find((s) => s.id === 'complement')!.tables).toEqual([]);
  });
});
