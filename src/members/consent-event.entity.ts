import { EntitySchema } from 'typeorm';
import { idColumn, intColumn, stringColumn, timeColumn } from '../db/columns';

export const CONSENT_EVENT_TYPES = [
  'signup',
  'confirmation',
  'withdrawal',
  'restriction',
  'restriction-lifted',
  'rectification',
  'export',
  'erasure',
  'bounced',
  /** Brought in by a CSV import (CONTRACT §11), with the file's SHA-256 and the row number. */
  'imported',
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
  /** A `bounced` event's status code (e.g. 5.1.1): the only trace of the report. */
  code: string | null;
  /** An `imported` event's evidence: the SHA-256 of the file and the row the member came from. */
  fileSha256: string | null;
  fileRow: number | null;
}

export const ConsentEventEntity = new EntitySchema<ConsentEvent>({
  name: 'ConsentEvent',
  tableName: 'consent_events',
  columns: {
    id: idColumn(),
    memberId: intColumn('member_id', true),
    type: stringColumn('type', 30, false),
    occurredAt: timeColumn('occurred_at', false),
    source: stringColumn('source', 30, true),
    sourceVersion: stringColumn('source_version', 30, true),
    textVersion: stringColumn('text_version', 50, true),
    textSha256: stringColumn('text_sha256', 64, true),
    channel: stringColumn('channel', 30, true),
    givenAt: timeColumn('given_at', true),
    code: stringColumn('code', 20, true),
    fileSha256: stringColumn('file_sha256', 64, true),
    fileRow: intColumn('file_row', true),
  },
});
