/**
 * The recharge vocabulary of the job's parts: the parsed event (format), what
 * a batch adds (aggregation, store) and the absolute stats that are stored, served
 * from Redis, published and queried. Amounts are FEN in deltas and exact yuan
 * decimal strings in stats; times are epoch MILLISECONDS.
 */

/** One parsed `reChargeNotifyReq` record. */
export interface RechargeEvent {
  readonly orderId: string;
  /** `bussinessRst === "0000"`. */
  readonly succeeded: boolean;
  /** `chargefee` in FEN (1/100 yuan), an exact integer (parsed from the string, never through a float). */
  readonly amountFen: number;
  /** Request time (first 17 characters of `requestId`), epoch MILLISECONDS. */
  readonly requestTimeMs: number;
  /** `receiveNotifyTime`, epoch MILLISECONDS: the event time. */
  readonly notifyTimeMs: number;
  /** notify time - request time, MILLISECONDS, >= 0. */
  readonly durationMs: number;
  readonly provinceCode: string;
  readonly cityCode: string;
}

/** What one batch adds to one city's day (`recharge_city_daily`). */
export interface CityDayDelta {
  /** Calendar date of the notify time in TIME_ZONE, `YYYY-MM-DD`. */
  day: string;
  cityCode: string;
  orders: number;
  succeeded: number;
  failed: number;
  /** Successful recharges only, FEN. */
  amountFen: number;
  /** Over every counted order (failures included), milliseconds. */
  durationMsSum: number;
}

/** What one batch adds to one minute of the whole province (`recharge_minute`). */
export interface MinuteDelta {
  /** Start of the minute of the notify time, epoch MILLISECONDS (UTC minutes). */
  minuteStartMs: number;
  orders: number;
  succeeded: number;
  /** Successful recharges only, FEN. */
  amountFen: number;
}

/** A row of the seeded `city` table. */
export interface CityRow {
  /** Administrative division code, e.g. `440100`. */
  code: string;
  /** Official name, e.g. 广州市. */
  name: string;
  /** Name in pinyin, e.g. Guangzhou. */
  nameEn: string;
  /** City centre, degrees (GCJ-02). */
  longitude: number;
  latitude: number;
  provinceCode: string;
}

/** One city's recharges of one calendar day, absolute values. */
export interface CityDailyStats {
  /** Calendar date in TIME_ZONE, `YYYY-MM-DD`. */
  date: string;
  cityCode: string;
  orders: number;
  succeeded: number;
  failed: number;
  /** Yuan of the successful recharges as an exact decimal string with 2 decimals, e.g. "1234.50". */
  amount: string;
  /** Sum of the orders' durations, milliseconds. */
  durationMsSum: number;
}

/** The whole province's recharges of one minute, absolute values. */
export interface MinuteStats {
  /** Start of the minute, epoch MILLISECONDS (UTC minutes). */
  minuteStartMs: number;
  orders: number;
  succeeded: number;
  /** Yuan of the successful recharges as an exact decimal string with 2 decimals. */
  amount: string;
}
