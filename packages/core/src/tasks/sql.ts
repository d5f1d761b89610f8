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
  maxConditions: z.number().int().min(1).max(3).default(3).describe('Most WHERE conditions (1..3).'),
  orConditions: z
    .number()
    .min(0)
    .max(1)
    .default(0.3)
    .describe('Share of questions with two or more conditions that join them with OR instead of AND.'),
  extendedOperators: z
    .boolean()
    .default(true)
    .describe('Use >=, <= and != ("at least", "at most", "not") beside =, > and <.'),
  paraphrase: z
    .number()
    .min(0)
    .max(1)
    .default(0.8)
    .describe('Share of questions that describe their conditions in words instead of column names ("older than 30" for age > 30, "cheaper than 5.0" for price < 5.0).'),
  calendar: z
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe('Share of age and year conditions described in words that go through the calendar: "born before 1990" is age > 44 in 2034, "from the last 5 years" is year > 2029 (the question states the year).'),
  numbersInWords: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('Share of whole numbers below 100 that the question writes in words ("thirty-four"); the query needs the digits.'),
  aggregates: z.boolean().default(true).describe('Ask for COUNT and MAX/MIN/AVG questions.'),
  orderBy: z.boolean().default(true).describe('Ask "top k by column" questions (ORDER BY ... LIMIT k).'),
  groupBy: z.boolean().default(true).describe('Ask "per group" questions (GROUP BY a text column, COUNT or MAX/MIN/AVG).'),
  distinct: z.boolean().default(true).describe('Ask for the different values of a column (SELECT DISTINCT).'),
  subqueries: z
    .boolean()
    .default(true)
    .describe('Ask for rows above or below a column\'s average (WHERE x > (SELECT AVG(x) ...)).'),
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

type Operator = '=' | '>' | '<' | '>=' | '<=' | '!=';
interface Condition {
  column: ColumnSpec;
  op: Operator;
  value: string | number;
}

const UNITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 0..99 in words: 34 -> "thirty-four". */
export function numberInWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 99) throw new Error(`numberInWords: ${n} is not a whole number in 0..99`);
  if (n < 20) return UNITS[n]!;
  return n % 10 === 0 ? TENS[n / 10]! : `${TENS[Math.floor(n / 10)]}-${UNITS[n % 10]}`;
}

/** How the question writes a value: REAL with one decimal, whole numbers below 100 sometimes in words. */
function spokenValue(condition: Condition, wordShare: number, rng: Rng): string {
  const { column, value } = condition;
  if (column.type === 'REAL') return (value as number).toFixed(1);
  if (column.type === 'INTEGER' && (value as number) >= 0 && (value as number) < 100 && wordShare > 0 && rng.chance(wordShare)) {
    return numberInWords(value as number);
  }
  return String(value);
}

function conditionText(condition: Condition, wordShare: number, rng: Rng): string {
  const { column, op } = condition;
  const value = spokenValue(condition, wordShare, rng);
  if (op === '>') return `${column.name} ${rng.pick(['above', 'over', 'greater than', 'more than'])} ${value}`;
  if (op === '<') return `${column.name} ${rng.pick(['below', 'under', 'less than'])} ${value}`;
  if (op === '>=') return rng.pick([`${column.name} at least ${value}`, `${column.name} of ${value} or more`, `${column.name} no less than ${value}`]);
  if (op === '<=') return rng.pick([`${column.name} at most ${value}`, `${column.name} of ${value} or less`, `${column.name} no more than ${value}`]);
  if (op === '!=') return rng.pick([`${column.name} other than ${value}`, `${column.name} not ${value}`, `a ${column.name} that is not ${value}`]);
  return rng.pick([`${column.name} ${value}`, `${column.name} equal to ${value}`, `${column.name} of ${value}`]);
}

