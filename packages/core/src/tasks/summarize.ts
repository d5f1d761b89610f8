// Synthetic dialogue summarisation: a 3-8 turn chat where friends settle an activity, a day, a time
// and a place (with changes of day, place and time, people who join or drop out, days given relative
// to when the chat was sent and times given as shifts) -> one sentence stating the final who / what /
// when / where. Scored by fact F1 (the facts of the final plan the summary gets right; primary) and
// ROUGE-1/2/L F1 (secondary: the template's own words already earn most of ROUGE).
import { z } from 'zod';
import { accuracy, checkAligned } from '../metrics/match.ts';
import { meanRouge } from '../metrics/rouge.ts';
import { parseKnobs, syntheticSplitKnobs } from './knobs.ts';
import type { Rng } from './rng.ts';
import { generateSplits } from './splits.ts';
import type { Example, TaskDef } from './types.ts';

export const summarizeKnobs = z
  .strictObject({
    ...syntheticSplitKnobs({ train: 2000, valid: 100, test: 200 }),
    minTurns: z.number().int().min(3).max(10).default(3).describe('Fewest dialogue turns (3..10).'),
    maxTurns: z.number().int().min(3).max(10).default(8).describe('Most dialogue turns (3..10).'),
    speakers: z.number().int().min(2).max(3).default(3).describe('Most speakers in a dialogue (2 or 3).'),
    relativeDays: z
      .number()
      .min(0)
      .max(1)
      .default(0.7)
      .describe('Share of dialogues that date the plan relative to the day they were sent ("tomorrow", "in 5 days"): the summary must name the weekday.'),
    relativeTimes: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('Share of changes of time given as a shift ("an hour later", "two hours earlier"): the summary must name the new hour.'),
    changes: z
      .number()
      .min(0)
      .max(1)
      .default(0.7)
      .describe('Chance of each change of plan (day, place, time, someone dropping out) when the dialogue has turns to spare.'),
  })
  .refine((k) => k.minTurns <= k.maxTurns, { message: 'minTurns must not exceed maxTurns', path: ['minTurns'] });
export type SummarizeKnobs = z.infer<typeof summarizeKnobs>;

const NAMES = ['Ann', 'Bob', 'Cara', 'Dan', 'Eve', 'Finn', 'Gus', 'Hana', 'Ivan', 'Jo', 'Kim', 'Lea', 'Nina', 'Omar'];
// [how it is offered in chat, what the summary says they will do]
const ACTIVITIES: [string, string][] = [
  ['lunch', 'have lunch'],
  ['dinner', 'have dinner'],
  ['coffee', 'get coffee'],
  ['a movie', 'see a movie'],
  ['tennis', 'play tennis'],
  ['a run', 'go for a run'],
  ['chess', 'play chess'],
  ['a study session', 'study together'],
  ['the gym', 'work out'],
  ['a swim', 'go swimming'],
];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const TIMES = ['9am', '10am', '11am', 'noon', '1pm', '2pm', '3pm', '4pm', '5pm', '6pm', '7pm', '8pm'];
const PLACES = ['the park', 'the library', 'Cafe Luna', 'the mall', 'the station', 'Rosa\'s', 'the beach', 'the club', 'the square', 'Mo\'s diner'];

function listPeople(people: string[]): string {
  return people.length <= 2 ? people.join(' and ') : `${people.slice(0, -1).join(', ')} and ${people.at(-1)}`;
}

interface Plan {
  day: string;
  time: string;
  place: string;
}

const SHIFT_WORDS = ['', 'an hour', 'two hours', 'three hours'];

