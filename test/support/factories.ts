/** The one campaign factory of the tests: a body with one block of each type and every optional field. */
export function buildCampaign(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Desember',
    subject: 'Julekalender hos Sothys',
    preheader: 'Tre nyheter og et tilbud',
    blocks: [
      {
        type: 'activity',
        title: 'Hudpleiekveld i Oslo',
        body: 'Velkommen til en kveld med hudpleie.\n\nVi byr på te og smaksprøver.',
        startsAt: '2099-12-03T18:00:00+01:00',
        location: 'Karl Johans gate 1, Oslo',
        imageUrl: 'https://sothys.no/bilder/kveld.jpg',
        link: { url: 'https://sothys.no/kveld?by=oslo&dato=3', label: 'Meld deg på' },
      },
      {
        type: 'news',
        title: 'Nytt fuktighetsserum',
        body: 'Lett og fuktgivende, for alle hudtyper.',
        imageUrl: 'https://sothys.no/bilder/serum.jpg',
        link: { url: 'https://sothys.no/serum', label: 'Les mer' },
      },
      {
        type: 'offer',
        title: '20 % på ansiktskremer',
        body: 'Bruk koden i appen eller hos din salong.',
        code: 'JUL20',
        validUntil: '2099-12-24',
        link: { url: 'https://sothys.no/app', label: 'Handle i appen' },
      },
    ],
    ...overrides,
  };
}
