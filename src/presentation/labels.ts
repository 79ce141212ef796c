/**
 * Norwegian (bokmål) names for the service's codes, one set per kind of code. Staff read the
 * admin pages; the member reads their own pages (/u/, /p/), where some names are plainer and
 * addressed to the person: those sets are the PUBLIC_ ones. The codes themselves belong to the
 * rooms; test/presentation/labels.test.ts checks that every code has its name.
 */

export const CAMPAIGN_STATUS_LABELS = {
  draft: 'Utkast',
  scheduled: 'Planlagt',
  sending: 'Sendes',
  paused: 'Pauset',
  sent: 'Sendt',
  cancelled: 'Avbrutt',
} satisfies Record<string, string>;

export const MEMBER_STATUS_LABELS = {
  pending: 'Venter på bekreftelse',
  active: 'Aktiv',
  unsubscribed: 'Meldt ut',
  restricted: 'Begrenset',
  bounced: 'Adressen virker ikke',
} satisfies Record<string, string>;

export const PUBLIC_MEMBER_STATUS_LABELS = {
  pending: 'Venter på bekreftelse',
  active: 'Medlem',
  unsubscribed: 'Meldt av',
  restricted: 'Behandlingen er begrenset',
  bounced: 'E-postadressen virker ikke',
} satisfies Record<keyof typeof MEMBER_STATUS_LABELS, string>;

export const SOURCE_LABELS = {
  'osme-mobile': 'Sothys OSME Mobile',
  'cosmenor-partner': 'Cosmenor Partner',
  web: 'Nettsiden',
  admin: 'Lagt inn av ansatte',
  import: 'Importert fra fil',
} satisfies Record<string, string>;

export const PUBLIC_SOURCE_LABELS: Record<keyof typeof SOURCE_LABELS, string> = {
  ...SOURCE_LABELS,
  admin: 'Kundeservice',
  import: 'Hentet fra en tidligere medlemsliste',
};

export const CONSENT_EVENT_LABELS = {
  signup: 'Innmelding (samtykke gitt)',
  confirmation: 'E-postadressen bekreftet',
  withdrawal: 'Meldt ut (samtykke trukket)',
  restriction: 'Behandling begrenset',
  'restriction-lifted': 'Begrensning opphevet',
  rectification: 'Opplysninger rettet',
  export: 'Innsyn (eksport)',
  erasure: 'Slettet',
  bounced: 'E-post kom i retur (adressen virker ikke)',
  imported: 'Importert fra fil',
} satisfies Record<string, string>;

export const PUBLIC_CONSENT_EVENT_LABELS = {
  signup: 'Innmelding med samtykke',
  confirmation: 'Bekreftet e-postadressen',
  withdrawal: 'Meldt av',
  restriction: 'Behandlingen begrenset',
  'restriction-lifted': 'Begrensningen opphevet',
  rectification: 'Opplysninger rettet',
  export: 'Innsyn i opplysningene',
  erasure: 'Sletting',
  bounced: 'E-post til deg kom i retur',
  imported: 'Hentet fra en tidligere medlemsliste',
} satisfies Record<keyof typeof CONSENT_EVENT_LABELS, string>;

/** How a consent event or a privacy request came in; staff read it inside a sentence («(appen)»). */
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
  complaint: 'spamklage',
  bounce: 'e-post i retur',
};

export const PUBLIC_CHANNEL_LABELS: Record<string, string> = {
  'email-link': 'Lenke i e-post',
  link: 'Avmeldingslenken',
  'one-click': 'Avmelding i e-postprogrammet',
  app: 'Appen',
  'email-request': 'E-post til oss',
  email: 'E-post',
  phone: 'Telefon',
  letter: 'Brev',
  staff: 'Kundeservice',
  'privacy-link': 'Personvernlenken',
  request: 'Henvendelse',
  retention: 'Automatisk sletting',
  'in-person': 'Oppmøte',
  other: 'Annet',
  complaint: 'Du merket e-post fra oss som søppelpost',
  bounce: 'E-post til deg kom i retur',
};

export const REQUEST_TYPE_LABELS = {
  access: 'Innsyn',
  rectification: 'Retting',
  erasure: 'Sletting',
  restriction: 'Begrensning',
  portability: 'Dataportabilitet',
  objection: 'Protest',
  complaint: 'Klage',
} satisfies Record<string, string>;

export const PUBLIC_REQUEST_TYPE_LABELS: Record<keyof typeof REQUEST_TYPE_LABELS, string> = {
  ...REQUEST_TYPE_LABELS,
  objection: 'Innsigelse',
};

