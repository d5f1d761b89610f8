// Synthetic NLI: premise + hypothesis -> entailment / neutral / contradiction, built from
// quantified facts (all / some / no / not all), facts about named individuals, negation and
// synonym swaps. Every label is produced from the same sentence forms with similar word overlap
// and negation words, so surface overlap does not give the label away (the tests check a
// bag-of-words baseline stays near chance).
import { z } from 'zod';
import { accuracy, checkAligned } from '../metrics/match.ts';
import { parseKnobs, syntheticSplitKnobs } from './knobs.ts';
import type { Rng } from './rng.ts';
import { generateSplits } from './splits.ts';
import type { Example, TaskDef } from './types.ts';

export const NLI_LABELS = ['entailment', 'neutral', 'contradiction'] as const;
export type NliLabel = (typeof NLI_LABELS)[number];

export const nliKnobs = z.strictObject({
  ...syntheticSplitKnobs({ train: 2000, valid: 100, test: 200 }),
  paraphrase: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('Probability of swapping a noun or property for its synonym in the hypothesis.'),
  distractors: z.number().int().min(0).max(3).default(1).describe('Most unrelated facts mixed into the premise.'),
});
export type NliKnobs = z.infer<typeof nliKnobs>;

// Noun groups: [singular, plural] for a word and its synonym.
const NOUNS: [string, string][][] = [
  [['dog', 'dogs'], ['hound', 'hounds']],
  [['doctor', 'doctors'], ['physician', 'physicians']],
  [['car', 'cars'], ['automobile', 'automobiles']],
  [['child', 'children'], ['kid', 'kids']],
  [['student', 'students'], ['pupil', 'pupils']],
  [['shop', 'shops'], ['store', 'stores']],
  [['film', 'films'], ['movie', 'movies']],
  [['road', 'roads'], ['street', 'streets']],
  [['sofa', 'sofas'], ['couch', 'couches']],
  [['gift', 'gifts'], ['present', 'presents']],
  [['boat', 'boats'], ['ship', 'ships']],
  [['lawyer', 'lawyers'], ['attorney', 'attorneys']],
];
// Property dimensions with two complementary poles (in this world, whatever is not big is small),
// each pole with its synonyms. Opposite poles let a positive sentence entail a negative one.
const PROPERTIES: [string[], string[]][] = [
  [['big', 'large'], ['small', 'tiny']],
  [['fast', 'quick'], ['slow', 'sluggish']],
  [['happy', 'glad'], ['sad', 'unhappy']],
  [['quiet', 'silent'], ['loud', 'noisy']],
  [['cheap', 'inexpensive'], ['expensive', 'costly']],
  [['wet', 'damp'], ['dry', 'arid']],
  [['rich', 'wealthy'], ['poor', 'broke']],
  [['sick', 'ill'], ['healthy', 'well']],
  [['awake', 'alert'], ['asleep', 'sleeping']],
  [['clean', 'spotless'], ['dirty', 'filthy']],
  [['calm', 'relaxed'], ['angry', 'mad']],
  [['smart', 'clever'], ['dull', 'dim']],
];
const PEOPLE = ['Sam', 'Ann', 'Tom', 'Mia', 'Leo', 'Eva', 'Max', 'Zoe', 'Ben', 'Ivy'];

/** Quantified forms: A = all X are P, S = some X are P, N = no X is P, O = some X are not P. */
type Form = 'A' | 'S' | 'N' | 'O';
const FORMS: readonly Form[] = ['A', 'S', 'N', 'O'];
/** "All X are not-P" is "No X is P", and so on: the form after flipping the property's pole. */
const POLE_FLIP: Record<Form, Form> = { A: 'N', S: 'O', N: 'A', O: 'S' };

