import { EntitySchema } from 'typeorm';

export const MEMBER_STATUSES = ['pending', 'active', 'unsubscribed', 'restricted'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];
export const SOURCES = ['osme-mobile', 'cosmenor-partner', 'web', 'admin'] as const;
export type Source = (typeof SOURCES)[number];

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

const time = (name: string, nullable = false) => ({
  name,
  type: 'datetime' as const,
  precision: 3,
  nullable,
});
const str = (name: string, length: number, nullable = true) => ({
  name,
  type: 'varchar' as const,
  length,
  nullable,
});

export const MemberEntity = new EntitySchema<Member>({
  name: 'Member',
  tableName: 'members',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    email: str('email', 254),
    firstName: str('first_name', 100),
    lastName: str('last_name', 100),
    phone: str('phone', 30),
    source: str('source', 30, false),
    sourceVersion: str('source_version', 30),
    externalId: str('external_id', 100),
    partnerId: str('partner_id', 100),
    status: str('status', 20, false),
    statusBeforeRestriction: str('status_before_restriction', 20),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
    confirmedAt: time('confirmed_at', true),
    leftAt: time('left_at', true),
  },
});
