import { EntitySchema } from 'typeorm';
import { idColumn, stringColumn, timeColumn } from '../db/columns';

export const REQUEST_TYPES = [
  'access',
  'rectification',
  'erasure',
  'restriction',
  'portability',
  'objection',
  'complaint',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];
/**
 * How a request ended, as staff record it when closing one in the admin (the API takes any short
 * text). `erased` and `no-member` are also what closing an erasure request with `erase: true` sets.
 */
export const REQUEST_OUTCOMES = [
  'answered',
  'exported',
  'rectified',
  'restricted',
  'erased',
  'no-member',
  'refused',
  'withdrawn',
] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];
export const REQUEST_STATUSES = ['open', 'done'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/**
 * A data-subject request that arrived by e-mail, phone or letter (CONTRACT §6). `email` is
 * cleared when the person leaves or is erased; `emailHmac` (the suppression HMAC) stays as the link.
 */
export interface PrivacyRequest {
  id: number;
  type: RequestType;
  email: string | null;
  emailHmac: string;
  receivedAt: Date;
  dueAt: Date;
  channel: string;
  note: string | null;
  status: RequestStatus;
  outcome: string | null;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const PrivacyRequestEntity = new EntitySchema<PrivacyRequest>({
  name: 'PrivacyRequest',
  tableName: 'privacy_requests',
  columns: {
    id: idColumn(),
    type: stringColumn('type', 20, false),
    email: stringColumn('email', 254, true),
    emailHmac: stringColumn('email_hmac', 64, false),
    receivedAt: timeColumn('received_at', false),
    dueAt: timeColumn('due_at', false),
    channel: stringColumn('channel', 30, false),
    note: stringColumn('note', 2000, true),
    status: stringColumn('status', 10, false),
    outcome: stringColumn('outcome', 200, true),
    closedAt: timeColumn('closed_at', true),
    createdAt: timeColumn('created_at', false),
    updatedAt: timeColumn('updated_at', false),
  },
});
