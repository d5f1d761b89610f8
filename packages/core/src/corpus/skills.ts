// Skill documents for pretraining: the abilities the tasks build on, taught in forms that are never
// a task's prompt template. Four families, each a function of an Rng:
// - facts: names and values defined, then referred to (copying from context, tracking state);
// - arithmetic: multi-step sums worked in sentences (no <<a*b=c>> annotations, no "#### N");
// - logic: entailment, negation and paraphrase stated as rules and reasoned examples;
// - dialogue: conversations (quoted speech) retold as narratives, or narratives told as speech.
// None of them writes "Table t(...)\nQ:", "Premise:/Hypothesis:/Label:", "Dialogue:/Summary:" or
// "Question:/Answer:", so no document is a task prompt; corpus.ts also drops any document whose
// hash-assigned home split is not train.
import type { Rng } from '../tasks/rng.ts';

export type SkillFamily = 'facts' | 'arithmetic' | 'logic' | 'dialogue';
export const SKILL_FAMILIES: readonly SkillFamily[] = ['facts', 'arithmetic', 'logic', 'dialogue'];

const PEOPLE = ['Ann', 'Bob', 'Cara', 'Dan', 'Eve', 'Finn', 'Gus', 'Hana', 'Ivan', 'Jo', 'Kim', 'Lea', 'Nina', 'Omar', 'Mia', 'Leo',
  'Ava', 'Noah', 'Zoe', 'Sam', 'Ivy', 'Ben', 'Lily', 'Rosa', 'Tim', 'Tom', 'Eva', 'Max', 'Priya', 'Yusuf', 'Mei', 'Jonas', 'Sara',
  'Pablo', 'Aiko', 'Ruth', 'Kofi', 'Lena', 'Marco', 'Tara'];
const THINGS = ['key', 'coin', 'ring', 'letter', 'map', 'watch', 'ticket', 'book', 'cup', 'lamp', 'scarf', 'shell', 'stone', 'badge'];
const CONTAINERS: [string, string][] = [['box', 'boxes'], ['drawer', 'drawers'], ['basket', 'baskets'], ['bag', 'bags'], ['jar', 'jars'],
  ['chest', 'chests'], ['tin', 'tins'], ['crate', 'crates'], ['case', 'cases'], ['pouch', 'pouches']];
const COLOURS = ['red', 'blue', 'green', 'yellow', 'black', 'white', 'grey', 'brown', 'orange', 'purple'];
const CITIES = ['Paris', 'Oslo', 'Rome', 'Lima', 'Cairo', 'Tokyo', 'Delhi', 'Quito', 'Accra', 'Hanoi', 'Perth', 'Riga', 'Bern', 'Dakar'];
const JOBS = ['baker', 'nurse', 'pilot', 'teacher', 'farmer', 'painter', 'driver', 'singer', 'tailor', 'chemist', 'builder', 'clerk'];
const GOODS = ['apples', 'eggs', 'loaves', 'pens', 'plates', 'books', 'seeds', 'tiles', 'candles', 'bottles', 'bricks', 'tickets',
  'oranges', 'buttons', 'chairs', 'boxes', 'coins', 'stamps', 'shells', 'cards'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const HOURS = ['9am', '10am', '11am', 'noon', '1pm', '2pm', '3pm', '4pm', '5pm', '6pm', '7pm', '8pm'];
const PLACES = ['the park', 'the library', 'Cafe Luna', 'the mall', 'the station', 'the beach', 'the club', 'the square',
  'the museum', 'the harbour', 'the market', 'the gym', 'the bakery', 'the garden'];
const ACTIVITIES: [string, string][] = [
  ['lunch', 'have lunch'], ['dinner', 'have dinner'], ['coffee', 'get coffee'], ['a movie', 'see a movie'], ['tennis', 'play tennis'],
  ['a run', 'go for a run'], ['chess', 'play chess'], ['a walk', 'go for a walk'], ['a swim', 'go swimming'], ['a concert', 'go to a concert'],
  ['a study session', 'study together'], ['the gym', 'work out'], ['a bike ride', 'ride bikes'], ['breakfast', 'have breakfast'],
];
const SYLLABLES = ['ar', 'den', 'bri', 'lo', 'ka', 'mir', 'tes', 'vo', 'nel', 'qua', 'ros', 'pim', 'tal', 'wen', 'dro', 'sil', 'fen',
  'gar', 'hol', 'jun', 'ket', 'lum', 'mor', 'nix', 'ost', 'pel', 'rin', 'sav', 'tor', 'ul', 'vex', 'yor', 'zan', 'bel', 'cor', 'dun'];
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** "thirty-four" for 34 (0..99); digits otherwise. */
export function numberWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 99) return String(n);
  if (n < 20) return NUMBER_WORDS[n]!;
  return TENS[Math.floor(n / 10)]! + (n % 10 ? `-${NUMBER_WORDS[n % 10]}` : '');
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
const listOf = (items: string[]) => (items.length <= 2 ? items.join(' and ') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);
/** An invented name ("Ardenbri"), so copying cannot lean on words seen elsewhere. */
function coined(rng: Rng, parts = rng.int(2, 3)): string {
  let s = '';
  for (let i = 0; i < parts; i++) s += rng.pick(SYLLABLES);
  return cap(s);
}
function distinct<T>(rng: Rng, make: () => T, count: number): T[] {
  const out = new Set<T>();
  for (let tries = 0; out.size < count && tries < count * 50; tries++) out.add(make());
  return [...out];
}

