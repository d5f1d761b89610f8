// The base model's mixed corpus: skill documents are deterministic, never in a task's prompt form,
// only from the train region of the hash split, and say true things (sums, recalled values); WordNet
// synsets become "words (pos): gloss" documents (the installed database is needed for one test only).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  mixedCorpus,
  SKILL_FAMILIES,
  skillDocuments,
  synsetDocument,
  WORDNET_DIR,
  wordnetDocuments,
  wordnetHashes,
  wordnetMissing,
} from '../src/corpus/index.ts';
import { homeSplit } from '../src/tasks/splits.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
// The markers of the four synthetic tasks' prompt templates (tasks/README.md) and GSM8K's answer format.
const TEMPLATE_MARKERS = [/^Table \w+\(/m, /^Q: /m, /SQL:/, /Premise:/, /Hypothesis:/, /Label:/, /^Dialogue( \(sent \w+\))?:/m, /Summary:/, /Question:/, /Answer:/, /<</, /####/];

describe('skill documents', () => {
  // Made once for all the tests below (a few seconds on a busy machine).
  const docs = Object.fromEntries(SKILL_FAMILIES.map((f) => [f, skillDocuments(3, f, 1500)]));

  it('are deterministic in the seed and differ across seeds', () => {
    expect(skillDocuments(3, 'facts', 50)).toEqual(docs.facts!.slice(0, 50));
    expect(skillDocuments(4, 'facts', 50)).not.toEqual(docs.facts!.slice(0, 50));
  });

  it('are distinct, from the train region of the split, and never in a task prompt form', () => {
    for (const family of SKILL_FAMILIES) {
      const list = docs[family]!;
      expect(new Set(list).size).toBe(list.length);
      for (const doc of list) {
        expect(homeSplit(doc)).toBe('train');
        for (const marker of TEMPLATE_MARKERS) expect(doc, `${family} document matches ${marker}`).not.toMatch(marker);
      }
    }
  }, 60_000);

  it('state correct arithmetic', () => {
    const ops: Record<string, (a: number, b: number) => number> = { plus: (a, b) => a + b, minus: (a, b) => a - b, times: (a, b) => a * b, '+': (a, b) => a + b, '-': (a, b) => a - b, x: (a, b) => a * b };
    let checked = 0;
    for (const doc of docs.arithmetic!) {
      for (const m of doc.matchAll(/\b(\d+) (plus|minus|times|\+|-|x) (\d+)(?: is|, which makes|, you get| leaves| =) (\d+)/g)) {
        expect(ops[m[2]!]!(Number(m[1]), Number(m[3])), m[0]).toBe(Number(m[4]));
        checked++;
      }
      for (const m of doc.matchAll(/(\d+) divided by (\d+), (?:which|that) is (\d+)/g)) {
        expect(Number(m[1]) / Number(m[2]), m[0]).toBe(Number(m[3]));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('recall the values they defined', () => {
    let checked = 0;
    for (const doc of docs.facts!) {
      for (const m of doc.matchAll(/(?:The value of|Looking up) (\w+) (?:is|gives) (\w+)\./g)) {
        expect(doc, m[0]).toMatch(new RegExp(`(^|\\n|; |\\. )${m[1]}(: | = | is | -> )${m[2]}(\\n|;|\\.|$)`));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('say where each thing is after it was moved', () => {
    let checked = 0;
    for (const doc of docs.facts!.filter((d) => d.startsWith('There are'))) {
      const where = new Map<string, string>();
      for (const sentence of doc.split(/(?<=\.) /)) {
        let m: RegExpExecArray | null;
        if ((m = /^The (\w+) is in (\w+)\.$/.exec(sentence)) && !where.has(m[1]!)) where.set(m[1]!, m[2]!);
        else if ((m = /^Someone puts the (\w+) into (\w+)\.$/.exec(sentence))) where.set(m[1]!, m[2]!);
        else if ((m = /^(\w+) holds the (\w+)\.$/.exec(sentence))) where.set(m[2]!, m[1]!);
        else if ((m = /the (\w+) is moved from \w+ to (\w+)\.$/.exec(sentence))) where.set(m[1]!, m[2]!);
        else if ((m = /takes the (\w+) out of \w+ and puts it in (\w+)\.$/.exec(sentence))) where.set(m[1]!, m[2]!);
        else if ((m = /^Where is the (\w+) now\? In (\w+)\.$/.exec(sentence))) {
          expect(m[2], doc).toBe(where.get(m[1]!));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('retell dialogues with the plan the speakers settled on', () => {
    for (const doc of docs.dialogue!.slice(0, 300)) {
      const outcome = /will .+ at (.+) on (\w+day) at (\w+)\./.exec(doc);
      expect(outcome, doc).not.toBeNull();
      const [, place, day, time] = outcome!;
      // The last place, day and time mentioned in the quoted speech are the ones retold.
      expect(doc.toLowerCase()).toContain(place!.toLowerCase());
      expect(doc).toContain(day!);
      expect(doc).toContain(time!);
    }
  });
});

describe('mixed corpus', () => {
  it('has the asked documents per source, shuffled together', () => {
    const docs = mixedCorpus({ seed: 9, tasks: 200, skills: { facts: 50, arithmetic: 40, logic: 30, dialogue: 20 }, wordnet: null });
    const count = (s: string) => docs.filter((d) => d.source === s).length;
    expect([count('tasks'), count('facts'), count('arithmetic'), count('logic'), count('dialogue')]).toEqual([200, 50, 40, 30, 20]);
    expect(docs.slice(0, 50).map((d) => d.source)).not.toEqual(Array(50).fill('tasks'));
    expect(mixedCorpus({ seed: 9, tasks: 200, skills: { facts: 50, arithmetic: 40, logic: 30, dialogue: 20 }, wordnet: null })).toEqual(docs);
  });
});

describe('WordNet documents', () => {
  it('turn a synset line into "words (pos): gloss"', () => {
    const line = '00597915 31 v 03 learn 0 larn 0 acquire 0 008 + 05752544 n 0302 ~ 00598278 v 0000 04 + 02 00 | gain knowledge or skills; "She learned dancing from her sister"  ';
    expect(synsetDocument(line)).toBe('learn, larn, acquire (verb): gain knowledge or skills; "She learned dancing from her sister"');
    expect(synsetDocument('00001740 00 a 01 able(a) 0 000 | (usually followed by `to\') having the necessary means')).toBe("able (adjective): (usually followed by `to') having the necessary means");
    expect(synsetDocument('  1 This software and database is being provided')).toBeNull();
  });

  const missing = wordnetMissing();
  it.skipIf(missing !== null)(`read from the installed database match the base recipe's hashes${missing ? ` (skipped: ${missing})` : ''}`, () => {
    const recipe = JSON.parse(readFileSync(path.join(here, '../models/base/recipe.json'), 'utf8'));
    expect(wordnetHashes(WORDNET_DIR)).toEqual(recipe.corpus.mix.wordnet.sha256);
    const docs = wordnetDocuments(WORDNET_DIR, recipe.corpus.mix.wordnet.sha256);
    expect(docs.length).toBeGreaterThan(100_000);
    expect(() => wordnetDocuments(WORDNET_DIR, { 'data.noun': '0'.repeat(64) })).toThrow(/differs from the recipe's/);
  }, 60_000);
});
