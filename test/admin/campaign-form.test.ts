import {
  applyStructuralOp,
  campaignToForm,
  createInput,
  emptyBlock,
  parseCampaignForm,
  parseOp,
  pastDates,
  pastDateWarning,
} from '../../src/admin/campaign-form';
import type { Block } from '../../src/newsletter/blocks.schema';
import { createCampaignSchema } from '../../src/campaigns/campaigns.schema';
import type { CampaignView } from '../../src/campaigns/campaigns.service';

const posted = {
  name: 'Desember',
  subject: 'Jul',
  preheader: '',
  'audience.sources': ['osme-mobile', 'web'],
  'audience.partnerIds': 'salong-1, salong-2\nsalong-3',
  'blocks.10.type': 'offer',
  'blocks.10.title': 'Tilbud',
  'blocks.10.code': 'JUL20',
  'blocks.10.startsAt': '2026-12-03T18:00',
  'blocks.2.type': 'activity',
  'blocks.2.title': 'Kveld',
  'blocks.2.startsAt': '2026-12-03T18:00',
  'blocks.2.link.url': 'https://sothys.no',
  'blocks.2.link.label': '',
  'blocks.3.type': 'script',
  'blocks.3.title': 'ukjent type',
};

describe('the campaign editor form', () => {
  it('reads blocks in index order, drops unknown types and fields other types do not have', () => {
    const form = parseCampaignForm(posted);
    expect(form.blocks.map((b) => b.type)).toEqual(['activity', 'offer']);
    const input = createInput(form);
    expect(input).toEqual({
      name: 'Desember',
      subject: 'Jul',
      audience: { sources: ['osme-mobile', 'web'], partnerIds: ['salong-1', 'salong-2', 'salong-3'] },
      blocks: [
        // Half a link stays, so the validator can say which half is missing.
        {
          type: 'activity',
          title: 'Kveld',
          startsAt: '2026-12-03T18:00:00+01:00',
          link: { url: 'https://sothys.no', label: '' },
        },
        { type: 'offer', title: 'Tilbud', code: 'JUL20' },
      ],
    });
    const result = createCampaignSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual(['blocks.0.link.label']);
  });

  it('an empty audience means every active member (null)', () => {
    expect(
      createInput(parseCampaignForm({ name: 'x', subject: 'y', 'audience.partnerIds': ' , ' })).audience,
    ).toBeNull();
  });

  it('applies add, move and remove the way the script does', () => {
    const form = parseCampaignForm(posted);
    const added = applyStructuralOp(form, parseOp('add:news'));
    expect(added.form.blocks.map((b) => b.type)).toEqual(['activity', 'offer', 'news']);
    expect(added.focus).toBe(2);
    expect(applyStructuralOp(added.form, parseOp('up:2')).form.blocks.map((b) => b.type)).toEqual([
      'activity',
      'news',
      'offer',
    ]);
    expect(applyStructuralOp(added.form, parseOp('down:0')).form.blocks.map((b) => b.type)).toEqual([
      'offer',
      'activity',
      'news',
    ]);
    expect(applyStructuralOp(added.form, parseOp('remove:1')).form.blocks.map((b) => b.type)).toEqual([
      'activity',
      'news',
    ]);
    // Out of range or unknown: nothing happens.
    expect(applyStructuralOp(added.form, parseOp('up:0')).form.blocks).toEqual(added.form.blocks);
    expect(applyStructuralOp(added.form, parseOp('remove:9')).form.blocks).toEqual(added.form.blocks);
    expect(parseOp('add:script')).toEqual({ kind: 'save' });
    expect(parseOp('whatever')).toEqual({ kind: 'save' });
  });

  it('shows a stored campaign in Oslo time in the form, and reads back the same content', () => {
    const view = {
      name: 'Juni',
      subject: 'Sommer',
      preheader: null,
      audience: { partnerIds: ['salong-9'] },
      blocks: [
        { type: 'activity', title: 'Sommerfest', startsAt: '2027-06-10T16:30:00Z', location: 'Bergen' },
      ],
    } as unknown as CampaignView;
    const form = campaignToForm(view);
    expect(form.blocks[0].startsAt).toBe('2027-06-10T18:30');
    expect(form.partnerIds).toBe('salong-9');
    expect(createInput(form).blocks).toEqual([
      { type: 'activity', title: 'Sommerfest', startsAt: '2027-06-10T18:30:00+02:00', location: 'Bergen' },
    ]);
  });

  it("keeps a textarea's line breaks as typed, one character each (browsers post CRLF)", () => {
    const form = parseCampaignForm({ 'blocks.0.type': 'news', 'blocks.0.body': 'En\r\n\r\nTo\rTre' });
    expect(form.blocks[0].body).toBe('En\n\nTo\nTre');
  });

  it('knows the autosave and copy buttons', () => {
    expect(parseOp('autosave')).toEqual({ kind: 'autosave' });
    expect(parseOp('copy')).toEqual({ kind: 'copy' });
  });
});

describe('dates that have passed', () => {
  // 1 December 2026, 12:00 in Oslo.
  const now = new Date('2026-12-01T11:00:00Z');

  it('warns in the editor about an activity that has begun and an offer whose last day is over', () => {
    const activity = (startsAt: string) => pastDateWarning({ ...emptyBlock('activity'), startsAt }, now);
    const offer = (validUntil: string) => pastDateWarning({ ...emptyBlock('offer'), validUntil }, now);
    expect(activity('2026-12-01T11:59')).toBe('Tidspunktet har allerede vært. Sjekk dato og år.');
    expect(activity('2025-12-03T18:00')).toBe('Tidspunktet har allerede vært. Sjekk dato og år.');
    expect(activity('2026-12-01T12:01')).toBeNull();
    expect(activity('')).toBeNull();
    expect(offer('2026-11-30')).toBe('Datoen har allerede vært, så tilbudet er utløpt. Sjekk dato og år.');
    // The offer holds through its last day.
    expect(offer('2026-12-01')).toBeNull();
    expect(offer('')).toBeNull();
    expect(pastDateWarning({ ...emptyBlock('news'), title: 'x' }, now)).toBeNull();
  });

  it('lists them as the newsletter writes them, with the year when it is not this year', () => {
    const blocks = [
      { type: 'activity', title: 'I fjor', startsAt: '2025-12-03T18:00:00+01:00' },
      { type: 'news', title: 'Nyhet' },
      { type: 'activity', title: 'I kveld', startsAt: '2026-12-01T18:00:00+01:00' },
      { type: 'offer', title: 'Utløpt', validUntil: '2026-11-30' },
      { type: 'offer', title: 'Uten dato' },
    ] as Block[];
    expect(pastDates(blocks, now)).toEqual([
      { index: 0, type: 'activity', title: 'I fjor', when: 'onsdag 3. desember 2025 kl. 18.00' },
      { index: 3, type: 'offer', title: 'Utløpt', when: '30. november' },
    ]);
    // Scheduled for the 2nd: this evening's activity will have begun by then.
    expect(pastDates(blocks, new Date('2026-12-02T08:00:00Z'), now).map((p) => p.title)).toEqual([
      'I fjor',
      'I kveld',
      'Utløpt',
    ]);
  });
});
