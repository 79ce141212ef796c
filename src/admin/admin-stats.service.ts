import type { Clock } from '../db/time';
import type { MembersService } from '../members/members.service';
import { MEMBER_STATUSES, SOURCES, type MemberStatus, type Source } from '../members/member.entity';
import { osloLocalToDate, osloWeekStart, isoWeekNumber } from '../presentation/oslo-time';

export interface MemberCounts {
  byStatus: Record<MemberStatus, number>;
  /** Members by source and status (an erased member has no row, so is not counted). */
  bySource: Record<Source, Record<MemberStatus, number>>;
  total: number;
}

export interface WeekBucket {
  /** Monday of the week, `YYYY-MM-DD` (Oslo calendar). */
  weekStart: string;
  week: number;
  signups: number;
  withdrawals: number;
}

const zeroStatuses = () =>
  Object.fromEntries(MEMBER_STATUSES.map((s) => [s, 0])) as Record<MemberStatus, number>;

/**
 * Read-only aggregates for the dashboard. The rules (who is a member, what a status means)
 * stay in the members room; this only counts rows.
 */
export class AdminStatsService {
  private readonly members: MembersService;
  private readonly clock: Clock;

  constructor(deps: { members: MembersService; clock: Clock }) {
    this.members = deps.members;
    this.clock = deps.clock;
  }

  async memberCounts(): Promise<MemberCounts> {
    const rows = await this.members.countByStatusAndSource();
    const byStatus = zeroStatuses();
    const bySource = Object.fromEntries(SOURCES.map((s) => [s, zeroStatuses()])) as Record<
      Source,
      Record<MemberStatus, number>
    >;
    let total = 0;
    for (const r of rows) {
      const n = Number(r.n);
      const status = r.status as MemberStatus;
      if (!(status in byStatus)) continue;
      byStatus[status] += n;
      if (r.source in bySource) bySource[r.source as Source][status] += n;
      total += n;
    }
    return { byStatus, bySource, total };
  }

  /**
   * Sign-ups (consent given) and withdrawals per ISO week in Oslo time, the last `weeks` weeks
   * including the current one, from the consent history. Counted by the hour in SQL, then
   * folded into Oslo weeks here, so the week boundary is exact on both databases.
   */
  async weeklyConsent(weeks = 12): Promise<WeekBucket[]> {
    const thisMonday = osloWeekStart(this.clock());
    const buckets: WeekBucket[] = [];
    for (let i = weeks - 1; i >= 0; i--) {
      const monday = new Date(thisMonday.getTime() - i * 7 * 86400000);
      buckets.push({
        weekStart: monday.toISOString().slice(0, 10),
        week: isoWeekNumber(monday),
        signups: 0,
        withdrawals: 0,
      });
    }
    const from = osloLocalToDate(`${buckets[0].weekStart}T00:00`)!;
    const rows = await this.members.countConsentEventsByHour(['signup', 'withdrawal'], from);
    const index = new Map(buckets.map((b, i) => [b.weekStart, i]));
    for (const r of rows) {
      const i = index.get(osloWeekStart(r.hour).toISOString().slice(0, 10));
      if (i === undefined) continue;
      if (r.type === 'signup') buckets[i].signups += Number(r.n);
      else buckets[i].withdrawals += Number(r.n);
    }
    return buckets;
  }
}