// ---------------------------------------------------------------- facts: define, then refer back

function containersStory(rng: Rng): string {
  const n = rng.int(2, 4);
  const colours = rng.sample(COLOURS, n);
  const [kind, kinds] = rng.pick(CONTAINERS);
  const names = distinct(rng, () => coined(rng, 2), n);
  if (names.length < n) return '';
  const things = rng.sample(THINGS, Math.min(n + 1, THINGS.length));
  const where = new Map<string, string>();
  const lines = [`There are ${numberWords(n)} ${kinds}.`];
  colours.forEach((c, i) => lines.push(`The ${c} ${kind} is called ${names[i]}.`));
  for (const thing of things) {
    const box = rng.pick(names);
    where.set(thing, box);
    lines.push(rng.pick([`The ${thing} is in ${box}.`, `Someone puts the ${thing} into ${box}.`, `${box} holds the ${thing}.`]));
  }
  for (let moves = rng.int(0, 2); moves > 0; moves--) {
    const thing = rng.pick(things);
    const to = rng.pick(names.filter((b) => b !== where.get(thing)));
    lines.push(rng.pick([`Later the ${thing} is moved from ${where.get(thing)} to ${to}.`, `Then ${rng.pick(PEOPLE)} takes the ${thing} out of ${where.get(thing)} and puts it in ${to}.`]));
    where.set(thing, to);
  }
  for (const thing of rng.sample(things, rng.int(1, Math.min(3, things.length)))) {
    const box = where.get(thing)!;
    const colour = colours[names.indexOf(box)];
    lines.push(rng.pick([`Where is the ${thing} now? In ${box}.`, `The ${thing} is in ${box}, the ${colour} ${kind}.`, `To find the ${thing}, open ${box}.`]));
  }
  return lines.join(' ');
}

function codeList(rng: Rng): string {
  const n = rng.int(3, 7);
  const keys = distinct(rng, () => coined(rng, rng.int(1, 2)).toLowerCase(), n);
  const values = keys.map(() => (rng.chance(0.5) ? String(rng.int(1, 999)) : coined(rng, 2)));
  const header = rng.pick(['Here is a list of codes.', 'The notebook lists these entries:', 'Settings:', 'The labels read as follows.']);
  const sep = rng.pick([': ', ' = ', ' is ', ' -> ']);
  const body = keys.map((k, i) => `${k}${sep}${values[i]}`).join(rng.pick(['\n', '; ', '. ']));
  const asks = rng.sample(keys.map((_, i) => i), rng.int(1, Math.min(3, n))).map((i) =>
    rng.pick([`The value of ${keys[i]} is ${values[i]}.`, `Looking up ${keys[i]} gives ${values[i]}.`, `${cap(keys[i]!)} was ${values[i]}.`]),
  );
  return `${header}\n${body}\n${asks.join(' ')}`;
}

