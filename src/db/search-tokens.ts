/**
 * Prefix search without `LIKE '%x%'`: a person's names and address are cut into folded tokens,
 * stored one row each beside an index, and a search word becomes the index range of tokens that
 * start with it. Here in the toolkit because the members room and the migration that backfills
 * the tokens both need the same cutting.
 *
 * Folding: lower case; æ → ae, ø → o, œ → oe, ß → ss and similar letters that do not decompose;
 * every other diacritic stripped (å → a, é → e, ö → o); then «aa» → «a», the old spelling of å,
 * so «Ødegård», «Odegaard» and «odegard» all fold to «odegard». Search words fold the same way.
 */

/** Tokens and search words are cut to this length (the column's width). */
export const SEARCH_TOKEN_MAX = 100;
/** A search needs one word at least this long, so no search reads a large part of the index. */
export const SEARCH_WORD_MIN = 2;
export const SEARCH_WORDS_MAX = 5;

const LETTERS: Record<string, string> = {
  æ: 'ae',
  ø: 'o',
  œ: 'oe',
  ß: 'ss',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
};
const UNDECOMPOSED = new RegExp(`[${Object.keys(LETTERS).join('')}]`, 'g');
const MARKS = /\p{M}/gu;
/** Characters kept in a token: letters, digits and the separators of names and addresses. */
const UNWANTED = /[^\p{L}\p{N}@.\-_+'’]/gu;
const WORD_CHAR = /[\p{L}\p{N}]/u;

export function foldForSearch(s: string): string {
  return s
    .toLowerCase()
    .replace(UNDECOMPOSED, (c) => LETTERS[c])
    .normalize('NFKD')
    .replace(MARKS, '')
    .replace(UNWANTED, '')
    .replace(/aa/g, 'a')
    .slice(0, SEARCH_TOKEN_MAX);
}

/** The word itself and every tail of it that starts after a separator («anne-marie» → also «marie»). */
function tails(word: string, keep: (start: number) => boolean = () => true): string[] {
  const out = [word];
  for (let i = 1; i < word.length; i++)
    if (!WORD_CHAR.test(word[i - 1]) && WORD_CHAR.test(word[i]) && keep(i)) out.push(word.slice(i));
  return out;
}

/**
 * The tokens of one person: each word of the names with its tails, and the address with the tails
 * that start after a separator in it («kari.nordmann@example.no» → «nordmann@example.no»,
 * «example.no»), except the top-level domain alone, which nearly every member shares.
 */
export function searchTokens(p: {
  email: string | null;
  firstName?: string | null;
  lastName?: string | null;
}): string[] {
  const tokens = new Set<string>();
  for (const name of [p.firstName, p.lastName])
    for (const word of (name ?? '').split(/\s+/))
      for (const t of tails(foldForSearch(word))) if (WORD_CHAR.test(t)) tokens.add(t);
  if (p.email) {
    const email = foldForSearch(p.email);
    const tld = email.lastIndexOf('.') > email.indexOf('@') ? email.lastIndexOf('.') : email.length;
    for (const t of tails(email, (start) => start <= tld)) tokens.add(t);
  }
  return [...tokens];
}

/** The words of a search, folded, without repeats; empty words and the ones past the fifth dropped. */
export function searchWords(q: string): string[] {
  const words = q
    .split(/[\s,;]+/)
    .map(foldForSearch)
    .filter((w) => WORD_CHAR.test(w));
  return [...new Set(words)].slice(0, SEARCH_WORDS_MAX);
}

/**
 * The tokens that start with `prefix` are exactly those in [low, high) in code point order (a
 * binary collation): high is the prefix with its last character moved one code point on.
 */
export function prefixRange(prefix: string): [string, string] {
  const chars = [...prefix];
  const last = chars.pop()!.codePointAt(0)!;
  let next = last + 1;
  if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
  // Past the last code point nothing can follow; U+10FFFF never survives folding anyway.
  if (next > 0x10ffff) return [prefix, `${prefix}\u{10FFFF}`];
  return [prefix, chars.join('') + String.fromCodePoint(next)];
}