/** How a privacy request ended (the codes staff choose when closing one); the member sees them too. */
export const REQUEST_OUTCOME_LABELS: Record<string, string> = {
  answered: 'Besvart',
  exported: 'Kopi av opplysningene utlevert',
  rectified: 'Opplysningene er rettet',
  restricted: 'Behandlingen er begrenset',
  erased: 'Slettet',
  'no-member': 'Ingen opplysninger om personen',
  refused: 'Avslått (begrunnelse i merknaden)',
  withdrawn: 'Trukket tilbake av personen',
  // Written by erasures before the codes above.
  'no member held with this address': 'Ingen opplysninger om personen',
};

export const PUBLIC_REQUEST_STATUS_LABELS = {
  open: 'Under behandling',
  done: 'Ferdig',
} satisfies Record<string, string>;

export const PUBLIC_DELIVERY_STATUS_LABELS = {
  queued: 'I kø',
  sending: 'Sendes',
  sent: 'Sendt',
  failed: 'Kunne ikke leveres',
  skipped: 'Ikke sendt',
} satisfies Record<string, string>;

export const ROLE_LABELS = {
  marketing: 'Markedsføring',
  privacy: 'Personvern',
  admin: 'Administrator',
} satisfies Record<string, string>;

export const BLOCK_TYPE_LABELS = {
  activity: 'Aktivitet',
  news: 'Nyhet',
  offer: 'Tilbud',
} satisfies Record<string, string>;

/** Why a campaign is paused (CONTRACT §9): by hand, or by the guardrail. */
export const PAUSED_REASON_LABELS = {
  manual: 'Pauset av en ansatt',
  'bounce-rate': 'Pauset automatisk: for mange adresser som ikke virker',
  'complaint-rate': 'Pauset automatisk: for mange spamklager',
} satisfies Record<string, string>;

/** The events the apps are told about (CONTRACT §10). */
export const EVENT_TYPE_LABELS = {
  'member.created': 'Nytt medlem',
  'member.confirmed': 'Bekreftet',
  'member.updated': 'Endret',
  'member.unsubscribed': 'Meldt ut',
  'member.bounced': 'Adressen virker ikke',
  'member.restricted': 'Behandling begrenset',
  'member.unrestricted': 'Begrensning opphevet',
  'member.erased': 'Slettet',
} satisfies Record<string, string>;

/** How a CSV import stands (CONTRACT §11). */
export const IMPORT_STATUS_LABELS = {
  running: 'Importeres',
  completed: 'Ferdig',
  failed: 'Stoppet av en feil',
  interrupted: 'Avbrutt',
} satisfies Record<string, string>;

/** Why a webhook endpoint was switched off. */
export const WEBHOOK_DISABLED_LABELS = {
  gone: 'Slått av: mottakeren svarte 410 Gone',
  failing: 'Slått av: har feilet i 3 døgn',
} satisfies Record<string, string>;

/** Kinds of report from the mail system (CONTRACT §9). */
export const REPORT_KIND_LABELS = {
  hard: 'Adressen virker ikke',
  soft: 'Midlertidig ikke levert',
  complaint: 'Spamklage',
} satisfies Record<string, string>;

/** Titles of the parts other rooms add to a member's export (privacy page). */
export const PUBLIC_EXPORT_PART_TITLES: Record<string, string> = {
  deliveries: 'Nyhetsbrev sendt til deg',
  privacyRequests: 'Henvendelser om personvern',
  bounces: 'E-post til deg som kom i retur',
};

/** Column names of those parts; unknown ones are shown as they are. */
export const PUBLIC_EXPORT_COLUMN_LABELS: Record<string, string> = {
  campaignId: 'Nyhetsbrev nr.',
  subject: 'Emne',
  status: 'Status',
  sentAt: 'Sendt',
  type: 'Gjelder',
  email: 'E-post',
  receivedAt: 'Mottatt',
  dueAt: 'Svarfrist',
  channel: 'Kanal',
  note: 'Notat',
  outcome: 'Utfall',
  closedAt: 'Avsluttet',
  createdAt: 'Registrert',
  updatedAt: 'Sist endret',
  overdue: 'Forsinket',
  kind: 'Hva',
  statusCode: 'Kode',
  occurredAt: 'Tidspunkt',
};

/** The name of `code` in `labels`, or the code itself when it has none (a code added later). */
export const labelOf = (labels: Record<string, string>, code: string): string => labels[code] ?? code;
