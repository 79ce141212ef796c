import { EntitySchema } from 'typeorm';
import { idColumn, stringColumn, timeColumn } from '../db/columns';

/** `bounced`: the address is dead (CONTRACT §9); kept, never mailed, until the address is corrected. */
export const MEMBER_STATUSES = ['pending', 'active', 'unsubscribed', 'restricted', 'bounced'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];
/** `import`: brought in from a CSV file (CONTRACT §11); set only by an import, never by a sign-up. */
export const SOURCES = ['osme-mobile', 'cosmenor-partner', 'web', 'admin', 'import'] as const;
export type Source = (typeof SOURCES)[number];
/** The sources a sign-up may name (POST /v1/members). */
export const SIGNUP_SOURCES = [
  'osme-mobile',
  'cosmenor-partner',
  'web',
  'admin',
] as const satisfies readonly Source[];
export type SignUpSource = (typeof SIGNUP_SOURCES)[number];

export interface Member {
  id: number;
  /** null once the member has left: the row stays as an anonymous record. */
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  source: Source;
  sourceVersion: string | null;
  externalId: string | null;
  partnerId: string | null;
  status: MemberStatus;
  statusBeforeRestriction: MemberStatus | null;
  createdAt: Date;
  updatedAt: Date;
  confirmedAt: Date | null;
  leftAt: Date | null;
}

export const MemberEntity = new EntitySchema<Member>({
  name: 'Member',
  tableName: 'members',
  columns: {
    id: idColumn(),
    email: stringColumn('email', 254, true),
    firstName: stringColumn('first_name', 100, true),
    lastName: stringColumn('last_name', 100, true),
    phone: stringColumn('phone', 30, true),
    source: stringColumn('source', 30, false),
    sourceVersion: stringColumn('source_version', 30, true),
    externalId: stringColumn('external_id', 100, true),
    partnerId: stringColumn('partner_id', 100, true),
    status: stringColumn('status', 20, false),
    statusBeforeRestriction: stringColumn('status_before_restriction', 20, true),
    createdAt: timeColumn('created_at', false),
    updatedAt: timeColumn('updated_at', false),
    confirmedAt: timeColumn('confirmed_at', true),
    leftAt: timeColumn('left_at', true),
  },
});
