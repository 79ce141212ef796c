import { html, type SafeHtml } from '../../presentation/escape';
import type { WeekBucket } from '../admin-stats.service';

/** An axis of four even steps of 1, 2, 2.5 or 5 × 10^n that holds `v`. */
function niceMax(v: number): number {
  const raw = Math.max(1, v / 4);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw && Number.isInteger(s)) ?? 10 * p;
  return step * 4;
}

/**
 * Sign-ups vs withdrawals per week as grouped bars, drawn on the server as inline SVG (no chart
 * library, no script). The numbers are also in a table for screen readers.
 */
export function weeklyChart(weeks: WeekBucket[]): SafeHtml {
  const W = 720;
  const H = 240;
  const left = 44;
  const right = 8;
  const top = 14;
  const bottom = 34;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = niceMax(Math.max(0, ...weeks.flatMap((w) => [w.signups, w.withdrawals])));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const group = plotW / weeks.length;
  const bar = Math.min(18, group / 3);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f));
  const totalIn = weeks.reduce((s, w) => s + w.signups, 0);
  const totalOut = weeks.reduce((s, w) => s + w.withdrawals, 0);

  const grid = ticks.map(
    (t) =>
      html`<line x1="${left}" x2="${W - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/><text x="${left - 8}" y="${(y(t) + 4).toFixed(1)}" class="axis" text-anchor="end">${t}</text>`,
  );
  const bars = weeks.map((w, i) => {
    const cx = left + group * i + group / 2;
    const xIn = cx - bar - 1.5;
    const xOut = cx + 1.5;
    const hIn = top + plotH - y(w.signups);
    const hOut = top + plotH - y(w.withdrawals);
    return html`<g><rect x="${xIn.toFixed(1)}" y="${y(w.signups).toFixed(1)}" width="${bar.toFixed(1)}" height="${hIn.toFixed(1)}" class="bar-in" rx="2"><title>Uke ${w.week}: ${w.signups} innmeldinger</title></rect>
<rect x="${xOut.toFixed(1)}" y="${y(w.withdrawals).toFixed(1)}" width="${bar.toFixed(1)}" height="${hOut.toFixed(1)}" class="bar-out" rx="2"><title>Uke ${w.week}: ${w.withdrawals} utmeldinger</title></rect>
<text x="${cx.toFixed(1)}" y="${H - bottom + 18}" class="axis" text-anchor="middle">${w.week}</text></g>`;
  });

  return html`<figure class="chart">
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">
<title id="chart-title">Innmeldinger og utmeldinger per uke</title>
<desc id="chart-desc">Siste ${weeks.length} uker: ${totalIn} innmeldinger og ${totalOut} utmeldinger i alt.</desc>
${grid}
<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" class="baseline"/>
${bars}
</svg>
<figcaption><span class="legend legend-in">Innmeldinger (samtykke gitt)</span> <span class="legend legend-out">Utmeldinger</span> <span class="muted">Ukenummer, norsk tid</span></figcaption>
</figure>
<details class="chart-data"><summary>Vis tallene</summary>
<div class="table-wrap"><table><caption class="visually-hidden">Innmeldinger og utmeldinger per uke</caption>
<thead><tr><th scope="col">Uke</th><th scope="col">Fra</th><th scope="col" class="num">Innmeldinger</th><th scope="col" class="num">Utmeldinger</th></tr></thead>
<tbody>${weeks.map((w) => html`<tr><th scope="row">${w.week}</th><td>${w.weekStart.split('-').reverse().join('.')}</td><td class="num">${w.signups}</td><td class="num">${w.withdrawals}</td></tr>`)}</tbody>
</table></div></details>`;
}
