import { html } from '../../presentation/escape';
import type { MemberCounts, WeekBucket } from '../admin-stats.service';
import type { CampaignView } from '../../campaigns/campaigns.service';
import type { CampaignStats } from '../../campaigns/campaigns.schema';
import { MIN_REPORTED_CLICKS, type ClickStat } from '../../clicks/clicks.schema';
import { BLOCK_TYPES } from '../../newsletter/blocks.schema';
import { SOURCES, type MemberStatus } from '../../members/member.entity';
import {
  BLOCK_TYPE_LABELS,
  CAMPAIGN_STATUS_LABELS,
  MEMBER_STATUS_LABELS,
  SOURCE_LABELS,
} from '../../presentation/labels';
import { formatShort } from '../../presentation/oslo-time';
import { roleHasScope } from '../../staff/roles';
import { campaignClicksChart, weeklyChart, type CampaignClicks } from './chart';
import { WITHHELD_CLICKS } from './campaigns.views';
import { badge, formatCount, page, progressBar, type PageContext } from './layout';

const CARD_ORDER: Array<[MemberStatus, string]> = [
  ['active', 'Aktive medlemmer'],
  ['pending', 'Venter på bekreftelse'],
  ['restricted', 'Begrenset behandling'],
  ['unsubscribed', 'Meldt ut'],
];

/** The cards' order, for the table's columns too. */
const STATUS_ORDER = CARD_ORDER.map(([s]) => s);

export interface DashboardData {
  counts: MemberCounts;
  weeks: WeekBucket[];
  campaigns: Array<{ campaign: CampaignView; stats: CampaignStats }>;
  recent: CampaignView[];
  /** The last sent campaigns, newest first, with their clicks per link. */
  clicks: Array<{ campaign: CampaignView; clicks: ClickStat[] }>;
}

/**
 * Per block type, the sum of the counts shown; null when the campaign has links of that type but
 * none reached the threshold. Withheld counts are never added in, so no sum reveals one.
 */
function clicksByType(campaign: CampaignView, clicks: ClickStat[]): CampaignClicks {
  return {
    name: campaign.name,
    // Five names side by side under the bars, at 16 units each: 14 characters fit in a group.
    short: campaign.name.length > 14 ? `${campaign.name.slice(0, 13)}…` : campaign.name,
    byType: BLOCK_TYPES.map((type) => {
      const ofType = clicks.filter((k) => k.blockType === type);
      const shown = ofType.filter((k) => k.count !== null);
      return {
        type,
        label: BLOCK_TYPE_LABELS[type],
        className: `bar-${type}`,
        count:
          ofType.length === 0 ? undefined : shown.length ? shown.reduce((s, k) => s + k.count!, 0) : null,
      };
    }),
  };
}

function clicksSection(d: DashboardData) {
  if (d.clicks.length === 0) return '';
  const oldestFirst = [...d.clicks].reverse().map(({ campaign, clicks }) => clicksByType(campaign, clicks));
  return html`<section class="card" aria-labelledby="h-clicks"><h2 id="h-clicks">Klikk i de siste nyhetsbrevene</h2>
<p class="muted small">Klikk på lenkene i aktiviteter, nyheter og tilbud, uten hvem som klikket. Lenker med færre enn ${MIN_REPORTED_CLICKS} klikk er ikke med i summen («${WITHHELD_CLICKS}»).</p>
<div class="chart-narrow">${campaignClicksChart(oldestFirst, WITHHELD_CLICKS)}</div></section>`;
}

export function dashboardPage(ctx: PageContext, d: DashboardData): string {
  const user = ctx.user!;
  const canCampaigns = roleHasScope(user.role, 'campaigns');
  const statusCards = CARD_ORDER.map(
    ([s, label]) =>
      html`<div class="stat stat-${s}"><p class="stat-value">${formatCount(d.counts.byStatus[s])}</p><p class="stat-label">${label}</p></div>`,
  );
  const sourceRows = SOURCES.map((src) => {
    const row = d.counts.bySource[src];
    const total = STATUS_ORDER.reduce((sum, s) => sum + row[s], 0);
    return html`<tr><th scope="row">${SOURCE_LABELS[src]}</th>${STATUS_ORDER.map((s) => html`<td class="num">${formatCount(row[s])}</td>`)}<td class="num strong">${formatCount(total)}</td></tr>`;
  });
  const inProgress = d.campaigns.length
    ? html`<ul class="campaign-progress">${d.campaigns.map(({ campaign: c, stats: s }) => {
        const done = s.sent + s.failed + s.skipped;
        return html`<li>
<div class="cp-head"><a href="/admin/campaigns/${c.id}">${c.name}</a> ${badge(CAMPAIGN_STATUS_LABELS[s.status], s.status)}</div>
${
  s.status === 'scheduled'
    ? html`<p class="muted">Sendes ${c.scheduledAt ? formatShort(c.scheduledAt) : ''} til ${formatCount(c.recipients ?? 0)} medlemmer</p>`
    : html`${progressBar(s, `Fremdrift for ${c.name}`)}<p class="muted">${formatCount(s.sent)} av ${formatCount(s.total)} sendt${done > s.sent ? ` · ${formatCount(s.skipped)} hoppet over · ${formatCount(s.failed)} feilet` : ''}</p>`
}
</li>`;
      })}</ul>`
    : html`<p class="muted">Ingen nyhetsbrev sendes akkurat nå.${canCampaigns ? html` <a href="/admin/campaigns/new">Lag et nytt nyhetsbrev</a>.` : ''}</p>`;

  return page(
    { ...ctx, section: 'dashboard' },
    'Oversikt',
    html`<div class="page-head"><h1>Oversikt</h1><p class="muted">${formatCount(d.counts.total)} medlemmer registrert i klubben</p></div>
<section aria-labelledby="h-status"><h2 id="h-status" class="visually-hidden">Medlemmer etter status</h2>
<div class="stats">${statusCards}</div></section>
<div class="grid-2">
<section class="card" aria-labelledby="h-weeks"><h2 id="h-weeks">Inn og ut per uke</h2>
<p class="muted small">Siste 12 uker, fra samtykkehistorikken.</p>
${weeklyChart(d.weeks)}</section>
<section class="card" aria-labelledby="h-progress"><h2 id="h-progress">Utsendelser</h2>${inProgress}
${
  d.recent.length
    ? html`<h3 class="subhead">Sist sendt</h3><ul class="recent">${d.recent.map(
        (c) =>
          html`<li><a href="/admin/campaigns/${c.id}">${c.name}</a><span class="muted">${formatCount(c.recipients ?? 0)} mottakere${c.finishedAt ? ` · ${formatShort(c.finishedAt)}` : ''}</span></li>`,
      )}</ul>`
    : ''
}</section>
</div>
${clicksSection(d)}
<section class="card" aria-labelledby="h-source"><h2 id="h-source">Medlemmer etter kilde</h2>
<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Medlemmer etter kilde"><table class="data">
<thead><tr><th scope="col">Kilde</th>${STATUS_ORDER.map((s) => html`<th scope="col" class="num">${MEMBER_STATUS_LABELS[s]}</th>`)}<th scope="col" class="num">I alt</th></tr></thead>
<tbody>${sourceRows}</tbody></table></div></section>`,
    { wide: true },
  );
}
