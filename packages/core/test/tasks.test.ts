import { describe, expect, it } from 'vitest';
import { getTask, homeSplit, listTasks, normalisePrompt, pretrainCorpus, TASKS } from '../src/tasks/index.ts';
import type { Example, TaskSplits } from '../src/tasks/index.ts';
import { execMatch, runQuery, loadSqlJs } from '../src/metrics/sql.ts';
import { numberInWords } from '../src/tasks/sql.ts';
import { summaryFacts } from '../src/tasks/summarize.ts';

const SYNTHETIC = ['sql', 'nli', 'summarize', 'math'];
const small = { train: 300, valid: 40, test: 60 };

function allPrompts(splits: TaskSplits): Record<string, string[]> {
  return {
    train: splits.train.map((e) => normalisePrompt(e.prompt)),
    valid: splits.valid.map((e) => normalisePrompt(e.prompt)),
    test: splits.test.map((e) => normalisePrompt(e.prompt)),
  };
}

describe('task registry', () => {
  it('lists every task with its metrics, primary metric and knob defaults', () => {
    const listed = listTasks();
    expect(listed.map((t) => t.id)).toEqual([
      'sql', 'nli', 'summarize', 'math', 'gsm8k', 'wikisql', 'sql-create-context', 'mnli', 'snli', 'rte', 'samsum', 'viggo',
    ]);
    for (const task of listed) {
      const names = task.metrics.map((m) => m.name);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toContain(task.primaryMetric);
      expect(JSON.parse(JSON.stringify(task))).toEqual(task);
    }
    expect(listed.find((t) => t.id === 'math')!.knobs).toMatchObject({ steps: 3, train: 2000, valid: 100, test: 200 });
    expect(listed.find((t) => t.id === 'math')!.family).toBe('reasoning');
    expect(Object.isFrozen(TASKS)).toBe(true);
  });

  it('an unknown id lists the valid ones', () => {
    expect(() => getTask('sqll')).toThrow(/Unknown task 'sqll'. Valid tasks: synthetic: sql, nli, summarize, math; real: gsm8k/);
  });

  it('bad knobs name the field and list the valid knobs', async () => {
    await expect(getTask('math').load({ seed: 0, knobs: { steps: 0 } })).rejects.toThrow(/steps: Too small[\s\S]*Valid knobs: train, valid, test, evalSeed, steps/);
    await expect(getTask('sql').load({ seed: 0, knobs: { colums: 3 } as never })).rejects.toThrow(/Unrecognized key: "colums"/);
    await expect(getTask('sql').load({ seed: 0, knobs: { minRows: 6, maxRows: 4 } })).rejects.toThrow(/minRows: minRows must not exceed maxRows/);
  }, 30_000);
});

describe.each(SYNTHETIC)('synthetic task %s', (id) => {
  const task = getTask(id);

  it('makes disjoint, deterministic splits of the asked sizes', async () => {
    const splits = await task.load({ seed: 3, knobs: small });
    expect([splits.train.length, splits.valid.length, splits.test.length]).toEqual([300, 40, 60]);
    const prompts = allPrompts(splits);
    const seen = new Map<string, string>();
    for (const [split, list] of Object.entries(prompts)) {
      for (const prompt of list) {
        expect(seen.get(prompt), `prompt in ${seen.get(prompt)} and ${split}`).toBeUndefined();
        seen.set(prompt, split);
        expect(homeSplit(prompt)).toBe(split);
      }
    }
    const again = await task.load({ seed: 3, knobs: small });
    expect(again).toEqual(splits);
  }, 30_000);

  it('keeps valid/test fixed across run seeds, and changes them with evalSeed', async () => {
    const a = await task.load({ seed: 1, knobs: small });
    const b = await task.load({ seed: 2, knobs: small });
    const c = await task.load({ seed: 1, knobs: { ...small, evalSeed: 9 } });
    expect(b.test).toEqual(a.test);
    expect(b.valid).toEqual(a.valid);
    expect(b.train).not.toEqual(a.train);
    expect(c.test).not.toEqual(a.test);
    // The test split does not depend on how many training examples are drawn.
    const bigger = await task.load({ seed: 1, knobs: { ...small, train: 500 } });
    expect(bigger.test).toEqual(a.test);
  }, 30_000);

  it('scores the references perfectly and something else lower', async () => {
    const { test } = await task.load({ seed: 0, knobs: { ...small, test: 30 } });
    for (const example of test) expect(example.target.startsWith(' ')).toBe(true);
    const perfect = await task.score(test.map((e) => e.target), test);
    expect(perfect[task.primaryMetric]).toBe(1);
    expect(Object.keys(perfect).sort()).toEqual(task.metrics.map((m) => m.name).sort());
    const shifted = await task.score(test.map((_, i) => test[(i + 1) % test.length].target), test);
    expect(shifted[task.primaryMetric]).toBeLessThan(0.8);
    await expect(task.score(['x'], test)).rejects.toThrow(/1 predictions for 30 examples/);
  }, 30_000);
});

