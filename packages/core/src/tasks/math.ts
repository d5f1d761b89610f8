// Synthetic GSM8K-style word problems: a quantity changes over k operations (+ - * /, integers,
// exact divisions); the target is a worked solution in GSM8K's format, one line per operation with
// a <<a*b=c>> calculator annotation, ending in "#### N". Scored by exact match of N.
// Difficulty rises with `steps`: every step is one more operation to read, order and compute.
import { z } from 'zod';
import { gsm8kExactMatch } from '../metrics/gsm8k.ts';
import { checkAligned, meanScore } from '../metrics/match.ts';
import { parseKnobs, syntheticSplitKnobs } from './knobs.ts';
import type { Rng } from './rng.ts';
import { generateSplits } from './splits.ts';
import type { Example, TaskDef } from './types.ts';

export const mathKnobs = z.strictObject({
  ...syntheticSplitKnobs({ train: 2000, valid: 100, test: 200 }),
  steps: z.number().int().min(1).max(12).default(3).describe('Operations per problem (one solution line each); 2..6 is the useful range.'),
  maxValue: z.number().int().min(20).max(100_000).default(200).describe('Largest quantity any step may produce.'),
  distractors: z.number().int().min(0).max(3).default(0).describe('Irrelevant quantities mixed into the problem.'),
});
export type MathKnobs = z.infer<typeof mathKnobs>;

const PEOPLE = ['Mia', 'Leo', 'Ava', 'Noah', 'Zoe', 'Sam', 'Ivy', 'Ben', 'Lily', 'Omar', 'Rosa', 'Tim'];
const ITEMS = ['apples', 'marbles', 'stickers', 'coins', 'cookies', 'pencils', 'cards', 'shells', 'stamps', 'beads'];
const MULTIPLY_WORDS: Record<number, string> = { 2: 'doubles', 3: 'triples', 4: 'becomes four times as large' };

interface Step {
  sentence: string;
  lines: string[];
  value: number;
}

/** `a op b = c` as GSM8K writes it: "a op b = <<a op b=c>>c". */
function calc(a: number, op: '+' | '-' | '*' | '/', b: number, c: number): string {
  return `${a} ${op} ${b} = <<${a}${op}${b}=${c}>>${c}`;
}

/** One operation (or a two-line one when `room` allows), or null when none fits the bounds. */
function nextStep(x: number, room: number, person: string, items: string, knobs: MathKnobs, rng: Rng): Step | null {
  const friend = rng.pick(PEOPLE.filter((p) => p !== person));
  const options: (() => Step | null)[] = [
    () => {
      const b = rng.int(2, 30);
      if (x + b > knobs.maxValue) return null;
      return {
        sentence: rng.pick([`${person} buys ${b} more ${items}.`, `${person} finds ${b} more ${items}.`, `${friend} gives ${person} ${b} ${items}.`]),
        lines: [`${person} then has ${calc(x, '+', b, x + b)} ${items}.`],
        value: x + b,
      };
    },
    () => {
      if (x < 3) return null;
      const b = rng.int(2, Math.min(x - 1, 40));
      return {
        sentence: rng.pick([`${person} gives ${b} ${items} to ${friend}.`, `${person} loses ${b} ${items}.`, `${person} uses ${b} of the ${items}.`]),
        lines: [`${person} has ${calc(x, '-', b, x - b)} ${items} left.`],
        value: x - b,
      };
    },
    () => {
      const m = rng.int(2, 4);
      if (x * m > knobs.maxValue) return null;
      return {
        sentence: `Then the number of ${items} ${MULTIPLY_WORDS[m]}.`,
        lines: [`Now there are ${calc(x, '*', m, x * m)} ${items}.`],
        value: x * m,
      };
    },
    () => {
      const divisors = [2, 3, 4, 5].filter((d) => x % d === 0 && x / d >= 1);
      if (divisors.length === 0) return null;
      const d = rng.pick(divisors);
      return {
        sentence: `${person} splits the ${items} equally into ${d} bags and keeps one bag.`,
        lines: [`One bag holds ${calc(x, '/', d, x / d)} ${items}.`],
        value: x / d,
      };
    },
    () => {
      if (room < 2) return null;
      const packs = rng.int(2, 6);
      const each = rng.int(2, 12);
      const added = packs * each;
      if (x + added > knobs.maxValue) return null;
      return {
        sentence: `${person} buys ${packs} packs with ${each} ${items} in each pack.`,
        lines: [`The packs hold ${calc(packs, '*', each, added)} ${items}.`, `${person} then has ${calc(x, '+', added, x + added)} ${items}.`],
        value: x + added,
      };
    },
    () => {
      if (room < 2) return null;
      const friends = rng.int(2, 5);
      const each = rng.int(2, 10);
      const given = friends * each;
      if (given >= x) return null;
      return {
        sentence: `${person} gives ${each} ${items} to each of ${friends} friends.`,
        lines: [`${person} gives away ${calc(friends, '*', each, given)} ${items}.`, `${person} has ${calc(x, '-', given, x - given)} ${items} left.`],
        value: x - given,
      };
    },
  ];
  for (const option of rng.shuffle(options)) {
    const step = option();
    if (step) return step;
  }
  return null;
}