function peopleFacts(rng: Rng): string {
  const n = rng.int(2, 4);
  const people = rng.sample(PEOPLE, n);
  const facts = people.map((p) => ({ p, city: rng.pick(CITIES), age: rng.int(18, 80), job: rng.pick(JOBS) }));
  const lines = facts.map(({ p, city, age, job }) =>
    rng.pick([`${p} lives in ${city}, is ${age} years old and works as a ${job}.`, `${p} is a ${job} from ${city}, aged ${age}.`, `${p}, ${age}, works as a ${job} in ${city}.`]),
  );
  for (const f of rng.sample(facts, rng.int(1, n))) {
    lines.push(
      rng.pick([
        `Who lives in ${f.city}? ${f.p} does.`,
        `How old is ${f.p}? ${cap(numberWords(f.age))}.`,
        `The ${f.job} is ${f.p}.`,
        `${f.p} is ${f.age}, so in ten years ${f.p} will be ${f.age + 10}.`,
        `Of them, ${f.p} is the one in ${f.city}.`,
      ]),
    );
  }
  const oldest = facts.reduce((a, b) => (b.age > a.age ? b : a));
  if (rng.chance(0.5) && facts.filter((f) => f.age === oldest.age).length === 1) lines.push(`The oldest of them is ${oldest.p}.`);
  return lines.join(' ');
}

function schemaProse(rng: Rng): string {
  const table = coined(rng, 2).toLowerCase() + rng.pick(['s', '_log', '_list', 'es']);
  const columns = distinct(rng, () => rng.pick(['id', 'title', 'owner', 'city', 'size', 'level', 'opened', 'price', 'kind', 'rank', 'country', 'weight', 'label', 'count', 'founded', 'height']), rng.int(2, 5));
  const lines = [
    rng.pick([`A database keeps a table named ${table}.`, `The records are stored in ${table}.`, `We made a table and called it ${table}.`]),
    `It has the columns ${listOf(columns)}.`,
  ];
  for (const col of rng.sample(columns, Math.min(columns.length, rng.int(1, 3)))) {
    lines.push(rng.pick([
      `The ${col} of each row is kept in the column ${col} of ${table}.`,
      `To compare rows by ${col}, read ${table}.${col}.`,
      `Every entry in ${table} has a ${col}.`,
      `Sorting ${table} by ${col} puts the rows in order of ${col}.`,
    ]));
  }
  lines.push(rng.pick([`So the table is ${table}, and its first column is ${columns[0]}.`, `Remember: ${table} has ${numberWords(columns.length)} columns.`]));
  return lines.join(' ');
}

function facts(rng: Rng): string {
  return rng.pick([containersStory, codeList, peopleFacts, schemaProse])(rng);
}

// ---------------------------------------------------------------- arithmetic worked in prose

const OPS: Record<string, (a: number, b: number) => number> = { plus: (a, b) => a + b, minus: (a, b) => a - b, times: (a, b) => a * b };

function show(n: number, rng: Rng): string {
  return n < 100 && rng.chance(0.2) ? numberWords(n) : String(n);
}

