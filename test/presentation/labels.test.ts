import { CAMPAIGN_STATUSES, PAUSED_REASONS } from '../../src/campaigns/campaign.entity';
import { REPORT_KINDS } from '../../src/bounces/bounce-report.entity';
import { DELIVERY_STATES } from '../../src/delivery/delivery.store';
import { CONSENT_EVENT_TYPES } from '../../src/members/consent-event.entity';
import { MEMBER_STATUSES, SOURCES } from '../../src/members/member.entity';
import { BLOCK_TYPES } from '../../src/newsletter/blocks.schema';
import { REQUEST_STATUSES, REQUEST_TYPES } from '../../src/privacy/privacy-request.entity';
import { STAFF_ROLES } from '../../src/staff/roles';
import {
  BLOCK_TYPE_LABELS,
  CAMPAIGN_STATUS_LABELS,
  CHANNEL_LABELS,
  CONSENT_EVENT_LABELS,
  MEMBER_STATUS_LABELS,
  PAUSED_REASON_LABELS,
  REPORT_KIND_LABELS,
  PUBLIC_CHANNEL_LABELS,
  PUBLIC_CONSENT_EVENT_LABELS,
  PUBLIC_DELIVERY_STATUS_LABELS,
  PUBLIC_MEMBER_STATUS_LABELS,
  PUBLIC_REQUEST_STATUS_LABELS,
  PUBLIC_REQUEST_TYPE_LABELS,
  PUBLIC_SOURCE_LABELS,
  REQUEST_TYPE_LABELS,
  ROLE_LABELS,
  SOURCE_LABELS,
  labelOf,
} from '../../src/presentation/labels';

/** Channels the services record (leave, confirm, erase, export) and the ones staff pick for a request. */
const CHANNELS = [
  'app',
  'email-request',
  'phone',
  'link',
  'one-click',
  'email-link',
  'staff',
  'privacy-link',
  'request',
  'retention',
  'email',
  'letter',
  'in-person',
  'other',
  'complaint',
  'bounce',
];

const sorted = (codes: readonly string[]) => [...codes].sort();

describe('Norwegian labels', () => {
  it.each([
    ['campaign statuses', CAMPAIGN_STATUS_LABELS, CAMPAIGN_STATUSES],
    ['member statuses', MEMBER_STATUS_LABELS, MEMBER_STATUSES],
    ['member statuses (public)', PUBLIC_MEMBER_STATUS_LABELS, MEMBER_STATUSES],
    ['sources', SOURCE_LABELS, SOURCES],
    ['sources (public)', PUBLIC_SOURCE_LABELS, SOURCES],
    ['consent events', CONSENT_EVENT_LABELS, CONSENT_EVENT_TYPES],
    ['consent events (public)', PUBLIC_CONSENT_EVENT_LABELS, CONSENT_EVENT_TYPES],
    ['request types', REQUEST_TYPE_LABELS, REQUEST_TYPES],
    ['request types (public)', PUBLIC_REQUEST_TYPE_LABELS, REQUEST_TYPES],
    ['request statuses (public)', PUBLIC_REQUEST_STATUS_LABELS, REQUEST_STATUSES],
    ['delivery states (public)', PUBLIC_DELIVERY_STATUS_LABELS, DELIVERY_STATES],
    ['staff roles', ROLE_LABELS, STAFF_ROLES],
    ['block types', BLOCK_TYPE_LABELS, BLOCK_TYPES],
    ['paused reasons', PAUSED_REASON_LABELS, PAUSED_REASONS],
    ['report kinds', REPORT_KIND_LABELS, REPORT_KINDS],
    ['channels', CHANNEL_LABELS, CHANNELS],
    ['channels (public)', PUBLIC_CHANNEL_LABELS, CHANNELS],
  ])('name every code of the %s, and nothing else', (_what, labels, codes) => {
    expect(sorted(Object.keys(labels))).toEqual(sorted(codes));
  });

  it('show a code without a name as it is', () => {
    expect(labelOf(SOURCE_LABELS, 'admin')).toBe('Lagt inn av ansatte');
    expect(labelOf(PUBLIC_SOURCE_LABELS, 'admin')).toBe('Kundeservice');
    expect(labelOf(CHANNEL_LABELS, 'fax')).toBe('fax');
  });
});
