import { EntitySchema } from 'typeorm';

export const CONSENT_EVENT_TYPES = [
  'signup',
  'confirmation',
  'withdrawal',
  'restriction',
  'restriction-lifted',
  'rectification',
  'export',
  'erasure',
] as const;
export type ConsentEventType = (typeof CONSENT_EVENT_TYPES)[number];

/**
 * Append-only consent history. Never updated except that erasure sets member_id to NULL,
 * leaving an anonymous record. Holds no IP address and no user agent.
 */
export interface ConsentEvent {
  id: number;
  memberId: number | null;
  type: ConsentEventType;
  occurredAt: Date;
  source: string | null;
  sourceVersion: string | null;
  textVersion: string | null;
  textSha256: string | null;
  channel: string | null;
  givenAt: Date | null;
}

export const ConsentEventEntity = new EntitySchema<ConsentEvent>({
  name: 'ConsentEvent',
  tableName: 'consent_events',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    memberId: { name: 'member_id', type: 'integer', nullable: true },
    type: { type: 'varchar', length: 30 },
    occurredAt: { name: 'occurred_at', type: 'datetime', precision: 3 },
    source: { type: 'varchar', length: 30, nullable: true },
    sourceVersion: { name: 'source_version', type: 'varchar', length: 30, nullable: true },
    textVersion: { name: 'text_version', type: 'varchar', length: 50, nullable: true },
    textSha256: { name: 'text_sha256', type: 'varchar', length: 64, nullable: true },
    channel: { type: 'varchar', length: 30, nullable: true },
    givenAt: { name: 'given_at', type: 'datetime', precision: 3, nullable: true },
  },
});