describe('sql task', () => {
  it('writes whole numbers in words', () => {
    expect([0, 7, 13, 20, 34, 99].map(numberInWords)).toEqual(['zero', 'seven', 'thirteen', 'twenty', 'thirty-four', 'ninety-nine']);
    expect(() => numberInWords(100)).toThrow(/not a whole number in 0..99/);
  });

  it('reference queries run on their rows and rarely return nothing', async () => {
    const { test } = await getTask('sql').load({ seed: 0, knobs: { ...small, test: 150 } });
    const SQL = await loadSqlJs();
    let empty = 0;
    for (const example of test) {
      const db = new SQL.Database();
      db.exec(String(example.meta!.setupSql));
      const result = runQuery(db, example.target);
      db.close();
      if (result.rows.length === 0 || result.rows.every((row) => row.every((v) => v === null))) empty++;
    }
    expect(empty / test.length).toBeLessThan(0.05);
    const kinds = new Set(test.map((e) => e.meta!.kind));
    expect([...kinds].sort()).toEqual(['agg', 'average', 'count', 'distinct', 'group', 'order', 'select']);
    // Every operator, both joins and conditions in words all occur.
    const targets = test.map((e) => e.target).join('\n');
    for (const op of [' = ', ' > ', ' < ', ' >= ', ' <= ', ' != ', ' AND ', ' OR ', ' GROUP BY ', ' DISTINCT ']) expect(targets).toContain(op);
    expect(test.some((e) => / that (are|cost|weigh|have|scored) /.test(e.prompt))).toBe(true);
    expect(targets).toContain('(SELECT AVG(');
    // A number the question writes in words is the query's digits.
    const worded = test.find((e) => /\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-\w+/.test(e.prompt))!;
    const [word] = worded.prompt.match(/\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-\w+/)!;
    const n = [...Array(100).keys()].find((i) => numberInWords(i) === word)!;
    expect(worded.target).toMatch(new RegExp(`\\b${n}\\b`));
  }, 30_000);

  it('states calendar conditions as of the question\'s year: "born before Y" in R is age > R - Y', async () => {
    const { test } = await getTask('sql').load({ seed: 0, knobs: { ...small, test: 300 } });
    let checked = 0;
    for (const example of test) {
      const reference = example.prompt.match(/\(In (\d{4})\)/)?.[1];
      const born = example.prompt.match(/that were born before (\d{4})/)?.[1];
      const recent = example.prompt.match(/that are from the last (\d+) years/)?.[1];
      if (reference && born) {
        expect(example.target).toContain(`age > ${+reference - +born}`);
        checked++;
      }
      if (reference && recent) {
        expect(example.target).toContain(`year > ${+reference - +recent}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3);
  }, 30_000);

  it('execution accepts an equivalent query that exact match rejects', async () => {
    const { test } = await getTask('sql').load({ seed: 0, knobs: { ...small, test: 60 } });
    const example = test.find((e) => / AND /.test(e.target))!;
    const [head, where] = example.target.split(' WHERE ');
    const swapped = `${head} WHERE ${where.split(' AND ').reverse().join(' AND ')}`;
    const scores = await getTask('sql').score([swapped], [example]);
    expect(scores).toEqual({ exec_acc: 1, exact_match: 0 });
    expect((await execMatch(swapped, example.target, String(example.meta!.setupSql))).match).toBe(1);
  }, 30_000);
});

describe('nli task', () => {
  it('balances labels and defeats word-overlap baselines', async () => {
    const { train, test } = await getTask('nli').load({ seed: 0, knobs: { train: 3000, valid: 20, test: 600 } });
    const counts = new Map<string, number>();
    for (const e of train) counts.set(e.target, (counts.get(e.target) ?? 0) + 1);
    for (const count of counts.values()) expect(count / train.length).toBeGreaterThan(0.28);

    // Best lookup table from (overlap bucket, negation in hypothesis, negation in premise) to the
    // majority training label: the strongest bag-of-words cue classifier for this data.
    const words = (t: string) => t.toLowerCase().match(/[a-z']+/g) ?? [];
    const negated = (t: string) => /\b(no|not|isn't|none)\b/i.test(t);
    const overlap = (e: Example) => {
      const premise = new Set(words(String(e.meta!.premise)));
      const hypothesis = words(String(e.meta!.hypothesis));
      return hypothesis.filter((w) => premise.has(w)).length / hypothesis.length;
    };
    const baseline = (feature: (e: Example) => string) => {
      const table = new Map<string, Map<string, number>>();
      for (const e of train) {
        const row = table.get(feature(e)) ?? new Map<string, number>();
        row.set(e.target, (row.get(e.target) ?? 0) + 1);
        table.set(feature(e), row);
      }
      let correct = 0;
      for (const e of test) {
        const row = [...(table.get(feature(e)) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
        if (row[0]?.[0] === e.target) correct++;
      }
      return correct / test.length;
    };
    const overlapOnly = baseline((e) => String(Math.round(overlap(e) * 10)));
    const overlapAndNegation = baseline(
      (e) => `${Math.round(overlap(e) * 5)}|${negated(String(e.meta!.hypothesis))}|${negated(String(e.meta!.premise))}`,
    );
    expect(overlapOnly).toBeLessThan(0.46);
    expect(overlapAndNegation).toBeLessThan(0.48);
  }, 30_000);
});

describe('math task', () => {
  it('writes GSM8K-format solutions with correct arithmetic, one line per step', async () => {
    for (const steps of [2, 4, 6]) {
      const { test } = await getTask('math').load({ seed: 0, knobs: { ...small, steps } });
      for (const example of test) {
        const annotations = [...example.target.matchAll(/<<(\d+)([-+*/])(\d+)=(\d+)>>(\d+)/g)];
        expect(annotations.length).toBe(steps);
        for (const [, a, op, b, c, shown] of annotations) {
          const value = { '+': +a + +b, '-': +a - +b, '*': +a * +b, '/': +a / +b }[op as '+' | '-' | '*' | '/'];
          expect(value).toBe(+c);
          expect(shown).toBe(c);
          expect(Number.isInteger(value) && value >= 0).toBe(true);
        }
        const final = annotations.at(-1)![4];
        expect(example.target.endsWith(`\n#### ${final}`)).toBe(true);
        expect(example.meta!.answer).toBe(+final);
      }
    }
  }, 30_000);

  it('gets longer as steps grow', async () => {
    const meanLength = async (steps: number) => {
      const { test } = await getTask('math').load({ seed: 0, knobs: { ...small, steps } });
      return test.reduce((sum, e) => sum + e.prompt.length + e.target.length, 0) / test.length;
    };
    const [two, four, six] = [await meanLength(2), await meanLength(4), await meanLength(6)];
    expect(two).toBeLessThan(four);
    expect(four).toBeLessThan(six);
  }, 30_000);
});

describe('summarize task', () => {
  it('has 3-8 turns and a summary with the final plan', async () => {
    const { test } = await getTask('summarize').load({ seed: 0, knobs: small });
    for (const example of test) {
      const turns = example.prompt.split('\n').filter((line) => /^\w+: /.test(line));
      expect(turns.length).toBeGreaterThanOrEqual(3);
      expect(turns.length).toBeLessThanOrEqual(8);
      expect(example.target).toMatch(/^ [A-Z]\w+(, \w+)* and \w+ will .+ at .+ on \w+day at \w+\.$/);
    }
  }, 30_000);

  it('scores ROUGE and exact match: one wrong fact keeps most of the ROUGE but loses the match', async () => {
    const { test } = await getTask('summarize').load({ seed: 0, knobs: small });
    const [example] = test;
    const wrongDay = example!.target.replace(/on (\w+day)/, (_, day: string) => `on ${day === 'Monday' ? 'Tuesday' : 'Monday'}`);
    const right = await getTask('summarize').score([example!.target], [example!]);
    const wrong = await getTask('summarize').score([wrongDay], [example!]);
    expect(right).toMatchObject({ rougeL: 1, exact_match: 1 });
    expect(wrong.exact_match).toBe(0);
    expect(wrong.rougeL).toBeGreaterThan(0.85);
    expect(wrong.rougeL).toBeLessThan(1);
  });

  it('scores fact F1 (primary): the template with every fact wrong scores 0, one wrong fact costs its share', async () => {
    const task = getTask('summarize');
    expect(task.primaryMetric).toBe('fact_f1');
    const { test } = await task.load({ seed: 0, knobs: small });
    const example = test.find((e) => /^ \w+ and \w+ will/.test(e.target))!;
    const facts = summaryFacts(example.target);
    // Two people, the activity, the place, the day and the time.
    expect(facts.size).toBe(6);
    const wrongDay = example.target.replace(/on (\w+day)/, (_, day: string) => `on ${day === 'Monday' ? 'Tuesday' : 'Monday'}`);
    expect((await task.score([wrongDay], [example])).fact_f1).toBeCloseTo(5 / 6, 6);
    // The template filled with facts from none of the dialogue's: ROUGE still pays for the template words.
    const template = ' Zed and Quinn will fly kites at the moon on Someday at midnight.';
    const scored = await task.score([template], [example]);
    expect(scored.fact_f1).toBe(0);
    expect(scored.rougeL).toBeGreaterThan(0.3);
    // Naming every day to be safe is charged for each extra one.
    const allDays = `${example.target} Monday Tuesday Wednesday Thursday Friday Saturday Sunday`;
    expect((await task.score([allDays], [example])).fact_f1).toBeLessThan(0.8);
    expect((await task.score([example.target], [example])).fact_f1).toBe(1);
  });

  it('keeps the last time (after shifts like "two hours later") and drops people who leave', async () => {
    const { test } = await getTask('summarize').load({ seed: 0, knobs: { ...small, test: 120, changes: 1, relativeTimes: 1, minTurns: 6 } });
    const HOURS = ['9am', '10am', '11am', 'noon', '1pm', '2pm', '3pm', '4pm', '5pm', '6pm', '7pm', '8pm'];
    const SHIFTS: Record<string, number> = { 'an hour': 1, 'two hours': 2, 'three hours': 3 };
    let shifted = 0;
    let left = 0;
    for (const example of test) {
      let time = '';
      for (const line of example.prompt.split('\n').slice(1)) {
        const explicit = line.match(/\b(\d{1,2}[ap]m|noon)\b/);
        const shift = line.match(/(an hour|two hours|three hours) (later|earlier)/);
        if (shift) {
          time = HOURS[HOURS.indexOf(time) + SHIFTS[shift[1]!]! * (shift[2] === 'later' ? 1 : -1)]!;
          shifted++;
        } else if (explicit) time = explicit[1]!;
        const leaver = line.match(/^(\w+): (sorry, I can't come after all|something came up|I have to skip it now)/);
        if (leaver) {
          expect(example.target).not.toContain(leaver[1]);
          left++;
        }
      }
      expect(example.target.endsWith(` at ${time}.`)).toBe(true);
    }
    expect(shifted).toBeGreaterThan(20);
    expect(left).toBeGreaterThan(5);
  }, 30_000);
});

describe('pretraining corpus', () => {
  it('never contains a valid or test prompt, is deterministic and covers every task', async () => {
    const corpus = pretrainCorpus({ seed: 0, documents: 2000 });
    expect(corpus.length).toBe(2000);
    expect(pretrainCorpus({ seed: 0, documents: 2000 })).toEqual(corpus);
    expect(new Set(corpus).size).toBe(corpus.length);
    const inCorpus = new Set(corpus.map(normalisePrompt));
    for (const id of SYNTHETIC) {
      expect(corpus.some((doc) => doc.startsWith({ sql: 'Table ', nli: 'Premise:', summarize: 'Dialogue:', math: 'Question:' }[id]!))).toBe(true);
      for (const evalSeed of [0, 1, 2]) {
        const { valid, test } = await getTask(id).load({ seed: 0, knobs: { train: 1, valid: 100, test: 200, evalSeed } });
        for (const example of [...valid, ...test]) expect(inCorpus.has(normalisePrompt(example.prompt))).toBe(false);
      }
    }
    for (const doc of corpus) expect(homeSplit(doc)).toBe('train');
  }, 30_000);

  it('keeps targets apart from their prompts unless asked to append them', () => {
    const separate = pretrainCorpus({ seed: 1, documents: 40, tasks: ['math'], targets: 'separate' });
    expect(separate.length).toBe(40);
    expect(separate.filter((doc) => doc.startsWith('Question:')).length).toBe(20);
    for (const doc of separate) expect(doc.startsWith('Question:') !== /#### \d+$/.test(doc)).toBe(true);
    const appended = pretrainCorpus({ seed: 1, documents: 5, tasks: ['math'], targets: 'appended' });
    for (const doc of appended) expect(doc).toMatch(/^Question:[\s\S]*\nAnswer: [\s\S]*#### \d+$/);
  });

  it('rejects unknown tasks', () => {
    expect(() => pretrainCorpus({ seed: 0, documents: 1, tasks: ['poetry'] })).toThrow(/unknown task 'poetry'. Valid: sql, nli, summarize, math/);
  });
});