interface Words {
  noun: [string, string];
  prop: string;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function sayForm(form: Form, { noun: [one, many], prop }: Words, rng: Rng): string {
  const options: Record<Form, string[]> = {
    A: [`All ${many} are ${prop}.`, `Every ${one} is ${prop}.`, `Each ${one} is ${prop}.`],
    S: [`Some ${many} are ${prop}.`, `A few ${many} are ${prop}.`, `There are ${many} that are ${prop}.`],
    N: [`No ${many} are ${prop}.`, `No ${one} is ${prop}.`, `None of the ${many} are ${prop}.`],
    O: [`Some ${many} are not ${prop}.`, `Not all ${many} are ${prop}.`, `Not every ${one} is ${prop}.`],
  };
  return rng.pick(options[form]);
}

function sayMember(person: string, [one, many]: [string, string], rng: Rng): string {
  return rng.pick([`${person} is ${article(one)} ${one}.`, `${person} is one of the ${many}.`]);
}

function sayIndividual(person: string, prop: string, negated: boolean, rng: Rng): string {
  if (!negated) return `${person} is ${prop}.`;
  return rng.pick([`${person} is not ${prop}.`, `${person} isn't ${prop}.`]);
}

// What a quantified premise says about a quantified hypothesis on the same noun and property pole
// (non-empty classes assumed, as everyday reading does).
const FORM_RELATION: Record<Form, Record<Form, NliLabel>> = {
  A: { A: 'entailment', S: 'entailment', N: 'contradiction', O: 'contradiction' },
  S: { A: 'neutral', S: 'entailment', N: 'contradiction', O: 'neutral' },
  N: { A: 'contradiction', S: 'contradiction', N: 'entailment', O: 'entailment' },
  O: { A: 'contradiction', S: 'neutral', N: 'neutral', O: 'entailment' },
};
// What "<form> + person is an X" says about "person is P" (index 0) and "person is not P" (index 1).
const MEMBER_RELATION: Record<Form, [NliLabel, NliLabel]> = {
  A: ['entailment', 'contradiction'],
  S: ['neutral', 'neutral'],
  N: ['contradiction', 'entailment'],
  O: ['neutral', 'neutral'],
};

interface Pair {
  premise: string[];
  hypothesis: string;
  /** Noun groups used, so distractors avoid them. */
  nounsUsed: number[];
}

/** One pair with the requested label, or null when this draw's pattern cannot produce it. */
function makePair(label: NliLabel, knobs: NliKnobs, rng: Rng): Pair | null {
  const nounIndex = rng.int(0, NOUNS.length - 1);
  const dimension = PROPERTIES[rng.int(0, PROPERTIES.length - 1)];
  const premisePole = rng.int(0, 1);
  const premiseWords: Words = { noun: NOUNS[nounIndex][0], prop: dimension[premisePole][0] };
  const hypothesisNoun = NOUNS[nounIndex][rng.chance(knobs.paraphrase) ? 1 : 0];
  const propOf = (pole: number) => dimension[pole][rng.chance(knobs.paraphrase) ? 1 : 0];
  const premiseForm = rng.pick(FORMS);
  const nounsUsed = [nounIndex];

  if (rng.chance(0.5)) {
    // Quantified hypothesis about the same noun; on the opposite pole its form flips.
    const candidates: { form: Form; pole: number }[] = [];
    for (const form of FORMS) {
      for (const pole of [0, 1]) {
        const sameSense = pole === premisePole ? form : POLE_FLIP[form];
        if (FORM_RELATION[premiseForm][sameSense] === label) candidates.push({ form, pole });
      }
    }
    if (candidates.length === 0) return null;
    const { form, pole } = rng.pick(candidates);
    return {
      premise: [sayForm(premiseForm, premiseWords, rng)],
      hypothesis: sayForm(form, { noun: hypothesisNoun, prop: propOf(pole) }, rng),
      nounsUsed,
    };
  }

  // A named member of the class; the hypothesis says whether the person has the property.
  const person = rng.pick(PEOPLE);
  // Nothing follows about someone the premise does not name: a neutral variant with another person.
  const aboutSomeoneElse = label === 'neutral' && rng.chance(0.25);
  const candidates: { negated: boolean; pole: number }[] = [];
  for (const negated of [false, true]) {
    for (const pole of [0, 1]) {
      const negatedInSense = negated !== (pole !== premisePole);
      if (aboutSomeoneElse || MEMBER_RELATION[premiseForm][negatedInSense ? 1 : 0] === label) candidates.push({ negated, pole });
    }
  }
  if (candidates.length === 0) return null;
  const { negated, pole } = rng.pick(candidates);
  const subject = aboutSomeoneElse ? rng.pick(PEOPLE.filter((p) => p !== person)) : person;
  const premise = [sayForm(premiseForm, premiseWords, rng), sayMember(person, premiseWords.noun, rng)];
  return {
    premise: rng.chance(0.3) ? premise.reverse() : premise,
    hypothesis: sayIndividual(subject, propOf(pole), negated, rng),
    nounsUsed,
  };
}

export function makeNliExample(knobs: NliKnobs, rng: Rng): Omit<Example, 'id'> | null {
  const label = rng.pick(NLI_LABELS);
  const pair = makePair(label, knobs, rng);
  if (pair === null) return null;
  const sentences = pair.premise.slice();
  const distractorCount = rng.int(0, knobs.distractors);
  for (let i = 0; i < distractorCount; i++) {
    // Another noun group entirely, so the distractor cannot decide the label.
    const free = NOUNS.map((_, index) => index).filter((index) => !pair.nounsUsed.includes(index));
    const nounIndex = rng.pick(free);
    pair.nounsUsed.push(nounIndex);
    const words: Words = { noun: NOUNS[nounIndex][0], prop: rng.pick(rng.pick(PROPERTIES))[0] };
    sentences.splice(rng.int(0, sentences.length), 0, sayForm(rng.pick(FORMS), words, rng));
  }
  return {
    prompt: `Premise: ${sentences.join(' ')}\nHypothesis: ${pair.hypothesis}\nLabel:`,
    target: ` ${label}`,
    meta: { label, premise: sentences.join(' '), hypothesis: pair.hypothesis },
  };
}

export async function scoreNli(predictions: string[], examples: Example[]): Promise<Record<string, number>> {
  checkAligned(predictions, examples);
  return { acc: accuracy(predictions, examples.map((example) => example.target)) };
}

export const nliTask: TaskDef<NliKnobs> = {
  id: 'nli',
  title: 'Natural language inference (synthetic)',
  tier: 'synthetic',
  family: 'simple',
  description:
    'Premise and hypothesis built from quantified facts (all, some, no, not all), facts about named ' +
    'individuals, negation and synonym swaps, plus unrelated distractor facts; labels are balanced. ' +
    'Scored by the loglikelihood of each label.',
  promptTemplate: 'Premise: {premise}\nHypothesis: {hypothesis}\nLabel: {entailment|neutral|contradiction}',
  knobs: nliKnobs,
  metrics: [{ name: 'acc', direction: 'higher', description: 'Share of pairs whose most likely label is the gold label.' }],
  primaryMetric: 'acc',
  scoring: { kind: 'choice', choices: NLI_LABELS.map((label) => ` ${label}`) },
  async load({ seed, knobs }) {
    const k = parseKnobs('nli', nliKnobs, knobs);
    return generateSplits('nli', k, seed, (rng) => makeNliExample(k, rng));
  },
  score: scoreNli,
};
