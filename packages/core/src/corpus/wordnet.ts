// Real English for pretraining, read from an installed WordNet 3.0 database (Debian's `wordnet-base`
// puts it in /usr/share/wordnet). One document per synset: its words, part of speech and gloss, the
// gloss keeping WordNet's example sentences ("lemma (noun): gloss; "example""). The project ships
// none of this text: it is read from the package at pretraining time, checked against the file
// hashes a recipe records. Licence: WordNet 3.0 (Princeton University), free use with its notice.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const WORDNET_DIR = '/usr/share/wordnet';
export const WORDNET_FILES = ['data.noun', 'data.verb', 'data.adj', 'data.adv'] as const;
const POS: Record<string, string> = { n: 'noun', v: 'verb', a: 'adjective', s: 'adjective', r: 'adverb' };

/** The WordNet 3.0 licence, verbatim (/usr/share/doc/wordnet-base/copyright): its notice must go with every copy. */
export const WORDNET_LICENCE = `This software and database is being provided to you, the LICENSEE, by
Princeton University under the following license.  By obtaining, using
and/or copying this software and database, you agree that you have
read, understood, and will comply with these terms and conditions.:

Permission to use, copy, modify and distribute this software and
database and its documentation for any purpose and without fee or
royalty is hereby granted, provided that you agree to comply with
the following copyright notice and statements, including the disclaimer,
and that the same appear on ALL copies of the software, database and
documentation, including modifications that you make for internal
use or for distribution.

WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.

THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON
UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR
IMPLIED.  BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON
UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT-
ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE
OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT
INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR
OTHER RIGHTS.

The name of Princeton University or Princeton may not be used in
advertising or publicity pertaining to distribution of the software
and/or database.  Title to copyright in this software, database and
any associated documentation shall at all times remain with
Princeton University and LICENSEE agrees to preserve same.`;

/** Why WordNet cannot be read from `dir`, or null when all its data files are there. */
export function wordnetMissing(dir = WORDNET_DIR): string | null {
  const missing = WORDNET_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length === 0) return null;
  return `WordNet is not installed at ${dir} (missing ${missing.join(', ')}); on Debian/Ubuntu run \`apt-get install -y wordnet-base\``;
}

/** sha256 of each data file, to record in a recipe and check before use. */
export function wordnetHashes(dir = WORDNET_DIR): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of WORDNET_FILES) out[f] = createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex');
  return out;
}

/** One document per synset, in file order (nouns, verbs, adjectives, adverbs). */
export function wordnetDocuments(dir = WORDNET_DIR, expectedHashes?: Record<string, string>): string[] {
  const why = wordnetMissing(dir);
  if (why) throw new Error(why);
  if (expectedHashes) {
    const actual = wordnetHashes(dir);
    const differ = Object.keys(expectedHashes).filter((f) => actual[f] !== expectedHashes[f]);
    if (differ.length) {
      throw new Error(`WordNet at ${dir} differs from the recipe's (sha256 of ${differ.join(', ')}); the recipe was built on other files`);
    }
  }
  const docs: string[] = [];
  for (const f of WORDNET_FILES) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const doc = synsetDocument(line);
      if (doc) docs.push(doc);
    }
  }
  return docs;
}

/** "lemma, other lemma (noun): gloss; "example"" for a data.* line; null for header or blank lines. */
export function synsetDocument(line: string): string | null {
  if (!/^\d{8} /.test(line)) return null;
  const bar = line.indexOf(' | ');
  if (bar < 0) return null;
  const fields = line.slice(0, bar).split(' ');
  const pos = POS[fields[2]!];
  const count = parseInt(fields[3]!, 16);
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = fields[4 + 2 * i]!.replace(/\(\w+\)$/, '').replace(/_/g, ' ');
    if (!words.includes(word)) words.push(word);
  }
  const gloss = line.slice(bar + 3).trim();
  if (!pos || words.length === 0 || !gloss) return null;
  return `${words.join(', ')} (${pos}): ${gloss}`;
}
