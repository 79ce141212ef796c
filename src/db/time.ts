/**
 * Times in raw SQL: both drivers store UTC `YYYY-MM-DD HH:MM:SS.mmm` (TypeORM's format for SQLite;
 * DATETIME(3) with timezone Z on MySQL), so the same string binds and compares on both.
 */
export function toDbTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** Reads a time from a raw row: a Date (mysql2) or a UTC string (SQLite). */
export function fromDbTime(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  const s = String(v);
  return new Date(s.includes('T') ? s : s.replace(' ', 'T') + 'Z');
}

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
