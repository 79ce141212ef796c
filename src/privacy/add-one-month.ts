/**
 * The answer deadline of a data-subject request (art. 12(3): «senest innen én måned»): the same
 * day of the next calendar month, or that month's last day when it has no such day
 * (31 Jan → 28/29 Feb, 31 Mar → 30 Apr). Calendar arithmetic in UTC; the time of day is kept.
 */
export function addOneMonth(date: Date): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  return new Date(
    Date.UTC(
      year,
      month,
      day,
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    ),
  );
}
