import type { CampaignStatus } from '../campaigns/campaign.entity';
import type { ConsentEventType } from '../members/consent-event.entity';
import type { MemberStatus, Source } from '../members/member.entity';
import type { RequestType } from '../privacy/privacy-request.entity';
import type { StaffRole } from '../staff/roles';

/** Norwegian (bokmål) names for the service's codes. */

export const CAMPAIGN_STATUS_LABELS: Record<CampaignStatus, string> = {
  draft: 'Utkast',
  scheduled: 'Planlagt',
  sending: 'Sendes',
  paused: 'Pauset',
  sent: 'Sendt',
  cancelled: 'Avbrutt',
};

export const MEMBER_STATUS_LABELS: Record<MemberStatus, string> = {
  pending: 'Venter på bekreftelse',
  active: 'Aktiv',
  unsubscribed: 'Meldt ut',
  restricted: 'Begrenset',
};

export const SOURCE_LABELS: Record<Source, string> = {
  'osme-mobile': 'Sothys OSME Mobile',
  'cosmenor-partner': 'Cosmenor Partner',
  web: 'Nettsiden',
  admin: 'Lagt inn av ansatte',
};

export const CONSENT_EVENT_LABELS: Record<ConsentEventType, string> = {
  signup: 'Innmelding (samtykke gitt)',
  confirmation: 'E-postadressen bekreftet',
  withdrawal: 'Meldt ut (samtykke trukket)',
  restriction: 'Behandling begrenset',
  'restriction-lifted': 'Begrensning opphevet',
  rectification: 'Opplysninger rettet',
  export: 'Innsyn (eksport)',
  erasure: 'Slettet',
};

export const CHANNEL_LABELS: Record<string, string> = {
  app: 'appen',
  'email-request': 'e-post',
  phone: 'telefon',
  link: 'avmeldingslenken',
  'one-click': 'ett-klikks-avmelding',
  'email-link': 'bekreftelseslenken',
  staff: 'ansatt',
  'privacy-link': 'personvernlenken',
  request: 'forespørsel',
  retention: 'sletterutine',
  email: 'e-post',
  letter: 'brev',
  'in-person': 'oppmøte',
  other: 'annet',
};

export const REQUEST_TYPE_LABELS: Record<RequestType, string> = {
  access: 'Innsyn',
  rectification: 'Retting',
  erasure: 'Sletting',
  restriction: 'Begrensning',
  portability: 'Dataportabilitet',
  objection: 'Protest',
  complaint: 'Klage',
};

export const ROLE_LABELS: Record<StaffRole, string> = {
  marketing: 'Markedsføring',
  privacy: 'Personvern',
  admin: 'Administrator',
};

/** How a request can arrive; stored as the code, shown by the label. */
export const REQUEST_CHANNELS = ['email', 'phone', 'letter', 'in-person', 'other'] as const;

export const BLOCK_TYPE_LABELS = { activity: 'Aktivitet', news: 'Nyhet', offer: 'Tilbud' } as const;

const ERROR_TRANSLATIONS: Array<[RegExp, string]> = [
  [/^must not be empty$/, 'Må fylles ut.'],
  [/^Invalid input: expected \w+, received undefined$/, 'Må fylles ut.'],
  [/^must be at most (\d+) characters$/, 'Kan ha høyst $1 tegn.'],
  [/^must be a single line without control characters$/, 'Må være én linje uten kontrolltegn.'],
  [/^must not contain control characters$/, 'Kan ikke inneholde kontrolltegn.'],
  [
    /^must not contain the reserved text %%KK_$/,
    'Kan ikke inneholde teksten %%KK_ (reservert for tjenesten).',
  ],
  [/^must not contain spaces$/, 'Kan ikke inneholde mellomrom.'],
  [/^must be an absolute http: or https: URL$/, 'Må være en fullstendig adresse som begynner med https://'],
  [/^must be an ISO 8601 date-time/, 'Må være en dato og et klokkeslett.'],
  [/^must be a real date/, 'Må være en gyldig dato.'],
  [/^must have at least 1 block$/, 'Nyhetsbrevet må ha minst én blokk.'],
  [/^must have at most (\d+) blocks$/, 'Nyhetsbrevet kan ha høyst $1 blokker.'],
  [/^must have at most (\d+) partner ids$/, 'Høyst $1 salong-ID-er.'],
  [/^must be a valid e-mail address$/, 'Må være en gyldig e-postadresse.'],
  [/^must not be in the future$/, 'Kan ikke være frem i tid.'],
  [/^must be a short word like email, phone or letter$/, 'Velg en kanal.'],
  [/^Too big: expected string to have <=(\d+) characters$/, 'Kan ha høyst $1 tegn.'],
  [/^Too small: expected string to have >=1 characters$/, 'Må fylles ut.'],
];

/** The service's validation messages are English (API); staff read Norwegian. Unknown ones pass through. */
export function translateError(message: string): string {
  for (const [re, no] of ERROR_TRANSLATIONS) if (re.test(message)) return message.replace(re, no);
  return message;
}
