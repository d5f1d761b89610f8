// Synthetic text-to-SQL: a random one-table schema and a question -> a SQLite query.
// Scored by execution on the example's generated rows (sql.js) and by normalised exact match.
import { z } from 'zod';
import { execMatch, sqlExactMatch } from '../metrics/sql.ts';
import { checkAligned, meanScore } from '../metrics/match.ts';
import { parseKnobs, syntheticSplitKnobs } from './knobs.ts';
import type { Rng } from './rng.ts';
import { generateSplits } from './splits.ts';
import type { Example, TaskDef } from './types.ts';

export const sqlKnobs = z.strictObject({
  ...syntheticSplitKnobs({ train: 2000, valid: 100, test: 200 }),
  minColumns: z.number().int().min(2).max(5).default(2).describe('Fewest columns in a table (2..5).'),
  maxColumns: z.number().int().min(2).max(5).default(5).describe('Most columns in a table (2..5).'),
  minRows: z.number().int().min(1).max(20).default(3).describe('Fewest rows in a table.'),
  maxRows: z.number().int().min(1).max(20).default(8).describe('Most rows in a table.'),
  maxConditions: z.number().int().min(1).max(3).default(3).describe('Most WHERE conditions joined by AND.'),
  aggregates: z.boolean().default(true).describe('Ask for COUNT and MAX/MIN/AVG questions.'),
  orderBy: z.boolean().default(true).describe('Ask "top k by column" questions (ORDER BY ... LIMIT k).'),
  rowsInPrompt: z
    .boolean()
    .default(false)
    .describe('Show the table rows in the prompt (longer prompts; the query never needs them).'),
})
  .refine((k) => k.minColumns <= k.maxColumns, { message: 'minColumns must not exceed maxColumns', path: ['minColumns'] })
  .refine((k) => k.minRows <= k.maxRows, { message: 'minRows must not exceed maxRows', path: ['minRows'] });
export type SqlKnobs = z.infer<typeof sqlKnobs>;

type ColumnType = 'TEXT' | 'INTEGER' | 'REAL';
interface ColumnSpec {
  name: string;
  type: ColumnType;
  values: (rng: Rng) => string | number;
}

const NAMES = ['Ann', 'Bob', 'Cara', 'Dan', 'Eve', 'Finn', 'Gus', 'Hana', 'Ivan', 'Jo', 'Kim', 'Lea'];
const COLUMNS: ColumnSpec[] = [
  { name: 'name', type: 'TEXT', values: (rng) => rng.pick(NAMES) },
  { name: 'city', type: 'TEXT', values: (rng) => rng.pick(['Paris', 'Oslo', 'Rome', 'Lima', 'Cairo', 'Tokyo', 'Delhi']) },
  { name: 'color', type: 'TEXT', values: (rng) => rng.pick(['red', 'blue', 'green', 'black', 'white', 'gray']) },
  { name: 'team', type: 'TEXT', values: (rng) => rng.pick(['lions', 'hawks', 'bears', 'wolves', 'sharks']) },
  { name: 'brand', type: 'TEXT', values: (rng) => rng.pick(['acme', 'zeta', 'nova', 'orbit', 'apex']) },
  { name: 'age', type: 'INTEGER', values: (rng) => rng.int(1, 80) },
  { name: 'year', type: 'INTEGER', values: (rng) => rng.int(1990, 2024) },
  { name: 'score', type: 'INTEGER', values: (rng) => rng.int(0, 100) },
  { name: 'qty', type: 'INTEGER', values: (rng) => rng.int(1, 50) },
  { name: 'price', type: 'REAL', values: (rng) => rng.int(10, 999) / 10 },
  { name: 'weight', type: 'REAL', values: (rng) => rng.int(5, 200) / 10 },
  { name: 'rating', type: 'REAL', values: (rng) => rng.int(10, 50) / 10 },
];
const TABLES = ['pets', 'cars', 'staff', 'books', 'games', 'shops', 'teams', 'songs', 'players', 'trips'];

function sqlLiteral(value: string | number, type: ColumnType): string {
  if (type === 'TEXT') return `'${String(value).replace(/'/g, "''")}'`;
  return type === 'REAL' ? (value as number).toFixed(1) : String(value);
}

