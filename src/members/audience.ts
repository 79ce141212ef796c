import { placeholders } from '../db/sql';
import type { Source } from './member.entity';

/** Who receives a campaign: active members, narrowed by each list given. */
export interface Audience {
  sources?: Source[];
  partnerIds?: string[];
}

const SQL_ALIAS = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * SQL WHERE fragment over the members table (aliased `alias`) with `?` placeholders, on SQLite
 * and MySQL alike. Only `active` members are ever in an audience; each non-empty list narrows it.
 */
export function audienceFilter(audience: Audience | null, alias = 'm'): { sql: string; params: unknown[] } {
  if (!SQL_ALIAS.test(alias)) throw new TypeError(`not a SQL alias: ${alias}`);
  const clauses = [`${alias}.status = 'active'`];
  const params: unknown[] = [];
  const sources = [...new Set(audience?.sources ?? [])];
  if (sources.length > 0) {
    clauses.push(`${alias}.source IN (${placeholders(sources.length)})`);
    params.push(...sources);
  }
  const partnerIds = [...new Set(audience?.partnerIds ?? [])];
  if (partnerIds.length > 0) {
    clauses.push(`${alias}.partner_id IN (${placeholders(partnerIds.length)})`);
    params.push(...partnerIds);
  }
  return { sql: clauses.join(' AND '), params };
}

/**
 * The same rule as audienceFilter, for one member read right before handoff: a member who no
 * longer matches (left, restricted, moved to another partner) is not mailed.
 */
export function inAudience(
  member: { status: string; source: string; partnerId: string | null },
  audience: Audience | null,
): boolean {
  if (member.status !== 'active') return false;
  if (audience?.sources?.length && !audience.sources.includes(member.source as Source)) return false;
  const partners = audience?.partnerIds ?? [];
  if (partners.length && (member.partnerId === null || !partners.includes(member.partnerId))) return false;
  return true;
}

/** Drops empty lists and duplicates, so a stored audience says exactly what filters. */
export function normalizeAudience(audience: Audience | null | undefined): Audience | null {
  const out: Audience = {};
  if (audience?.sources?.length) out.sources = [...new Set(audience.sources)];
  if (audience?.partnerIds?.length) out.partnerIds = [...new Set(audience.partnerIds)];
  return out.sources || out.partnerIds ? out : null;
}
