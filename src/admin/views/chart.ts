import { html, type SafeHtml } from '../../presentation/escape';
import type { WeekBucket } from '../admin-stats.service';

/**
 * Charts drawn on the server as inline SVG (no chart library, no script). Every chart's numbers
 * are also in a table for screen readers.
 */

/**
 * Labels are drawn at 16 units on a 720-unit-wide drawing, and the drawing never shrinks below
 * 540 px (admin.css `.chart-scroll svg`): 16 × 540 / 720 = 12 px at the least. A narrower screen
 * scrolls the chart sideways in a box that says so, as the tables do.
 */
const W = 720;

/** The drawing in a box that scrolls sideways on a phone: focusable and named for the keyboard. */
const scrollBox = (label: string, svg: SafeHtml) =>
  html`<div class="chart-scroll" tabindex="0" role="region" aria-label="${label}">${svg}</div>`;

/** An axis of four even steps of 1, 2, 2.5 or 5 × 10^n that holds `v`. */
function niceMax(v: number): number {
  const raw = Math.max(1, v / 4);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw && Number.isInteger(s)) ?? 10 * p;
  return step * 4;
}

/** A bar of a grouped chart: a number, `null` for a count withheld (drawn as `nullText`), or none. */
interface GroupedBar {
  value: number | null | undefined;
  title: string;
}

interface GroupedBarsOptions {
  id: string;
  title: string;
  desc: string;
  /** One class per series: the bar's colour (admin.css). */
  seriesClasses: string[];
  groups: Array<{ label: string; bars: GroupedBar[] }>;
  /** Drawn in a withheld bar's place. */
  nullText?: string;
}