function workedStory(rng: Rng): string {
  const who = rng.pick(PEOPLE);
  const goods = rng.pick(GOODS);
  let x = rng.int(5, 60);
  const out = [`${who} starts with ${show(x, rng)} ${goods}.`];
  for (let steps = rng.int(2, 5); steps > 0; steps--) {
    const kind = rng.int(0, 4);
    if (kind === 0) {
      const b = rng.int(2, 40);
      out.push(rng.pick([`After ${b} more arrive, that is ${x} plus ${b}, which makes ${x + b}.`, `Adding ${b} gives ${x} + ${b} = ${x + b} ${goods}.`]));
      x += b;
    } else if (kind === 1 && x > 3) {
      const b = rng.int(1, x - 1);
      out.push(rng.pick([`${who} hands out ${b}, so ${x} minus ${b} leaves ${x - b}.`, `Taking away ${b} leaves ${x} - ${b} = ${x - b}.`]));
      x -= b;
    } else if (kind === 2 && x <= 100) {
      const m = rng.int(2, 5);
      out.push(rng.pick([`The amount grows ${m} times over: ${x} times ${m} is ${x * m}.`, `Multiplying by ${m} gives ${x} x ${m} = ${x * m}.`]));
      x *= m;
    } else if (kind === 3) {
      const d = [2, 3, 4, 5, 6].filter((v) => x % v === 0);
      if (!d.length) continue;
      const v = rng.pick(d);
      out.push(rng.pick([`Shared equally among ${v} people, each gets ${x} divided by ${v}, which is ${x / v}.`, `One ${v === 2 ? 'half' : `part in ${v}`} of ${x} is ${x / v}.`]));
      x = x / v;
    } else {
      const packs = rng.int(2, 6);
      const each = rng.int(2, 12);
      out.push(`${who} also gets ${packs} packs of ${each}: ${packs} times ${each} is ${packs * each}, and ${x} plus ${packs * each} is ${x + packs * each}.`);
      x += packs * each;
    }
  }
  out.push(rng.pick([`In the end ${who} has ${x} ${goods}.`, `So the total is ${x}.`, `That leaves ${who} with ${show(x, rng)} ${goods}.`]));
  return out.join(' ');
}

function factsOfNumbers(rng: Rng): string {
  const lines: string[] = [];
  for (let i = rng.int(3, 6); i > 0; i--) {
    const op = rng.pick(Object.keys(OPS));
    const a = rng.int(1, op === 'times' ? 12 : 99);
    const b = rng.int(1, op === 'times' ? 12 : op === 'minus' ? a : 99);
    const c = OPS[op]!(a, b);
    lines.push(rng.pick([`${show(a, rng)} ${op} ${show(b, rng)} is ${c}.`, `${cap(op)}: ${a} and ${b} give ${c}.`, `If you take ${a} ${op} ${b}, you get ${c}.`]));
  }
  return lines.join(' ');
}

function compareAndAverage(rng: Rng): string {
  const n = rng.int(2, 5);
  const values = Array.from({ length: n }, () => rng.int(1, 99));
  const sum = values.reduce((a, b) => a + b, 0);
  const lines = [`The numbers are ${listOf(values.map(String))}.`, `Their sum is ${sum}.`];
  const max = Math.max(...values);
  const min = Math.min(...values);
  lines.push(`The largest is ${max} and the smallest is ${min}, which differ by ${max - min}.`);
  if (sum % n === 0) lines.push(`The average is ${sum} divided by ${n}, that is ${sum / n}.`);
  const t = rng.int(1, 99);
  lines.push(`Of them, ${values.filter((v) => v > t).length} are greater than ${numberWords(t)}.`);
  return lines.join(' ');
}

function calendarSums(rng: Rng): string {
  const now = rng.int(2020, 2040);
  const born = rng.int(1940, now - 1);
  const day = rng.int(0, 6);
  const ahead = rng.int(1, 6);
  const hour = rng.int(0, 8);
  const shift = rng.int(1, 3);
  const lines = [
    rng.pick([`Someone born in ${born} turns ${now - born} in ${now}.`, `In ${now}, a person born in ${born} is ${now - born} years old.`]),
    rng.pick([`${cap(numberWords(ahead))} days after ${DAYS[day]} comes ${DAYS[(day + ahead) % 7]}.`, `If today is ${DAYS[day]}, then in ${ahead} days it is ${DAYS[(day + ahead) % 7]}.`]),
    `${cap(numberWords(shift))} hours after ${HOURS[hour]} it is ${HOURS[hour + shift]}.`,
  ];
  return rng.shuffle(lines).join(' ');
}