interface Condition {
  column: ColumnSpec;
  op: '=' | '>' | '<';
  value: string | number;
}

function conditionText(condition: Condition, rng: Rng): string {
  const { column, op } = condition;
  const value = column.type === 'REAL' ? (condition.value as number).toFixed(1) : String(condition.value);
  if (op === '>') return `${column.name} ${rng.pick(['above', 'over', 'greater than', 'more than'])} ${value}`;
  if (op === '<') return `${column.name} ${rng.pick(['below', 'under', 'less than'])} ${value}`;
  return rng.pick([`${column.name} ${value}`, `${column.name} equal to ${value}`, `${column.name} of ${value}`]);
}

/** A condition the anchor row satisfies, so questions rarely have empty answers. */
function makeCondition(column: ColumnSpec, anchorValue: string | number, rng: Rng): Condition {
  if (column.type === 'TEXT') return { column, op: '=', value: anchorValue };
  const op = rng.pick(['=', '>', '<'] as const);
  if (op === '=') return { column, op, value: anchorValue };
  const anchor = anchorValue as number;
  if (column.type === 'INTEGER') {
    const step = rng.int(1, 10);
    return { column, op, value: op === '>' ? anchor - step : anchor + step };
  }
  const step = rng.int(1, 30) / 10;
  return { column, op, value: Math.round((op === '>' ? anchor - step : anchor + step) * 10) / 10 };
}

export function makeSqlExample(knobs: SqlKnobs, rng: Rng): Omit<Example, 'id'> {
  const table = rng.pick(TABLES);
  const columnCount = rng.int(knobs.minColumns, knobs.maxColumns);
  const columns = rng.sample(COLUMNS, columnCount);
  const rowCount = rng.int(knobs.minRows, knobs.maxRows);
  const numeric = columns.filter((c) => c.type !== 'TEXT');

  const kinds: string[] = ['select', 'select'];
  if (knobs.aggregates) kinds.push('count', 'count');
  if (knobs.aggregates && numeric.length > 0) kinds.push('agg', 'agg');
  if (knobs.orderBy && numeric.length > 0 && columns.length >= 2) kinds.push('order');
  const kind = rng.pick(kinds);

  const orderColumn = kind === 'order' ? rng.pick(numeric) : null;
  const rows: (string | number)[][] = [];
  // The ORDER BY column gets distinct values so "top k" has one right answer.
  const usedOrderValues = new Set<string | number>();
  for (let r = 0; r < rowCount; r++) {
    rows.push(
      columns.map((column) => {
        if (column !== orderColumn) return column.values(rng);
        let value = column.values(rng);
        while (usedOrderValues.has(value)) value = column.values(rng);
        usedOrderValues.add(value);
        return value;
      }),
    );
  }
  const anchor = rows[rng.int(0, rows.length - 1)];
  const valueOf = (row: (string | number)[], column: ColumnSpec) => row[columns.indexOf(column)];

  const selected = kind === 'agg' || kind === 'order' ? rng.pick(kind === 'agg' ? numeric : columns.filter((c) => c !== orderColumn)) : rng.pick(columns);
  const conditionPool = columns.filter((c) => c !== selected && c !== orderColumn);
  const maxConditions = Math.min(knobs.maxConditions, conditionPool.length);
  let conditionCount = maxConditions === 0 ? 0 : rng.int(1, maxConditions);
  if (kind === 'order' || (kind === 'agg' && rng.chance(0.4))) conditionCount = Math.min(conditionCount, rng.int(0, 1));
  const conditions = rng.sample(conditionPool, conditionCount).map((c) => makeCondition(c, valueOf(anchor, c), rng));
  const whereSql = conditions.length
    ? ` WHERE ${conditions.map((c) => `${c.column.name} ${c.op} ${sqlLiteral(c.value, c.column.type)}`).join(' AND ')}`
    : '';
  const whereText = conditions.map((c) => conditionText(c, rng)).join(' and ');

  let query: string;
  let question: string;
  if (kind === 'select') {
    query = `SELECT ${selected.name} FROM ${table}${whereSql}`;
    question = rng.pick([
      `List the ${selected.name} of ${table} with ${whereText}.`,
      `Which ${selected.name} values have ${whereText}?`,
      `Show ${selected.name} for ${table} where ${whereText}.`,
    ]);
  } else if (kind === 'count') {
    query = `SELECT COUNT(*) FROM ${table}${whereSql}`;
    question = rng.pick([
      `How many ${table} have ${whereText}?`,
      `Count the ${table} with ${whereText}.`,
      `Number of ${table} where ${whereText}?`,
    ]);
  } else if (kind === 'agg') {
    const [fn, word] = rng.pick([
      ['MAX', rng.pick(['highest', 'largest', 'maximum'])],
      ['MIN', rng.pick(['lowest', 'smallest', 'minimum'])],
      ['AVG', rng.pick(['average', 'mean'])],
    ] as const);
    query = `SELECT ${fn}(${selected.name}) FROM ${table}${whereSql}`;
    question = `What is the ${word} ${selected.name} of ${table}${conditions.length ? ` with ${whereText}` : ''}?`;
  } else {
    const limit = rng.int(1, Math.min(3, rowCount));
    const descending = rng.chance(0.5);
    query = `SELECT ${selected.name} FROM ${table}${whereSql} ORDER BY ${orderColumn!.name} ${descending ? 'DESC' : 'ASC'} LIMIT ${limit}`;
    question = `List the ${selected.name} of the ${limit} ${table} with the ${descending ? 'highest' : 'lowest'} ${orderColumn!.name}${conditions.length ? ` among those with ${whereText}` : ''}.`;
  }

  const schema = `${table}(${columns.map((c) => `${c.name} ${c.type}`).join(', ')})`;
  const rowsText = knobs.rowsInPrompt
    ? `\nRows: ${rows.map((row) => row.map((v, i) => sqlLiteral(v, columns[i].type)).join('|')).join('; ')}`
    : '';
  const setupSql =
    `CREATE TABLE ${table} (${columns.map((c) => `${c.name} ${c.type}`).join(', ')});\n` +
    `INSERT INTO ${table} VALUES ${rows.map((row) => `(${row.map((v, i) => sqlLiteral(v, columns[i].type)).join(', ')})`).join(', ')};`;
  return {
    prompt: `Table ${schema}${rowsText}\nQ: ${question}\nSQL:`,
    target: ` ${query}`,
    meta: { setupSql, kind },
  };
}