export function makeSummarizeExample(knobs: SummarizeKnobs, rng: Rng): Omit<Example, 'id'> {
  const speakerCount = rng.int(2, knobs.speakers);
  const [host, guest, third] = rng.sample(NAMES, speakerCount);
  const [offer, deed] = rng.pick(ACTIVITIES);
  const turnTarget = rng.int(knobs.minTurns, knobs.maxTurns);
  const plan: Plan = { day: rng.pick(DAYS), time: rng.pick(TIMES), place: rng.pick(PLACES) };
  const turns: string[] = [];
  const say = (who: string, text: string) => turns.push(`${who}: ${text}`);

  // A relative date makes the summary compute the weekday from the day the chat was sent.
  let header = 'Dialogue:';
  let when = plan.day;
  if (rng.chance(knobs.relativeDays)) {
    const ahead = rng.int(1, 6);
    const sent = DAYS[(DAYS.indexOf(plan.day) - ahead + DAYS.length) % DAYS.length];
    header = `Dialogue (sent ${sent}):`;
    when = ahead === 1 ? 'tomorrow' : `in ${ahead} days`;
  }
  const on = when === plan.day ? `on ${when}` : when;
  say(host, rng.pick([`${offer} ${on}?`, `want to do ${offer} ${on}?`, `anyone up for ${offer} ${when}?`]));
  // Optional beats, each a fixed number of turns; the core is offer + details + agreement (3 turns).
  // Each beat is drawn with its chance, then fitted into the spare turns in a random order so none
  // crowds out the others. Every change of plan means the summary must keep the last value.
  const cost = { day: 2, third: 1, place: 2, time: 1, leave: 1 };
  const wanted = {
    day: rng.chance(knobs.changes),
    third: third !== undefined,
    place: rng.chance(knobs.changes),
    time: rng.chance(knobs.changes),
    leave: third !== undefined && rng.chance(knobs.changes / 2),
  };
  let spare = turnTarget - 3;
  const beats = new Set<keyof typeof cost>();
  for (const beat of rng.sample(Object.keys(cost) as (keyof typeof cost)[], 5)) {
    // Leaving needs the third person to have joined first.
    const needs = beat === 'leave' && !beats.has('third') ? cost.third : 0;
    if (wanted[beat] && cost[beat] + needs <= spare) {
      beats.add(beat);
      if (needs) beats.add('third');
      spare -= cost[beat] + needs;
    }
  }
  if (beats.has('day')) {
    const newDay = rng.pick(DAYS.filter((d) => d !== plan.day));
    say(guest, rng.pick([`can't ${on}. ${newDay}?`, `${when} is bad for me, how about ${newDay}?`]));
    say(host, rng.pick([`${newDay} works.`, `ok, ${newDay} then.`]));
    plan.day = newDay;
  }
  say(guest, rng.pick([`sure. ${plan.time} at ${plan.place}?`, `ok! ${plan.place} at ${plan.time}?`, `yes, meet at ${plan.place}, ${plan.time}?`]));
  const joined = [host, guest];
  if (beats.has('third')) {
    if (beats.has('leave') || rng.chance(0.5)) {
      say(third!, rng.pick(['count me in!', 'can I join?', 'I\'ll come too.']));
      joined.push(third!);
    } else {
      say(third!, rng.pick(['I can\'t make it, sorry.', 'not me, I\'m busy.', 'I\'ll skip this one.']));
    }
  }
  if (beats.has('place')) {
    const newPlace = rng.pick(PLACES.filter((p) => p !== plan.place));
    say(rng.pick(joined), rng.pick([`actually, ${newPlace} instead?`, `${plan.place} is closed, ${newPlace}?`, `what about ${newPlace}?`]));
    say(host, rng.pick([`fine, ${newPlace}.`, `${newPlace} it is.`, 'ok, sure.']));
    plan.place = newPlace;
  }
  if (beats.has('time')) {
    const index = TIMES.indexOf(plan.time);
    if (rng.chance(knobs.relativeTimes)) {
      // A shift that stays within the day's hours.
      const shifts = [-3, -2, -1, 1, 2, 3].filter((h) => TIMES[index + h] !== undefined);
      const shift = rng.pick(shifts);
      const words = `${SHIFT_WORDS[Math.abs(shift)]} ${shift > 0 ? 'later' : 'earlier'}`;
      say(host, rng.pick([`can we make it ${words}?`, `let's start ${words}.`, `${words}?`]));
      plan.time = TIMES[index + shift]!;
    } else {
      const newTime = rng.pick(TIMES.filter((t) => t !== plan.time));
      say(host, rng.pick([`make it ${newTime}?`, `can we do ${newTime} instead?`]));
      plan.time = newTime;
    }
  }
  if (beats.has('leave')) {
    // Someone who joined drops out again: the summary must not name them.
    const leaver = joined.pop()!;
    say(leaver, rng.pick(['sorry, I can\'t come after all.', 'something came up, count me out.', 'I have to skip it now, sorry.']));
  }
  // Fillers and the closing agreement come from someone other than the last speaker.
  const nextSpeaker = () => rng.pick(joined.filter((p) => p !== turns.at(-1)!.split(':')[0]));
  while (spare > 0) {
    say(nextSpeaker(), rng.pick(['great', 'see you!', 'perfect', 'can\'t wait', ':)']));
    spare -= 1;
  }
  say(nextSpeaker(), rng.pick(['sounds good!', 'deal.', 'see you there.', 'ok, done.']));

  const summary = `${listPeople(joined)} will ${deed} at ${plan.place} on ${plan.day} at ${plan.time}.`;
  return {
    prompt: `${header}\n${turns.join('\n')}\nSummary:`,
    target: ` ${summary}`,
    meta: { references: [summary] },
  };
}

