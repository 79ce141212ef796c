import { EntitySchema } from 'typeorm';

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

const time = (name: string, nullable = false) => ({
  name,
  type: 'datetime' as const,
  precision: 3,
  nullable,
});
const str = (name: string, length: number, nullable = false) => ({
  name,
  type: 'varchar' as const,
  length,
  nullable,
});

export const PrivacyRequestEntity = new EntitySchema<PrivacyRequest>({
  name: 'PrivacyRequest',
  tableName: 'privacy_requests',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    type: str('type', 20),
    email: str('email', 254, true),
    emailHmac: str('email_hmac', 64),
    receivedAt: time('received_at'),
    dueAt: time('due_at'),
    channel: str('channel', 30),
    note: str('note', 2000, true),
    status: str('status', 10),
    outcome: str('outcome', 200, true),
    closedAt: time('closed_at', true),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
});