function arithmetic(rng: Rng): string {
  return rng.pick([workedStory, workedStory, factsOfNumbers, compareAndAverage, calendarSums])(rng);
}

// ---------------------------------------------------------------- logic: entailment, negation, paraphrase

const KINDS: [string, string, string][] = [
  // [member singular, member plural, wider class plural]
  ['heron', 'herons', 'birds'], ['dog', 'dogs', 'animals'], ['oak', 'oaks', 'trees'], ['violin', 'violins', 'instruments'],
  ['doctor', 'doctors', 'people'], ['car', 'cars', 'vehicles'], ['rose', 'roses', 'flowers'], ['sofa', 'sofas', 'pieces of furniture'],
  ['trout', 'trout', 'fish'], ['hammer', 'hammers', 'tools'], ['boat', 'boats', 'vessels'], ['apple', 'apples', 'fruits'],
];
const ADJ_PAIRS: [string, string, string][] = [
  // [word, synonym, opposite]
  ['big', 'large', 'small'], ['fast', 'quick', 'slow'], ['happy', 'glad', 'sad'], ['quiet', 'silent', 'loud'], ['cheap', 'inexpensive', 'expensive'],
  ['wet', 'damp', 'dry'], ['rich', 'wealthy', 'poor'], ['sick', 'ill', 'healthy'], ['awake', 'alert', 'asleep'], ['clean', 'spotless', 'dirty'],
  ['calm', 'relaxed', 'angry'], ['smart', 'clever', 'dull'], ['old', 'aged', 'young'], ['warm', 'hot', 'cold'],
];
const a = (w: string) => (/^[aeiou]/.test(w) ? `an ${w}` : `a ${w}`);

function syllogism(rng: Rng): string {
  const [one, many, wider] = rng.pick(KINDS);
  const [adj, syn, opp] = rng.pick(ADJ_PAIRS);
  const who = rng.pick(PEOPLE);
  return rng.pick([
    () => `If all ${many} are ${wider} and ${who} is ${a(one)}, then ${who} is one of the ${wider}.`,
    () => `All ${many} are ${adj}. ${who} is ${a(one)}. So ${who} is ${adj}, and therefore ${who} is not ${opp}.`,
    () => `No ${one} is ${adj}. Since ${who} is ${a(one)}, ${who} is not ${adj}; in this world that means ${who} is ${opp}.`,
    () => `Some ${many} are ${adj}. That does not tell us whether ${who}, who is ${a(one)}, is ${adj}: it may or may not be so.`,
    () => `Every ${one} is ${adj}. It follows that some ${many} are ${syn}, and that no ${one} is ${opp}.`,
    () => `Not every ${one} is ${adj}, so the claim that all ${many} are ${adj} is false.`,
    () => `If ${who} is ${adj}, then ${who} is ${syn}. ${who} is ${adj}. Hence ${who} is ${syn}.`,
  ])();
}

function negation(rng: Rng): string {
  const who = rng.pick(PEOPLE);
  const [adj, syn, opp] = rng.pick(ADJ_PAIRS);
  const [one, many] = rng.pick(KINDS);
  return rng.pick([
    () => `It is not the case that ${who} is ${adj}. In other words, ${who} is ${opp}.`,
    () => `"${who} is not ${adj}" says the same as "it is false that ${who} is ${adj}", and the opposite of "${who} is ${adj}".`,
    () => `To deny that all ${many} are ${adj} is to say that at least one ${one} is not ${adj}.`,
    () => `"No ${one} is ${opp}" and "every ${one} is ${adj}" say the same thing here.`,
    () => `If someone is ${adj}, they are not ${opp}. ${who} is ${opp}, so ${who} is not ${adj} and not ${syn} either.`,
  ])();
}