/** References of an example: meta.references when present (multi-reference sets), else the target. */
export function referencesOf(example: Example): string[] {
  const refs = example.meta?.references;
  if (Array.isArray(refs) && refs.length > 0 && refs.every((r) => typeof r === 'string')) return refs as string[];
  return [example.target];
}

/**
 * The facts a summary states, as `slot=value` strings: each person, the activity, the place, the
 * day and the time. Read from anywhere in the text by the dialogue vocabulary, so a summary that
 * breaks the template still gets credit for the facts it names, and one that names several days
 * is charged for each.
 */
export function summaryFacts(text: string): Set<string> {
  const facts = new Set<string>();
  const has = (value: string) => new RegExp(`(^|[^A-Za-z0-9'])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`).test(text);
  for (const name of NAMES) if (has(name)) facts.add(`person=${name}`);
  for (const [, deed] of ACTIVITIES) if (has(deed)) facts.add(`activity=${deed}`);
  for (const place of PLACES) if (has(place)) facts.add(`place=${place}`);
  for (const day of DAYS) if (has(day)) facts.add(`day=${day}`);
  for (const time of TIMES) if (has(time)) facts.add(`time=${time}`);
  return facts;
}

/** F1 of the facts a prediction states against the reference's (1 when both state none). */
export function factF1(prediction: string, reference: string): number {
  const predicted = summaryFacts(prediction);
  const expected = summaryFacts(reference);
  if (predicted.size === 0 && expected.size === 0) return 1;
  let right = 0;
  for (const fact of predicted) if (expected.has(fact)) right += 1;
  return right === 0 ? 0 : (2 * right) / (predicted.size + expected.size);
}

export async function scoreRouge(predictions: string[], examples: Example[]): Promise<Record<string, number>> {
  checkAligned(predictions, examples);
  const scores = meanRouge(predictions, examples.map(referencesOf));
  return { rouge1: scores.rouge1, rouge2: scores.rouge2, rougeL: scores.rougeL };
}

export const ROUGE_METRICS = [
  { name: 'rouge1', direction: 'higher', description: 'ROUGE-1 F1 (unigram overlap), mean over examples; max over references.' },
  { name: 'rouge2', direction: 'higher', description: 'ROUGE-2 F1 (bigram overlap), mean over examples; max over references.' },
  {
    name: 'rougeL',
    direction: 'higher',
    description: 'ROUGE-L F1 (longest common subsequence, sentence level), mean over examples; max over references.',
  },
] as const;

export const summarizeTask: TaskDef<SummarizeKnobs> = {
  id: 'summarize',
  title: 'Dialogue summarisation (synthetic)',
  tier: 'synthetic',
  family: 'simple',
  description:
    'A 3-8 turn chat between two or three friends settling an activity, day, time and place, with changes ' +
    'of day, place and time (some relative: "in 3 days", "an hour later") and people joining or dropping out; ' +
    'the model writes the one-sentence summary of the final plan. ' +
    'Primary metric fact F1: the share of the final plan\'s facts (people, activity, place, day, time) the summary gets right, ' +
    'against those it states; ROUGE-L is kept as a secondary metric, but the template\'s own words earn most of it ' +
    '(a summary with every fact wrong still scores about 0.5).',
  promptTemplate: 'Dialogue:\n{speaker}: {text}\n...\nSummary: {who} will {what} at {where} on {day} at {time}.',
  knobs: summarizeKnobs,
  metrics: [
    {
      name: 'fact_f1',
      direction: 'higher',
      description:
        'F1 of the facts of the final plan the summary states (each person, the activity, place, day and time) against the reference, mean over examples: ' +
        'the template alone scores 0, unlike ROUGE.',
    },
    ...ROUGE_METRICS.map((m) => ({ ...m })),
    {
      name: 'exact_match',
      direction: 'higher',
      description: 'Share of summaries equal to the reference: every fact right (ROUGE forgives one wrong word in fourteen).',
    },
  ],
  primaryMetric: 'fact_f1',
  scoring: { kind: 'generate', maxNewTokens: 48, stop: '\n' },
  async load({ seed, knobs }) {
    const k = parseKnobs('summarize', summarizeKnobs, knobs);
    return generateSplits('summarize', k, seed, (rng) => makeSummarizeExample(k, rng));
  },
  async score(predictions, examples) {
    checkAligned(predictions, examples);
    const f1 = predictions.map((prediction, i) => factF1(prediction, examples[i]!.target));
    return {
      fact_f1: f1.length ? f1.reduce((a, b) => a + b, 0) / f1.length : 0,
      ...(await scoreRouge(predictions, examples)),
      exact_match: accuracy(predictions, examples.map((e) => e.target)),
    };
  },
};
