import { EntitySchema } from 'typeorm';

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/**
 * A newsletter as stored. Audience and blocks are kept as the JSON marketing wrote (validated);
 * `compiledHtml`/`compiledText` hold the one render every worker sends, set by `freezeForSending`.
 */
export interface Campaign {
  id: number;
  name: string;
  subject: string;
  preheader: string | null;
  /** `Audience` as JSON; null = every active member. */
  audienceJson: string | null;
  /** `Block[]` as JSON. */
  blocksJson: string;
  status: CampaignStatus;
  scheduledAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Compiled HTML/text with the per-recipient placeholders still in; null until frozen for sending. */
  compiledHtml: string | null;
  compiledText: string | null;
  /** The placeholder nonce of that render: only placeholders with it are filled per recipient. */
  compiledNonce: string | null;
  /** Recipients enqueued when sending began (the delivery engine sets it). */
  total: number;
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
// `text` maps to TEXT on both drivers for reads and writes; the migration made it MEDIUMTEXT on MySQL.
const longText = (name: string, nullable = true) => ({ name, type: 'text' as const, nullable });

export const CampaignEntity = new EntitySchema<Campaign>({
  name: 'Campaign',
  tableName: 'campaigns',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    name: str('name', 200),
    subject: str('subject', 200),
    preheader: str('preheader', 200, true),
    audienceJson: longText('audience_json'),
    blocksJson: longText('blocks_json', false),
    status: str('status', 20),
    scheduledAt: time('scheduled_at', true),
    startedAt: time('started_at', true),
    finishedAt: time('finished_at', true),
    compiledHtml: longText('compiled_html'),
    compiledText: longText('compiled_text'),
    compiledNonce: str('compiled_nonce', 24, true),
    total: { name: 'total', type: 'integer', default: 0 },
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
});