function paraphrase(rng: Rng): string {
  const [adj, syn, opp] = rng.pick(ADJ_PAIRS);
  const [one, many] = rng.pick(KINDS);
  const who = rng.pick(PEOPLE);
  return rng.pick([
    () => `${cap(adj)} means about the same as ${syn}. The opposite of ${adj} is ${opp}.`,
    () => `"${who} is ${adj}" can be put another way: "${who} is ${syn}".`,
    () => `"Each ${one} is ${adj}", "every ${one} is ${adj}" and "all ${many} are ${adj}" all mean the same.`,
    () => `"A few ${many} are ${adj}" means that some ${many} are ${adj}; it does not mean that all of them are.`,
    () => `Saying ${who} is ${syn} is another way of saying ${who} is ${adj}, so ${who} cannot be ${opp}.`,
  ])();
}

function logic(rng: Rng): string {
  const parts = Array.from({ length: rng.int(1, 3) }, () => rng.pick([syllogism, negation, paraphrase])(rng));
  return parts.join(' ');
}

// ---------------------------------------------------------------- dialogues retold as narratives

function dialogue(rng: Rng): string {
  const [host, guest, third] = rng.sample(PEOPLE, 3);
  const [offer, deed] = rng.pick(ACTIVITIES);
  let day = rng.pick(DAYS);
  let time = rng.pick(HOURS);
  let place = rng.pick(PLACES);
  const speech: string[] = [];
  const story: string[] = [];
  speech.push(rng.pick([`"How about ${offer} on ${day}?" ${host} asked ${guest}.`, `"${cap(offer)} on ${day}?" asked ${host}.`]));
  story.push(rng.pick([`${host} asked ${guest} about ${offer} on ${day}.`, `${host} suggested ${offer} on ${day}.`]));
  if (rng.chance(0.5)) {
    const next = rng.pick(DAYS.filter((d) => d !== day));
    speech.push(`"I can't on ${day}," ${guest} said. "${next}?"`);
    story.push(`${guest} could not make it on ${day} and offered ${next} instead, which ${host} accepted.`);
    day = next;
  }
  speech.push(`"Sure. ${cap(place)} at ${time}?" said ${guest}.`);
  if (rng.chance(0.4)) {
    const later = HOURS[Math.min(HOURS.indexOf(time) + rng.int(1, 2), HOURS.length - 1)]!;
    if (later !== time) {
      speech.push(`"Can we make it ${later}?" ${host} replied.`);
      story.push(`They moved the time from ${time} to ${later}.`);
      time = later;
    }
  }
  if (rng.chance(0.3)) {
    const other = rng.pick(PLACES.filter((p) => p !== place));
    speech.push(`"${cap(other)} is nicer," said ${host}. "Fine," said ${guest}.`);
    story.push(`${host} preferred ${other} to ${place}.`);
    place = other;
  }
  const people = [host, guest];
  if (rng.chance(0.35)) {
    speech.push(`"Can I come too?" asked ${third}. "Of course," said ${host}.`);
    story.push(`${third} asked to join and was welcome.`);
    people.push(third!);
  }
  speech.push(rng.pick([`"See you then," said ${host}.`, `"Great," ${guest} said.`]));
  const outcome = `${listOf(people)} will ${deed} at ${place} on ${day} at ${time}.`;
  const narrative = `${story.join(' ')} In the end, ${outcome}`;
  return rng.pick([
    () => `${speech.join(' ')}\n\nWhat happened: ${narrative}`,
    () => `${narrative}\n\nThis is how it was said: ${speech.join(' ')}`,
    () => `${speech.join(' ')}\nSo ${outcome}`,
  ])();
}

export const SKILL_MAKERS: Record<SkillFamily, (rng: Rng) => string> = { facts, arithmetic, logic, dialogue };
