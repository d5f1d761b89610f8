// The pretraining corpus of the `base` model: the tasks' own language (as `pretrainCorpus` makes
// it), skill documents in other forms (skills.ts) and real English (WordNet glosses, wordnet.ts),
// mixed in one deterministic order from a seed. Every document whose hash-assigned home split is
// not train is dropped, as for the task-language corpus, so no valid or test prompt can be in it.
import { pretrainCorpus } from '../tasks/corpus.ts';
import { Rng } from '../tasks/rng.ts';
import { homeSplit, normalisePrompt } from '../tasks/splits.ts';
import { SKILL_FAMILIES, SKILL_MAKERS, type SkillFamily } from './skills.ts';
import { wordnetDocuments } from './wordnet.ts';

export * from './skills.ts';
export * from './wordnet.ts';

export interface MixedCorpusSpec {
  seed: number;
  /** Task prompts and (separately) targets, train split only, as `pretrainCorpus` makes them. */
  tasks: number;
  /** Documents per skill family. */
  skills: Record<SkillFamily, number>;
  /** WordNet synsets (all of them, or the first `documents`), from `dir`, checked against `sha256`. */
  wordnet?: { dir: string; sha256?: Record<string, string>; documents?: number } | null;
}

export interface CorpusDocument {
  text: string;
  /** 'tasks', a skill family, or 'wordnet'. */
  source: string;
}

/** Distinct skill documents of one family whose home split is train. */
export function skillDocuments(seed: number, family: SkillFamily, count: number): string[] {
  const rng = Rng.stream(seed, `corpus/skill/${family}`);
  const make = SKILL_MAKERS[family];
  const seen = new Set<string>();
  const out: string[] = [];
  for (let misses = 0; out.length < count; ) {
    const text = make(rng);
    const key = normalisePrompt(text);
    if (!text || homeSplit(text) !== 'train' || seen.has(key)) {
      if (++misses > count * 20 + 10_000) throw new Error(`skillDocuments: could not make ${count} distinct '${family}' documents (made ${out.length})`);
      continue;
    }
    seen.add(key);
    out.push(text);
  }
  return out;
}

/** All documents of the spec, shuffled together (deterministic in the seed). */
export function mixedCorpus(spec: MixedCorpusSpec): CorpusDocument[] {
  const docs: CorpusDocument[] = pretrainCorpus({ seed: spec.seed, documents: spec.tasks, targets: 'separate' }).map((text) => ({ text, source: 'tasks' }));
  for (const family of SKILL_FAMILIES) {
    for (const text of skillDocuments(spec.seed, family, spec.skills[family] ?? 0)) docs.push({ text, source: family });
  }
  if (spec.wordnet) {
    const all = wordnetDocuments(spec.wordnet.dir, spec.wordnet.sha256).filter((text) => homeSplit(text) === 'train');
    for (const text of all.slice(0, spec.wordnet.documents ?? all.length)) docs.push({ text, source: 'wordnet' });
  }
  return Rng.stream(spec.seed, 'corpus/mix').shuffle(docs);
}
