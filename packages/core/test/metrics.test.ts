import { describe, expect, it } from 'vitest';
import {
  execMatch,
  extractGsm8kAnswer,
  gsm8kExactMatch,
  lcsLength,
  meanRouge,
  normaliseSql,
  rouge,
  rougeMultiRef,
  rougeTokenize,
  sqlExactMatch,
} from '../src/metrics/index.ts';

describe('ROUGE', () => {
  it('matches the rouge-score README example', () => {
    // target "The quick brown fox jumps over the lazy dog" (9 tokens), prediction 8 tokens.
    // ROUGE-1: overlap the x2, quick, brown, dog, jumps = 6; P = 6/8, R = 6/9, F = 0.70588...
    // ROUGE-2: overlap "the quick", "quick brown" = 2; P = 2/7, R = 2/8, F = 4/15.
    // ROUGE-L: LCS "the quick brown jumps the" = 5; P = 5/8, R = 5/9, F = 0.58823...
    const scores = rouge('The quick brown dog jumps on the log.', 'The quick brown fox jumps over the lazy dog');
    expect(scores.rouge1).toBeCloseTo(0.7058823529411765, 12);
    expect(scores.rouge2).toBeCloseTo(4 / 15, 12);
    expect(scores.rougeL).toBeCloseTo(0.5882352941176471, 12);
  });

  it('tokenises like rouge-score without stemming', () => {
    expect(rougeTokenize("Hello, World!! It's 3pm")).toEqual(['hello', 'world', 'it', 's', '3pm']);
    expect(rougeTokenize('running runs')).toEqual(['running', 'runs']);
  });

  it('clips repeated n-grams and handles empty text', () => {
    // "the the the" vs "the cat": clipped overlap 1, P = 1/3, R = 1/2, F = 0.4.
    expect(rouge('the the the', 'the cat').rouge1).toBeCloseTo(0.4, 12);
    expect(rouge('', 'the cat')).toEqual({ rouge1: 0, rouge2: 0, rougeL: 0 });
    expect(rouge('a b', 'a b').rouge2).toBe(1);
  });

  it('LCS is a subsequence, not a substring', () => {
    expect(lcsLength(['a', 'x', 'b', 'y', 'c'], ['a', 'b', 'c'])).toBe(3);
    expect(lcsLength(['c', 'b', 'a'], ['a', 'b', 'c'])).toBe(1);
  });

  it('takes the best reference per metric and averages over examples', () => {
    const multi = rougeMultiRef('Ann and Bob play tennis', ['Cara sings', 'Ann and Bob play tennis']);
    expect(multi).toEqual({ rouge1: 1, rouge2: 1, rougeL: 1 });
    const averaged = meanRouge(['a b', 'x'], [['a b'], ['y']]);
    expect(averaged.rouge1).toBeCloseTo(0.5, 12);
    expect(() => meanRouge(['a'], [])).toThrow(/1 candidates but 0 reference/);
  });
});

describe('GSM8K answers', () => {
  it('extracts the number after ####', () => {
    expect(extractGsm8kAnswer('so 5 + 13 = 18\n#### 18')).toBe('18');
    expect(extractGsm8kAnswer('#### 1,234')).toBe('1234');
    expect(extractGsm8kAnswer('#### -5')).toBe('-5');
    expect(extractGsm8kAnswer('#### $2.50')).toBe('2.50');
    expect(extractGsm8kAnswer('#### 18.')).toBe('18');
    expect(extractGsm8kAnswer('the answer is 18')).toBeNull();
    expect(extractGsm8kAnswer('#### abc')).toBeNull();
  });

  it('compares by value', () => {
    expect(gsm8kExactMatch('#### 2.50', 2.5)).toBe(1);
    expect(gsm8kExactMatch('#### 1,234', '#### 1234')).toBe(1);
    expect(gsm8kExactMatch('#### -5', -5)).toBe(1);
    expect(gsm8kExactMatch('#### $18', 18)).toBe(1);
    expect(gsm8kExactMatch('#### 17', 18)).toBe(0);
    expect(gsm8kExactMatch('18', 18)).toBe(0);
  });
});

