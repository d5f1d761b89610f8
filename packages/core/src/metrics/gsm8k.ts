// GSM8K answer extraction and exact match, following the reference evaluation: the answer is the
// number after '####'; commas, '$' and a trailing '.' are dropped; numbers compare by value, so
// '2.50' equals '2.5' and '1,234' equals '1234'.

const ANSWER_AFTER_HASHES = /####\s*\$?\s*(-?[$0-9.,]+)/;

/** The number after '####' as it is written (commas and '$' removed), or null when there is none. */
export function extractGsm8kAnswer(text: string): string | null {
  const match = ANSWER_AFTER_HASHES.exec(text);
  if (!match) return null;
  const cleaned = match[1].replace(/[$,]/g, '').replace(/\.+$/, '');
  return /^-?(\d+\.?\d*|\.\d+)$/.test(cleaned) ? cleaned : null;
}

/** The number after '####' as a value, or null. */
export function parseGsm8kAnswer(text: string): number | null {
  const answer = extractGsm8kAnswer(text);
  return answer === null ? null : Number(answer);
}

/** 1 when the prediction's '####' number equals the reference's by value, else 0. */
export function gsm8kExactMatch(prediction: string, reference: string | number): number {
  const predicted = parseGsm8kAnswer(prediction);
  const expected = typeof reference === 'number' ? reference : parseGsm8kAnswer(reference);
  if (predicted === null || expected === null) return 0;
  return Math.abs(predicted - expected) <= 1e-9 * Math.max(1, Math.abs(expected)) ? 1 : 0;
}
