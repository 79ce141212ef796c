import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import type { StaffServices } from '../staff/staff.module';
import type { CampaignsService } from '../campaigns/campaigns.service';
import type { CampaignSending } from '../campaigns/campaign-sending.service';
import type { MembersService } from '../members/members.service';
import type { PrivacyService } from '../privacy/privacy.service';
import type { PrivacyRequestsService } from '../privacy/privacy-requests.service';
import type { AdminStatsService } from './admin-stats.service';
import type { WebhooksService } from '../events/webhooks.service';
import type { ImportsService } from '../imports/imports.service';

/**
 * What the admin pages use, named one by one rather than the whole container: the admin room
 * calls the owners' services and never imports the app. The container passes itself.
 */
export interface AdminDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  staff: StaffServices;
  adminStats: AdminStatsService;
  campaigns: CampaignsService;
  sending: CampaignSending;
  members: MembersService;
  privacy: PrivacyService;
  privacyRequests: PrivacyRequestsService;
  webhooks: WebhooksService;
  imports: ImportsService;
}
