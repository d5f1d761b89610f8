// Text-to-SQL metrics: execution accuracy on a real SQLite engine (sql.js, the wasm build) and
// exact match after normalising whitespace and keyword case.
//
// Execution accuracy: the reference and the predicted query both run on a fresh in-memory database
// built from the example's setup SQL; the result sets must be equal — same number and order of
// columns, same rows as multisets, or as sequences when the reference has ORDER BY. Column names
// do not matter (aliases are fine). A prediction that fails to run, is not a single read-only
// SELECT, or returns more than MAX_RESULT_ROWS rows scores 0.
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic } from 'sql.js';

/** A predicted query may not return more rows than this (guards against runaway cross joins). */
export const MAX_RESULT_ROWS = 10_000;

let sqlJs: Promise<SqlJsStatic> | null = null;
let locateFile: ((file: string) => string) | undefined;

/** Where sql.js finds sql-wasm.wasm (a page serves it as a static file); Node needs no setting. */
export function setSqlWasmLocation(locate: (file: string) => string): void {
  locateFile = locate;
}

/** The sql.js module, loaded once. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs(locateFile ? { locateFile } : undefined);
  return sqlJs;
}

const KEYWORDS = new Set(
  (
    'select from where and or not in is null like between group by order having limit offset asc desc distinct as ' +
    'count sum avg min max join inner left right outer on union all except intersect case when then else end ' +
    'with exists cast integer text real varchar create table insert into values'
  ).split(' '),
);

// Quoted strings/identifiers, then words/numbers, then two-character operators, then any single character.
const SQL_TOKEN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[A-Za-z_][A-Za-z0-9_.]*|\d+(?:\.\d+)?|<=|>=|<>|!=|==|\S/g;

/** Single spaces between tokens, keywords upper-cased, a trailing ';' dropped; string contents untouched. */
export function normaliseSql(sql: string): string {
  const tokens = sql.trim().replace(/;\s*$/, '').match(SQL_TOKEN) ?? [];
  return tokens.map((token) => (KEYWORDS.has(token.toLowerCase()) ? token.toUpperCase() : token)).join(' ');
}

export function sqlExactMatch(prediction: string, reference: string): number {
  return normaliseSql(prediction) === normaliseSql(reference) ? 1 : 0;
}

export interface QueryResult {
  columnCount: number;
  rows: unknown[][];
}

/** Why a predicted query is refused before running it, or null when it may run. */
export function refuseQuery(sql: string): string | null {
  const body = sql.trim().replace(/;\s*$/, '');
  if (!/^(select|with)\b/i.test(body)) return 'not a SELECT statement';
  if (/;/.test(body.replace(/'(?:[^']|'')*'/g, "''"))) return 'more than one statement';
  if (/\brecursive\b/i.test(body)) return 'recursive queries are not allowed';
  return null;
}

/** Run one query; throws with SQLite's message when it does not compile or run. */
export function runQuery(db: Database, sql: string, maxRows = MAX_RESULT_ROWS): QueryResult {
  const statement = db.prepare(sql.trim().replace(/;\s*$/, ''));
  try {
    const rows: unknown[][] = [];
    while (statement.step()) {
      if (rows.length >= maxRows) throw new Error(`query returned more than ${maxRows} rows`);
      rows.push(statement.get());
    }
    return { columnCount: statement.getColumnNames().length, rows };
  } finally {
    statement.free();
  }
}

function canonicalValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    // Equivalent queries may sum floats in a different order.
    return `n:${Number.isInteger(value) ? value : Number(value.toPrecision(12))}`;
  }
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString('hex')}`;
  return `s:${String(value)}`;
}

export function sameResult(reference: QueryResult, predicted: QueryResult, ordered: boolean): boolean {
  if (reference.columnCount !== predicted.columnCount || reference.rows.length !== predicted.rows.length) return false;
  const key = (row: unknown[]) => JSON.stringify(row.map(canonicalValue));
  const refKeys = reference.rows.map(key);
  const predKeys = predicted.rows.map(key);
  if (!ordered) {
    refKeys.sort();
    predKeys.sort();
  }
  return refKeys.every((value, i) => value === predKeys[i]);
}

export function hasOrderBy(sql: string): boolean {
  return /\border\s+by\b/i.test(sql);
}

export interface ExecOutcome {
  match: 0 | 1;
  /** Why the prediction did not match (refused, SQLite error, different result), for error analysis. */
  reason?: string;
}

/**
 * Execution match of one prediction. `setupSql` creates (and fills) the tables; an error in the
 * setup or the reference is a broken example and throws, an error in the prediction scores 0.
 */
export async function execMatch(prediction: string, reference: string, setupSql: string): Promise<ExecOutcome> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  try {
    try {
      db.exec(setupSql);
    } catch (error) {
      throw new Error(`Example setup SQL failed (${(error as Error).message}): ${setupSql.slice(0, 200)}`);
    }
    let expected: QueryResult;
    try {
      expected = runQuery(db, reference);
    } catch (error) {
      throw new Error(`Reference query failed (${(error as Error).message}): ${reference}`);
    }
    const refused = refuseQuery(prediction);
    if (refused) return { match: 0, reason: refused };
    let actual: QueryResult;
    try {
      actual = runQuery(db, prediction);
    } catch (error) {
      return { match: 0, reason: `SQLite error: ${(error as Error).message}` };
    }
    return sameResult(expected, actual, hasOrderBy(reference)) ? { match: 1 } : { match: 0, reason: 'different result' };
  } finally {
    db.close();
  }
}
