import {
  applyStructuralOp,
  campaignToForm,
  createInput,
  parseCampaignForm,
  parseOp,
} from '../../src/admin/campaign-form';
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
});
