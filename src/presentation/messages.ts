import type { z } from 'zod';

/**
 * Validation messages in both languages: the API answers in English (CONTRACT), the admin pages
 * show the Norwegian text. Each schema names its messages from this catalogue (`msg(MSG.email)`),
 * so the English text zod reports is always one of ours, and nbMessage finds its Norwegian by
 * that exact text. No zod default text is ever shown or translated.
 */

export interface Message {
  readonly en: string;
  readonly nb: string;
}

const NORWEGIAN = new Map<string, string>();

/** Every message is made here, which files its Norwegian under its English text. */
function message(en: string, nb: string): Message {
  if ((NORWEGIAN.get(en) ?? nb) !== nb) throw new Error(`two Norwegian texts for "${en}"`);
  NORWEGIAN.set(en, nb);
  return { en, nb };
}

/** Parameterised messages take constants from the schemas, never user input (each one is kept). */
export const MSG = {
  missing: message('must be given', 'Må fylles ut.'),
  required: message('must not be empty', 'Må fylles ut.'),
  text: message('must be a string', 'Må være tekst.'),
  maxLength: (n: number) => message(`must be at most ${n} characters`, `Kan ha høyst ${n} tegn.`),
  minLength: (n: number) => message(`must be at least ${n} characters`, `Må ha minst ${n} tegn.`),
  singleLine: message(
    'must be a single line without control characters',
    'Må være én linje uten kontrolltegn.',
  ),
  plainText: message('must not contain control characters', 'Kan ikke inneholde kontrolltegn.'),
  reservedMarker: message(
    'must not contain the reserved text %%KK_',
    'Kan ikke inneholde teksten %%KK_ (reservert for tjenesten).',
  ),
  noSpaces: message('must not contain spaces', 'Kan ikke inneholde mellomrom.'),
  httpUrl: message(
    'must be an absolute http: or https: URL',
    'Må være en fullstendig adresse som begynner med https://',
  ),
  httpsUrl: message(
    'must be an absolute https:// URL',
    'Må være en fullstendig adresse som begynner med https://',
  ),
  dateTime: message(
    'must be an ISO 8601 date-time with offset, e.g. 2026-12-03T18:00:00+01:00',
    'Må være en dato og et klokkeslett.',
  ),
  date: message('must be a real date as YYYY-MM-DD, e.g. 2026-12-24', 'Må være en gyldig dato.'),
  notInFuture: message('must not be in the future', 'Kan ikke være frem i tid.'),
  email: message('must be a valid e-mail address', 'Må være en gyldig e-postadresse.'),
  phone: message('must be a phone number like +4791234567', 'Må være et telefonnummer, f.eks. +4791234567.'),
  channel: message('must be a short word like email, phone or letter', 'Velg en kanal.'),
  boolean: message('must be true or false', 'Må være ja eller nei.'),
  oneOf: (values: readonly string[]) =>
    message(`must be one of ${values.join(', ')}`, 'Velg en av verdiene i listen.'),
  literal: (value: string | boolean) =>
    message(`must be ${JSON.stringify(value)}`, `Må være ${JSON.stringify(value)}.`),
  wholeNumber: (min: number, max: number) =>
    message(`must be a whole number from ${min} to ${max}`, `Må være et helt tall fra ${min} til ${max}.`),
  cursor: message('invalid cursor', 'Ugyldig side.'),
  object: message('must be an object', 'Må være et objekt.'),
  list: message('must be a list', 'Må være en liste.'),
  commaList: message('must be a comma-separated list', 'Må være en kommaseparert liste.'),
  nothingToChange: message('nothing to change', 'Ingenting å endre.'),
  consentRequired: message('consent is required: { textVersion, givenAt? }', 'Samtykket må oppgis.'),
  eraseNeedsDone: message('erase: true needs status "done"', 'Sletting krever at forespørselen lukkes.'),
  blocksMin: message('must have at least 1 block', 'Nyhetsbrevet må ha minst én blokk.'),
  blocksMax: (n: number) =>
    message(`must have at most ${n} blocks`, `Nyhetsbrevet kan ha høyst ${n} blokker.`),
  sourcesMax: (n: number) => message(`must have at most ${n} sources`, `Høyst ${n} kilder.`),
  partnerIdsMax: (n: number) => message(`must have at most ${n} partner ids`, `Høyst ${n} salong-ID-er.`),
  eventsMin: message('must list at least 1 event', 'Velg minst én hendelse.'),
  eventsMax: (n: number) => message(`must list at most ${n} events`, `Høyst ${n} hendelser.`),
  httpsInProduction: message('must be an https: URL', 'Må være en adresse som begynner med https://'),
  addressesMin: message('must list at least 1 address', 'Oppgi minst én adresse.'),
  addressesMax: (n: number) => message(`must list at most ${n} addresses`, `Høyst ${n} adresser.`),
  searchWordMin: (n: number) =>
    message(`must have a word of at least ${n} letters or digits`, `Skriv minst ${n} bokstaver eller tall.`),
  outcome: message('must be one of the outcomes', 'Velg et utfall.'),
  // The rows of a CSV import (CONTRACT §11), reported by row number.
  consentTextVersion: (versions: readonly string[]) =>
    message(
      `must be a known consent text version: ${versions.join(', ')}`,
      'Ukjent versjon av samtykketeksten.',
    ),
  consentTime: message(
    'must be a date like 24.12.2025 or 2025-12-24, optionally with a time (Oslo time unless an offset is given)',
    'Må være en dato som 24.12.2025 eller 2025-12-24, eventuelt med klokkeslett.',
  ),
  consentTimeNeeded: message(
    'must be given with consentTextVersion',
    'Tidspunktet for samtykket (consentGivenAt) mangler.',
  ),
  consentVersionNeeded: message(
    'must be given with consentGivenAt',
    'Versjonen av samtykketeksten (consentTextVersion) mangler.',
  ),
  consentEvidenceMissing: message(
    'no consent evidence (consentTextVersion and consentGivenAt); withoutConsent=confirm mails a confirmation instead',
    'Mangler samtykke (consentTextVersion og consentGivenAt). Velg «send bekreftelse» for å be om samtykke på e-post.',
  ),
  csvTooManyFields: message(
    'has more fields than the header row',
    'Raden har flere felt enn overskriftsraden.',
  ),
  csvUnreadable: message('could not be read as CSV', 'Raden kunne ikke leses som CSV.'),
} as const;

/**
 * zod's `error` option: the English text of `m`, or «must be given» when the value is missing
 * altogether (a schema's own type check sees `undefined`).
 */
export function msg(m: Message): { error: (issue: z.core.$ZodRawIssue) => string } {
  return {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? MSG.missing.en : m.en),
  };
}

/** The Norwegian text of one of our messages; any other text (already Norwegian, a render error) as it is. */
export function nbMessage(english: string): string {
  return NORWEGIAN.get(english) ?? english;
}