describe('SQL metrics', () => {
  const setup =
    "CREATE TABLE pets (name TEXT, age INTEGER, color TEXT, owner TEXT);\n" +
    "INSERT INTO pets VALUES ('Rex', 3, 'red', 'Ann'), ('Tom', 5, 'red', NULL), ('Kit', 3, 'blue', 'Bob'), ('Ivy', 7, 'red', 'Cy');";
  const exec = async (prediction: string, reference: string) => (await execMatch(prediction, reference, setup)).match;

  it('different column order is not equal', async () => {
    expect(await exec('SELECT age, name FROM pets', 'SELECT name, age FROM pets')).toBe(0);
  });

  it('commuted AND conditions are equal', async () => {
    expect(await exec("SELECT name FROM pets WHERE color = 'red' AND age = 3", "SELECT name FROM pets WHERE age = 3 AND color = 'red'")).toBe(1);
  });

  it('aliases do not matter', async () => {
    expect(await exec('SELECT p.name AS who FROM pets AS p WHERE p.age > 4', 'SELECT name FROM pets WHERE age > 4')).toBe(1);
  });

  it('COUNT(*) equals COUNT(col) on a non-null column, not on a column with NULLs', async () => {
    expect(await exec('SELECT COUNT(name) FROM pets', 'SELECT COUNT(*) FROM pets')).toBe(1);
    expect(await exec('SELECT COUNT(owner) FROM pets', 'SELECT COUNT(*) FROM pets')).toBe(0);
  });

  it('compares multisets without ORDER BY and sequences with it', async () => {
    expect(await exec('SELECT name FROM pets ORDER BY name', 'SELECT name FROM pets')).toBe(1);
    expect(await exec('SELECT name FROM pets ORDER BY age ASC LIMIT 2', 'SELECT name FROM pets ORDER BY age DESC LIMIT 2')).toBe(0);
    expect(await exec('SELECT name FROM pets WHERE age = 3', 'SELECT DISTINCT name FROM pets')).toBe(0);
    // Duplicates count: {red, red, red} is not {red}.
    expect(await exec("SELECT DISTINCT color FROM pets WHERE color = 'red'", "SELECT color FROM pets WHERE color = 'red'")).toBe(0);
  });

  it('scores invalid or non-SELECT predictions 0 with a reason', async () => {
    expect(await execMatch('SELEC name FROM pets', 'SELECT name FROM pets', setup)).toMatchObject({ match: 0, reason: expect.stringMatching(/not a SELECT/) });
    expect(await execMatch('SELECT nme FROM pets', 'SELECT name FROM pets', setup)).toMatchObject({ match: 0, reason: expect.stringMatching(/no such column/) });
    expect(await execMatch('SELECT 1; DROP TABLE pets', 'SELECT name FROM pets', setup)).toMatchObject({ match: 0, reason: 'more than one statement' });
    expect(await execMatch('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c', 'SELECT 1', setup)).toMatchObject({ match: 0 });
  });

  it('a broken reference is an error, not a zero', async () => {
    await expect(execMatch('SELECT 1', 'SELECT nope FROM pets', setup)).rejects.toThrow(/Reference query failed/);
  });

  it('normalises whitespace and keyword case for exact match, not values', () => {
    expect(normaliseSql("select  name from pets\nwhere age=3 and color = 'red';")).toBe("SELECT name FROM pets WHERE age = 3 AND color = 'red'");
    expect(sqlExactMatch('select COUNT( * ) from pets', 'SELECT COUNT(*) FROM pets')).toBe(1);
    expect(sqlExactMatch("SELECT name FROM pets WHERE color = 'Red'", "SELECT name FROM pets WHERE color = 'red'")).toBe(0);
    expect(sqlExactMatch('SELECT age, name FROM pets', 'SELECT name, age FROM pets')).toBe(0);
  });
});