// Conditions described in words, as relative clauses: the model has to learn which column and which
// direction each phrase means ("younger than" is age <, "before" is year <). {v} is the value.
const PARAPHRASES: Record<string, Partial<Record<Operator, string[]>>> = {
  name: { '=': ['that are named {v}', 'that belong to {v}'], '!=': ['that are not named {v}', 'that do not belong to {v}'] },
  city: { '=': ['that are in {v}', 'that are from {v}'], '!=': ['that are not in {v}', 'that are outside {v}'] },
  color: { '=': ['that are {v}', 'that are painted {v}'], '!=': ['that are not {v}'] },
  team: { '=': ['that play for the {v}', 'that are with the {v}'], '!=': ['that do not play for the {v}'] },
  brand: { '=': ['that are made by {v}', 'that are from {v}'], '!=': ['that are not made by {v}'] },
  age: {
    '=': ['that are {v} years old', 'that are aged {v}'],
    '>': ['that are older than {v}'],
    '<': ['that are younger than {v}'],
    '>=': ['that are {v} or older'],
    '<=': ['that are {v} or younger'],
    '!=': ['that are not {v} years old'],
  },
  year: {
    '=': ['that are from {v}', 'that date from {v}'],
    '>': ['that are from after {v}', 'that are newer than {v}'],
    '<': ['that are from before {v}', 'that are older than {v}'],
    '>=': ['that are from {v} or later'],
    '<=': ['that are from {v} or earlier'],
    '!=': ['that are not from {v}'],
  },
  score: {
    '=': ['that scored {v}'],
    '>': ['that scored over {v}', 'that beat a score of {v}'],
    '<': ['that scored under {v}'],
    '>=': ['that scored {v} or more'],
    '<=': ['that scored {v} or less'],
    '!=': ['that did not score {v}'],
  },
  qty: {
    '=': ['that have exactly {v} units'],
    '>': ['that have more than {v} units'],
    '<': ['that have fewer than {v} units'],
    '>=': ['that have {v} or more units'],
    '<=': ['that have {v} or fewer units'],
    '!=': ['that do not have {v} units'],
  },
  price: {
    '=': ['that cost {v}'],
    '>': ['that cost more than {v}', 'that are pricier than {v}'],
    '<': ['that cost less than {v}', 'that are cheaper than {v}'],
    '>=': ['that cost {v} or more'],
    '<=': ['that cost {v} or less'],
    '!=': ['that do not cost {v}'],
  },
  weight: {
    '=': ['that weigh {v}'],
    '>': ['that weigh more than {v}', 'that are heavier than {v}'],
    '<': ['that weigh less than {v}', 'that are lighter than {v}'],
    '>=': ['that weigh {v} or more'],
    '<=': ['that weigh {v} or less'],
    '!=': ['that do not weigh {v}'],
  },
  rating: {
    '=': ['that are rated {v}'],
    '>': ['that are rated above {v}'],
    '<': ['that are rated below {v}'],
    '>=': ['that are rated {v} or higher'],
    '<=': ['that are rated {v} or lower'],
    '!=': ['that are not rated {v}'],
  },
};

function paraphraseText(condition: Condition, wordShare: number, rng: Rng): string {
  const value = spokenValue(condition, wordShare, rng);
  return rng.pick(PARAPHRASES[condition.column.name]![condition.op]!).replace('{v}', value);
}

// Age and year conditions through the calendar, as of the question's reference year: the query
// needs reference - value, a subtraction the model has to learn.
const CALENDAR: Record<'age' | 'year', Record<Operator, string>> = {
  age: {
    '=': 'that were born in {v}',
    '>': 'that were born before {v}',
    '<': 'that were born after {v}',
    '>=': 'that were born in {v} or earlier',
    '<=': 'that were born in {v} or later',
    '!=': 'that were not born in {v}',
  },
  year: {
    '=': 'that are exactly {v} years old',
    '>': 'that are from the last {v} years',
    '<': 'that are more than {v} years old',
    '>=': 'that are at most {v} years old',
    '<=': 'that are at least {v} years old',
    '!=': 'that are not {v} years old',
  },
};

function calendarText(condition: Condition, reference: number): string {
  const name = condition.column.name as 'age' | 'year';
  return CALENDAR[name][condition.op].replace('{v}', String(reference - (condition.value as number)));
}

/** A condition the anchor row satisfies, so questions rarely have empty answers. */
function makeCondition(column: ColumnSpec, anchorValue: string | number, extended: boolean, rng: Rng): Condition {
  const ops: Operator[] = column.type === 'TEXT' ? ['='] : ['=', '>', '<'];
  if (extended) ops.push(...(column.type === 'TEXT' ? (['!='] as const) : (['>=', '<=', '!='] as const)));
  const op = rng.pick(ops);
  if (op === '=') return { column, op, value: anchorValue };
  if (op === '!=') {
    let value = column.values(rng);
    for (let tries = 0; value === anchorValue && tries < 20; tries++) value = column.values(rng);
    return { column, op, value };
  }
  const anchor = anchorValue as number;
  // Inclusive bounds sometimes sit on the anchor itself, so >= and <= differ from > and < in what they return.
  const below = op === '>' || op === '>=';
  if (column.type === 'INTEGER') {
    const step = op.length === 2 ? rng.int(0, 10) : rng.int(1, 10);
    // Whole-number columns hold no negatives, so no bound goes below zero.
    return { column, op, value: below ? Math.max(0, anchor - step) : anchor + step };
  }
  const step = (op.length === 2 ? rng.int(0, 30) : rng.int(1, 30)) / 10;
  return { column, op, value: Math.round((below ? anchor - step : anchor + step) * 10) / 10 };
}

