import { InvalidTimeZoneError } from '../errors/invalid-time-zone-error.js';
import { DAY_MS, HOUR_MS } from './time-units.js';

/**
 * Calendar days and local wall-clock times of one IANA time zone, for the
 * per-day buckets of the jobs (Asia/Shanghai by default). Pure apart from the
 * runtime's time-zone database; fast on the hot path: the zone's offset is
 * computed once per UTC hour and cached.
 */
export class ZonedCalendar {
  private readonly format: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  /** @throws {InvalidTimeZoneError} for an unknown zone. */
  constructor(readonly timeZone: string) {
    try {
      this.format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch (err) {
      throw new InvalidTimeZoneError(timeZone, { cause: err });
    }
  }

  /** The zone's offset from UTC at `epochMs`, in milliseconds (+8 h = 28_800_000 for Asia/Shanghai). */
  offsetMs(epochMs: number): number {
    const hour = Math.floor(epochMs / HOUR_MS);
    let offset = this.offsets.get(hour);
    if (offset === undefined) {
      const p = Object.fromEntries(this.format.formatToParts(hour * HOUR_MS).map((x) => [x.type, x.value]));
      offset = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - hour * HOUR_MS;
      if (this.offsets.size > 100_000) this.offsets.clear();
      this.offsets.set(hour, offset);
    }
    return offset;
  }

  /** The local calendar date of `epochMs`, `YYYY-MM-DD`. */
  dateOf(epochMs: number): string {
    return new Date(epochMs + this.offsetMs(epochMs)).toISOString().slice(0, 10);
  }

  /** Epoch milliseconds of local midnight starting `date` (`YYYY-MM-DD`). */
  startOfDay(date: string): number {
    return this.fromLocal(Date.parse(`${date}T00:00:00Z`));
  }

  /** Epoch milliseconds of local midnight ending `date`, i.e. the next day's start. */
  endOfDay(date: string): number {
    return this.fromLocal(Date.parse(`${date}T00:00:00Z`) + DAY_MS);
  }

  /**
   * Epoch milliseconds of a local wall-clock time given as if it were UTC
   * (`Date.UTC(y, m, d, h, mi, s, ms)` of the local fields). Around a DST gap
   * or overlap the earlier offset wins.
   */
  fromLocal(localAsUtcMs: number): number {
    const guess = localAsUtcMs - this.offsetMs(localAsUtcMs);
    return localAsUtcMs - this.offsetMs(guess);
  }
}