export function makeMathExample(knobs: MathKnobs, rng: Rng): Omit<Example, 'id'> | null {
  const person = rng.pick(PEOPLE);
  const items = rng.pick(ITEMS);
  let value = rng.int(5, Math.min(60, knobs.maxValue));
  const sentences = [`${person} has ${value} ${items}.`];
  const lines: string[] = [];
  while (lines.length < knobs.steps) {
    const step = nextStep(value, knobs.steps - lines.length, person, items, knobs, rng);
    if (step === null) return null;
    sentences.push(step.sentence);
    lines.push(...step.lines);
    value = step.value;
  }
  for (let i = 0; i < knobs.distractors; i++) {
    const other = rng.pick(PEOPLE.filter((p) => p !== person));
    const otherItems = rng.pick(ITEMS);
    sentences.splice(rng.int(1, sentences.length), 0, `${other} has ${rng.int(2, 60)} ${otherItems}.`);
  }
  const question = `${sentences.join(' ')} How many ${items} does ${person} have now?`;
  return {
    prompt: `Question: ${question}\nAnswer:`,
    target: ` ${lines.join('\n')}\n#### ${value}`,
    meta: { answer: value, steps: knobs.steps },
  };
}

export async function scoreGsm8k(predictions: string[], examples: Example[]): Promise<Record<string, number>> {
  checkAligned(predictions, examples);
  return {
    exact_match: meanScore(
      predictions.map((prediction, i) => {
        const answer = examples[i].meta?.answer;
        return gsm8kExactMatch(prediction, typeof answer === 'number' ? answer : examples[i].target);
      }),
    ),
  };
}

export const GSM8K_METRICS = [
  {
    name: 'exact_match',
    direction: 'higher',
    description: "Share of solutions whose number after '####' equals the answer (commas, '$' ignored; compared by value).",
  },
] as const;

export const mathTask: TaskDef<MathKnobs> = {
  id: 'math',
  title: 'Multi-step arithmetic word problems (synthetic)',
  tier: 'synthetic',
  family: 'reasoning',
  description:
    'GSM8K-style word problems where a quantity changes over `steps` operations (+, -, *, / with exact ' +
    'divisions, some two-line operations like "3 packs of 4"); the target is a worked solution with ' +
    '<<a*b=c>> annotations ending in "#### N". Scored by exact match of N.',
  promptTemplate: 'Question: {problem}\nAnswer: {line with <<a*b=c>>c}\n...\n#### {N}',
  knobs: mathKnobs,
  metrics: GSM8K_METRICS.map((m) => ({ ...m })),
  primaryMetric: 'exact_match',
  scoring: { kind: 'generate', maxNewTokens: 160 },
  async load({ seed, knobs }) {
    const k = parseKnobs('math', mathKnobs, knobs);
    return generateSplits('math', k, seed, (rng) => makeMathExample(k, rng));
  },
  score: scoreGsm8k,
};