export function makeSqlExample(knobs: SqlKnobs, rng: Rng): Omit<Example, 'id'> {
  const table = rng.pick(TABLES);
  const columnCount = rng.int(knobs.minColumns, knobs.maxColumns);
  const columns = rng.sample(COLUMNS, columnCount);
  const rowCount = rng.int(knobs.minRows, knobs.maxRows);
  const numeric = columns.filter((c) => c.type !== 'TEXT');

  const text = columns.filter((c) => c.type === 'TEXT');

  const kinds: string[] = ['select', 'select'];
  if (knobs.aggregates) kinds.push('count', 'count');
  if (knobs.aggregates && numeric.length > 0) kinds.push('agg', 'agg');
  if (knobs.orderBy && numeric.length > 0 && columns.length >= 2) kinds.push('order');
  if (knobs.groupBy && text.length > 0) kinds.push('group');
  if (knobs.distinct && text.length > 0) kinds.push('distinct');
  if (knobs.subqueries && numeric.length > 0 && columns.length >= 2) kinds.push('average');
  const kind = rng.pick(kinds);

  // The ORDER BY column of an 'order' question, or the column compared with its average.
  const orderColumn = kind === 'order' || kind === 'average' ? rng.pick(numeric) : null;
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

  // The grouping column of a 'group' question, and the aggregated one when it has a numeric column.
  const groupColumn = kind === 'group' ? rng.pick(text) : null;
  const groupAggregate = kind === 'group' && numeric.length > 0 && rng.chance(0.5) ? rng.pick(numeric) : null;
  let selected: ColumnSpec;
  if (kind === 'agg') selected = rng.pick(numeric);
  else if (kind === 'order' || kind === 'average') selected = rng.pick(columns.filter((c) => c !== orderColumn));
  else if (kind === 'distinct') selected = rng.pick(text);
  else if (kind === 'group') selected = groupAggregate ?? groupColumn!;
  else selected = rng.pick(columns);
  const conditionPool = columns.filter((c) => c !== selected && c !== orderColumn && c !== groupColumn);
  const maxConditions = Math.min(knobs.maxConditions, conditionPool.length);
  let conditionCount = maxConditions === 0 ? 0 : rng.int(1, maxConditions);
  if (kind === 'average') conditionCount = 0;
  else if (kind === 'order' || kind === 'group' || kind === 'distinct' || (kind === 'agg' && rng.chance(0.4))) {
    conditionCount = Math.min(conditionCount, rng.int(0, 1));
  }
  const conditions = rng
    .sample(conditionPool, conditionCount)
    .map((c) => makeCondition(c, valueOf(anchor, c), knobs.extendedOperators, rng));
  const useOr = conditions.length >= 2 && rng.chance(knobs.orConditions);
  const whereSql = conditions.length
    ? ` WHERE ${conditions.map((c) => `${c.column.name} ${c.op} ${sqlLiteral(c.value, c.column.type)}`).join(useOr ? ' OR ' : ' AND ')}`
    : '';
  const inWords = conditions.length > 0 && rng.chance(knobs.paraphrase);
  // The year the question is asked in, after every year value, so "N years old" stays positive.
  const reference = rng.int(2035, 2040);
  let usesCalendar = false;
  const describe = (c: Condition): string => {
    if (!inWords) return conditionText(c, knobs.numbersInWords, rng);
    if ((c.column.name === 'age' || c.column.name === 'year') && knobs.calendar > 0 && rng.chance(knobs.calendar)) {
      usesCalendar = true;
      return calendarText(c, reference);
    }
    return paraphraseText(c, knobs.numbersInWords, rng);
  };
  const whereText = conditions.map(describe).join(useOr ? ' or ' : ' and ');
  // How the conditions attach to the table's name: "pets with age over 3" or "pets that are older than 3".
  const among = conditions.length ? (inWords ? ` ${whereText}` : ` with ${whereText}`) : '';

  let query: string;
  let question: string;
  if (kind === 'select') {
    query = `SELECT ${selected.name} FROM ${table}${whereSql}`;
    question = inWords
      ? rng.pick([`List the ${selected.name} of ${table}${among}.`, `Show ${selected.name} for ${table}${among}.`])
      : rng.pick([
          `List the ${selected.name} of ${table} with ${whereText}.`,
          `Which ${selected.name} values have ${whereText}?`,
          `Show ${selected.name} for ${table} where ${whereText}.`,
        ]);
  } else if (kind === 'count') {
    query = `SELECT COUNT(*) FROM ${table}${whereSql}`;
    question = inWords
      ? rng.pick([`How many ${table} are there${among}?`, `Count the ${table}${among}.`])
      : rng.pick([
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
    question = `What is the ${word} ${selected.name} of ${table}${among}?`;
  } else if (kind === 'distinct') {
    query = `SELECT DISTINCT ${selected.name} FROM ${table}${whereSql}`;
    question = rng.pick([
      `Which different ${selected.name} values do ${table}${among} have?`,
      `List each ${selected.name} of ${table}${among} once.`,
      `What distinct ${selected.name} values appear among ${table}${among}?`,
    ]);
  } else if (kind === 'group') {
    if (groupAggregate) {
      const [fn, word] = rng.pick([
        ['MAX', 'highest'],
        ['MIN', 'lowest'],
        ['AVG', 'average'],
      ] as const);
      query = `SELECT ${groupColumn!.name}, ${fn}(${groupAggregate.name}) FROM ${table}${whereSql} GROUP BY ${groupColumn!.name}`;
      question = rng.pick([
        `What is the ${word} ${groupAggregate.name} of ${table}${among} for each ${groupColumn!.name}?`,
        `For each ${groupColumn!.name}, give the ${word} ${groupAggregate.name} of ${table}${among}.`,
      ]);
    } else {
      query = `SELECT ${groupColumn!.name}, COUNT(*) FROM ${table}${whereSql} GROUP BY ${groupColumn!.name}`;
      question = rng.pick([
        `How many ${table}${among} are there for each ${groupColumn!.name}?`,
        `Count the ${table}${among} per ${groupColumn!.name}.`,
      ]);
    }
  } else if (kind === 'average') {
    const above = rng.chance(0.5);
    const name = orderColumn!.name;
    query = `SELECT ${selected.name} FROM ${table} WHERE ${name} ${above ? '>' : '<'} (SELECT AVG(${name}) FROM ${table})`;
    question = rng.pick([
      `List the ${selected.name} of ${table} with ${name} ${above ? 'above' : 'below'} the average.`,
      `Which ${selected.name} values have a ${above ? 'higher' : 'lower'} ${name} than average?`,
      `Show ${selected.name} for ${table} whose ${name} is ${above ? 'above' : 'below'} the mean ${name}.`,
    ]);
  } else {
    const limit = rng.int(1, Math.min(3, rowCount));
    const descending = rng.chance(0.5);
    const limitText = knobs.numbersInWords > 0 && rng.chance(knobs.numbersInWords) ? numberInWords(limit) : String(limit);
    query = `SELECT ${selected.name} FROM ${table}${whereSql} ORDER BY ${orderColumn!.name} ${descending ? 'DESC' : 'ASC'} LIMIT ${limit}`;
    question = `List the ${selected.name} of the ${limitText} ${table} with the ${descending ? 'highest' : 'lowest'} ${orderColumn!.name}${conditions.length ? ` among those${among}` : ''}.`;
  }

  const schema = `${table}(${columns.map((c) => `${c.name} ${c.type}`).join(', ')})`;
  const rowsText = knobs.rowsInPrompt
    ? `\nRows: ${rows.map((row) => row.map((v, i) => sqlLiteral(v, columns[i].type)).join('|')).join('; ')}`
    : '';
  const setupSql =
    `CREATE TABLE ${table} (${columns.map((c) => `${c.name} ${c.type}`).join(', ')});\n` +
    `INSERT INTO ${table} VALUES ${rows.map((row) => `(${row.map((v, i) => sqlLiteral(v, columns[i].type)).join(', ')})`).join(', ')};`;
  return {
    prompt: `Table ${schema}${rowsText}\nQ: ${usesCalendar ? `(In ${reference}) ` : ''}${question}\nSQL:`,
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
    'Questions mix SELECT ... WHERE with AND or OR and six comparison operators, COUNT, MAX/MIN/AVG, ' +
    'DISTINCT, GROUP BY, ORDER BY ... LIMIT and comparisons with a column\'s average (a subquery); ' +
    'conditions are often described in words ("older than thirty-four" for age > 34), ages and years ' +
    'through the calendar ("born before 1990" in 2034 is age > 44). ' +
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