/** Groups of bars side by side over a value axis (the weekly sign-ups, clicks per campaign). */
function groupedBars(o: GroupedBarsOptions): SafeHtml {
  const H = 240;
  const left = 52;
  const right = 8;
  const top = 14;
  const bottom = 38;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = niceMax(Math.max(0, ...o.groups.flatMap((g) => g.bars.map((b) => b.value ?? 0))));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const group = plotW / Math.max(1, o.groups.length);
  const series = o.seriesClasses.length;
  const bar = Math.min(18, group / (series + 1));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f));

  const grid = ticks.map(
    (t) =>
      html`<line x1="${left}" x2="${W - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/><text x="${left - 8}" y="${(y(t) + 5).toFixed(1)}" class="axis" text-anchor="end">${t}</text>`,
  );
  const groups = o.groups.map((g, i) => {
    const cx = left + group * i + group / 2;
    const first = cx - (series * bar + (series - 1) * 3) / 2;
    const bars = g.bars.map((b, s) => {
      const x = first + s * (bar + 3);
      if (b.value === undefined) return '';
      if (b.value === null) {
        // Written upwards in the bar's place: a withheld count has no height to draw.
        const tx = (x + bar / 2 + 5).toFixed(1);
        const ty = top + plotH - 4;
        return html`<text x="${tx}" y="${ty}" transform="rotate(-90 ${tx} ${ty})" class="axis withheld"><title>${b.title}</title>${o.nullText ?? ''}</text>`;
      }
      return html`<rect x="${x.toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - y(b.value)).toFixed(1)}" class="${o.seriesClasses[s]}" rx="2"><title>${b.title}</title></rect>`;
    });
    return html`<g>${bars.map(
      (b) => html`${b}
`,
    )}<text x="${cx.toFixed(1)}" y="${H - bottom + 21}" class="axis" text-anchor="middle">${g.label}</text></g>`;
  });

  return scrollBox(
    o.title,
    html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${o.id}-title ${o.id}-desc" preserveAspectRatio="xMidYMid meet">
<title id="${o.id}-title">${o.title}</title>
<desc id="${o.id}-desc">${o.desc}</desc>
${grid}
<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" class="baseline"/>
${groups}
</svg>`,
  );
}

/** Sign-ups vs withdrawals per week as grouped bars. */
export function weeklyChart(weeks: WeekBucket[]): SafeHtml {
  const totalIn = weeks.reduce((s, w) => s + w.signups, 0);
  const totalOut = weeks.reduce((s, w) => s + w.withdrawals, 0);
  const svg = groupedBars({
    id: 'chart',
    title: 'Innmeldinger og utmeldinger per uke',
    desc: `Siste ${weeks.length} uker: ${totalIn} innmeldinger og ${totalOut} utmeldinger i alt.`,
    seriesClasses: ['bar-in', 'bar-out'],
    groups: weeks.map((w) => ({
      label: String(w.week),
      bars: [
        { value: w.signups, title: `Uke ${w.week}: ${w.signups} innmeldinger` },
        { value: w.withdrawals, title: `Uke ${w.week}: ${w.withdrawals} utmeldinger` },
      ],
    })),
  });
  return html`<figure class="chart">
${svg}
<figcaption><span class="legend legend-in">Innmeldinger (samtykke gitt)</span> <span class="legend legend-out">Utmeldinger</span> <span class="muted">Ukenummer, norsk tid</span></figcaption>
</figure>
<details class="chart-data"><summary>Vis tallene</summary>
<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Innmeldinger og utmeldinger per uke"><table><caption class="visually-hidden">Innmeldinger og utmeldinger per uke</caption>
<thead><tr><th scope="col">Uke</th><th scope="col">Fra</th><th scope="col" class="num">Innmeldinger</th><th scope="col" class="num">Utmeldinger</th></tr></thead>
<tbody>${weeks.map((w) => html`<tr><th scope="row">${w.week}</th><td>${w.weekStart.split('-').reverse().join('.')}</td><td class="num">${w.signups}</td><td class="num">${w.withdrawals}</td></tr>`)}</tbody>
</table></div></details>`;
}

/** One campaign's figures per block type (undefined: no link of that type; null: withheld). */
export interface CampaignClicks {
  name: string;
  /** A short label under its bars. */
  short: string;
  byType: Array<{ type: string; label: string; className: string; count: number | null | undefined }>;
}

/** The last campaigns side by side: clicks on activity, news and offer links of each. */
export function campaignClicksChart(campaigns: CampaignClicks[], nullText: string): SafeHtml {
  const types = campaigns[0]?.byType ?? [];
  const svg = groupedBars({
    id: 'clicks-chart',
    title: 'Klikk per blokktype i de siste nyhetsbrevene',
    desc: `${campaigns.length} nyhetsbrev, eldste først.`,
    seriesClasses: types.map((t) => t.className),
    nullText,
    groups: campaigns.map((c) => ({
      label: c.short,
      bars: c.byType.map((t) => ({
        value: t.count,
        title: `${c.name}: ${t.label}, ${t.count === null ? nullText : (t.count ?? 0)} klikk`,
      })),
    })),
  });
  const cell = (count: number | null | undefined) =>
    count === undefined ? '–' : count === null ? nullText : String(count);
  return html`<figure class="chart">
${svg}
<figcaption>${types.map((t) => html`<span class="legend legend-${t.className}">${t.label}</span> `)}</figcaption>
</figure>
<details class="chart-data"><summary>Vis tallene</summary>
<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Klikk per blokktype"><table><caption class="visually-hidden">Klikk per blokktype</caption>
<thead><tr><th scope="col">Nyhetsbrev</th>${types.map((t) => html`<th scope="col" class="num">${t.label}</th>`)}</tr></thead>
<tbody>${campaigns.map((c) => html`<tr><th scope="row">${c.name}</th>${c.byType.map((t) => html`<td class="num">${cell(t.count)}</td>`)}</tr>`)}</tbody>
</table></div></details>`;
}

/** A link of a campaign in its clicks chart. */
export interface LinkClicks {
  /** What the link is, e.g. «Blokk 2 · Nyhet: Ny serum». */
  label: string;
  /** Its button text. */
  detail: string;
  url: string;
  count: number | null;
  /** The bar's colour (admin.css), one per block type. */
  className: string;
}

/** Clicks per link (one per block) as horizontal bars; `null` is written out as `nullText`. */
export function linkClicksChart(links: LinkClicks[], nullText: string): SafeHtml {
  const rowH = 52;
  const left = 4;
  const right = 90;
  const plotW = W - left - right;
  const H = links.length * rowH + 6;
  const max = niceMax(Math.max(0, ...links.map((l) => l.count ?? 0)));
  const rows = links.map((l, i) => {
    const y = i * rowH + 4;
    const w = l.count === null ? 0 : Math.max(2, (l.count / max) * plotW);
    const value = l.count === null ? nullText : String(l.count);
    return html`<g><text x="${left}" y="${y + 15}" class="axis bar-label">${l.label} – «${l.detail}»</text>
${l.count === null ? '' : html`<rect x="${left}" y="${y + 24}" width="${w.toFixed(1)}" height="18" class="${l.className}" rx="2"><title>${l.label}: ${value} klikk</title></rect>`}
<text x="${(left + w + 8).toFixed(1)}" y="${y + 39}" class="axis${l.count === null ? ' withheld' : ''}">${value}</text></g>`;
  });
  return html`<figure class="chart">
${scrollBox(
  'Klikk per blokk',
  html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="link-clicks-title" preserveAspectRatio="xMidYMid meet">
<title id="link-clicks-title">Klikk per blokk</title>
${rows}
</svg>`,
)}
</figure>
<details class="chart-data"><summary>Vis tallene</summary>
<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Klikk per blokk"><table><caption class="visually-hidden">Klikk per blokk</caption>
<thead><tr><th scope="col">Blokk</th><th scope="col">Knapp</th><th scope="col">Adresse</th><th scope="col" class="num">Klikk</th></tr></thead>
<tbody>${links.map((l) => html`<tr><th scope="row">${l.label}</th><td>${l.detail}</td><td class="url">${l.url}</td><td class="num">${l.count === null ? nullText : l.count}</td></tr>`)}</tbody>
</table></div></details>`;
}
