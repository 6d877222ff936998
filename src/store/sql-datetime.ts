/**
 * An instant as a MariaDB DATETIME(3) literal in UTC (the columns hold UTC),
 * `YYYY-MM-DD HH:MM:SS.mmm`, for comparisons in raw SQL. A JavaScript Date
 * parameter reaches the server as an ISO string with `T` and `Z`, which
 * MariaDB takes as a truncated datetime: the comparison is then evaluated row
 * by row and the index range on the column is lost.
 * @param instant a Date or epoch MILLISECONDS.
 */
export function sqlDatetime(instant: Date | number): string {
  return new Date(instant).toISOString().slice(0, 23).replace('T', ' ');
}
