import { EntitySchema } from 'typeorm';
import { idColumn, stringColumn, textColumn, timeColumn } from '../db/columns';

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
/** Why a campaign is paused: by hand, or by the guardrail (CONTRACT §9). */
export const PAUSED_REASONS = ['manual', 'bounce-rate', 'complaint-rate'] as const;
export type PausedReason = (typeof PAUSED_REASONS)[number];

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
  /** Set while paused; null otherwise. */
  pausedReason: PausedReason | null;
  /** When a person last resumed it: the guardrail's rates count messages sent since (else since the start). */
  resumedAt: Date | null;
  /** Random id of the web version `/n/{publicId}` (128 bits, not derived from `id`). */
  publicId: string | null;
  /** The link list (`NewsletterLink[]` as JSON) frozen with the render; null until frozen. */
  linksJson: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const CampaignEntity = new EntitySchema<Campaign>({
  name: 'Campaign',
  tableName: 'campaigns',
  columns: {
    id: idColumn(),
    name: stringColumn('name', 200, false),
    subject: stringColumn('subject', 200, false),
    preheader: stringColumn('preheader', 200, true),
    audienceJson: textColumn('audience_json', true),
    blocksJson: textColumn('blocks_json', false),
    status: stringColumn('status', 20, false),
    scheduledAt: timeColumn('scheduled_at', true),
    startedAt: timeColumn('started_at', true),
    finishedAt: timeColumn('finished_at', true),
    compiledHtml: textColumn('compiled_html', true),
    compiledText: textColumn('compiled_text', true),
    compiledNonce: stringColumn('compiled_nonce', 24, true),
    total: { name: 'total', type: 'integer', default: 0 },
    pausedReason: stringColumn('paused_reason', 20, true),
    resumedAt: timeColumn('resumed_at', true),
    publicId: stringColumn('public_id', 32, true),
    linksJson: textColumn('links_json', true),
    createdAt: timeColumn('created_at', false),
    updatedAt: timeColumn('updated_at', false),
  },
});