export async function scoreSql(predictions: string[], examples: Example[]): Promise<Record<string, number>> {
  checkAligned(predictions, examples);
  const exec: number[] = [];
  const exact: number[] = [];
  for (let i = 0; i < examples.length; i++) {
    const setupSql = examples[i].meta?.setupSql;
    if (typeof setupSql !== 'string') throw new Error(`Example ${examples[i].id} has no meta.setupSql to execute against`);
    exec.push((await execMatch(predictions[i], examples[i].target, setupSql)).match);
    exact.push(sqlExactMatch(predictions[i], examples[i].target));
  }
  return { exec_acc: meanScore(exec), exact_match: meanScore(exact) };
}

export const sqlTask: TaskDef<SqlKnobs> = {
  id: 'sql',
  title: 'Text to SQL (synthetic)',
  tier: 'synthetic',
  family: 'simple',
  description:
    'A random table (2-5 typed columns, 3-8 rows) and a question; the model writes the SQLite query. ' +
    'Questions mix SELECT ... WHERE with AND, COUNT, MAX/MIN/AVG and ORDER BY ... LIMIT. ' +
    'Scored by running both queries on SQLite over the rows and comparing result sets.',
  promptTemplate: 'Table {table}({column} {TYPE}, ...)\nQ: {question}\nSQL: {query}',
  knobs: sqlKnobs,
  metrics: [
    { name: 'exec_acc', direction: 'higher', description: 'Share of queries whose SQLite result set equals the reference result set.' },
    { name: 'exact_match', direction: 'higher', description: 'Share of queries equal to the reference after normalising whitespace and keyword case.' },
  ],
  primaryMetric: 'exec_acc',
  scoring: { kind: 'generate', maxNewTokens: 64, stop: '\n' },
  async load({ seed, knobs }) {
    const k = parseKnobs('sql', sqlKnobs, knobs);
    return generateSplits('sql', k, seed, (rng) => makeSqlExample(k, rng));
  },
  score: scoreSql,
};
