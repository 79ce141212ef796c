import type { RequestHandler } from 'express';
import { handler } from '../http/validate';
import type { CampaignStatus } from '../campaigns/campaign.entity';
import type { AdminDeps } from './admin-deps';
import { ctxOf, sendHtml } from './admin-http';
import { dashboardPage } from './views/dashboard.views';

/** How many of the last sent campaigns the clicks chart compares. */
const COMPARED_CAMPAIGNS = 5;

type DashboardDeps = Pick<AdminDeps, 'adminStats' | 'campaigns' | 'sending'>;

/** GET /: member figures, the weekly chart, sends under way, the latest sent and their clicks. */
export function showDashboard(deps: DashboardDeps): RequestHandler {
  return handler(async (req, res) => {
    const [counts, weeks, campaigns, recent] = await Promise.all([
      deps.adminStats.memberCounts(),
      deps.adminStats.weeklyConsent(12),
      campaignsInProgress(deps),
      deps.campaigns.list({ status: 'sent', limit: COMPARED_CAMPAIGNS }),
    ]);
    const clicks = await Promise.all(
      recent.items.map(async (campaign) => ({
        campaign,
        clicks: await deps.campaigns.clickStats(campaign.id),
      })),
    );
    sendHtml(
      res,
      200,
      dashboardPage(ctxOf(req, 'dashboard'), {
        counts,
        weeks,
        campaigns,
        recent: recent.items.slice(0, 3),
        clicks,
      }),
    );
  });
}

async function campaignsInProgress(deps: DashboardDeps) {
  const statuses: CampaignStatus[] = ['sending', 'paused', 'scheduled'];
  const lists = await Promise.all(statuses.map((status) => deps.campaigns.list({ status, limit: 10 })));
  const items = lists.flatMap((l) => l.items);
  return Promise.all(
    items.map(async (campaign) => ({ campaign, stats: await deps.sending.stats(campaign.id) })),
  );
}
