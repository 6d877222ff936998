// The GraphQL operations the dashboard sends, and the shapes they return
// (schema/schema.graphql is the contract; only public fields are used).

/** `CityRechargeStats` of the SDL (issue 3): one city's recharges of one local calendar day. */
export interface CityStats {
  /** `YYYY-MM-DD`, local to the service's TIME_ZONE. */
  date: string;
  cityCode: string;
  cityName: string;
  /** Pinyin, e.g. Guangzhou: the labels (readable without CJK fonts). */
  cityNameEn: string;
  orders: number;
  succeeded: number;
  failed: number;
  /** 0..1 */
  successRate: number;
  /** Yuan, exact decimal string such as "1234.50". */
  amount: string;
  /** Milliseconds. */
  avgDurationMs: number;
}

/** `RechargeMinute`: the province's recharges of one minute of notify time. */
export interface RechargeMinute {
  /** ISO date-time, start of the minute (inclusive). */
  minuteStart: string;
  orders: number;
  failed: number;
  amount: string;
}

export interface HotProduct {
  rank: number;
  productId: string;
  clicks: number;
  category: string | null;
}

export interface DailyActiveUsers {
  date: string;
  activeUsers: number;
  newUsers: number;
}

export const CALLBACK_STATUSES = ['PENDING', 'CONTACTED', 'CONVERTED', 'DECLINED', 'UNREACHABLE'] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

/** A row of the abnormal-order feed: an `UnpaidUser`, or an `AbnormalUserDetection` before its status is known. */
export interface AbnormalUser {
  uid: string;
  phone: string;
  enterOrderCount: number;
  windowStart: string;
  /** End of the detecting window (exclusive), ISO date-time: the detection time. */
  windowEnd: string;
  /** null until the user's status was read (a detection carries none). */
  callbackStatus: CallbackStatus | null;
}

const CITY_FIELDS = 'date cityCode cityName cityNameEn orders succeeded failed successRate amount avgDurationMs';
const USER_FIELDS = 'uid phone enterOrderCount windowStart windowEnd callbackStatus';
const HOT_FIELDS = 'rank productId clicks category';

/** Newest abnormal-order users shown at load (and after a reconnection). */
export const FEED_PAGE = 50;
/** Products in the hot-products chart. */
export const HOT_LIMIT = 10;
/** Cities in the top-cities chart (the requirement's top 5). */
export const TOP_CITIES = 5;

/**
 * What the subscriptions keep up to date, read once at load and after each
 * reconnection (the cities come from {@link CITY_METRICS_SUBSCRIPTION}'s
 * snapshot instead, which resumes with its cursor). `rechargeSummary.date` is the service's "today" (its
 * TIME_ZONE, not the browser's): the day of {@link WINDOW_READS_QUERY}.
 */
export const SNAPSHOT_QUERY = /* GraphQL */ `
  query DashboardSnapshot {
    rechargeSummary { date }
    hotProducts(limit: ${HOT_LIMIT}) { ${HOT_FIELDS} }
    unpaidUsers(first: ${FEED_PAGE}) { totalCount edges { node { ${USER_FIELDS} } } }
  }
`;
export interface SnapshotResult {
  rechargeSummary: { date: string };
  hotProducts: HotProduct[];
  unpaidUsers: { totalCount: number; edges: Array<{ node: AbnormalUser }> };
}

/**
 * The reads no subscription carries (the last hour's minutes, the day's
 * active users): read at load and again when a subscription event says the
 * streams moved (throttled), never on a timer.
 */
export const WINDOW_READS_QUERY = /* GraphQL */ `
  query DashboardWindowReads($from: DateTime!, $to: DateTime!, $date: Date!) {
    rechargePerMinute(from: $from, to: $to) { minuteStart orders failed amount }
    dailyActiveUsers(from: $date, to: $date) { date activeUsers newUsers }
  }
`;
export interface WindowReadsResult {
  rechargePerMinute: RechargeMinute[];
  dailyActiveUsers: DailyActiveUsers[];
}

/**
 * One query for the status of several users (aliases `u0`, `u1`, ...) and the
 * new number of flagged users (`total`): a burst of detections costs one request.
 */
export function usersQuery(count: number): string {
  const vars = Array.from({ length: count }, (_, i) => `$u${i}: ID!`).join(', ');
  const fields = Array.from({ length: count }, (_, i) => `u${i}: unpaidUser(uid: $u${i}) { ${USER_FIELDS} }`).join('\n');
  return `query UnpaidUsersByUid(${vars}) {\ntotal: unpaidUsers(first: 0) { totalCount }\n${fields}\n}`;
}
export type UsersResult = { total: { totalCount: number } } & Record<`u${number}`, AbnormalUser | null>;

export const SET_CALLBACK_STATUS = /* GraphQL */ `
  mutation SetCallbackStatus($uid: ID!, $status: CallbackStatus!) {
    setCallbackStatus(uid: $uid, status: $status) { ${USER_FIELDS} }
  }
`;

/**
 * The cities: with `snapshot: true` (no cursor yet) today's values of every
 * city first, then their changes; after a reconnection `after: <the last
 * cursor>` resumes exactly where the page left off (no re-read, nothing
 * missed). Progress events keep the cursor current on a quiet stream.
 */
export const CITY_METRICS_SUBSCRIPTION = /* GraphQL */ `
  subscription DashboardCities($after: String, $snapshot: Boolean) {
    cityMetricsUpdated(after: $after, snapshot: $snapshot, withProgress: true) { kind cursor ${CITY_FIELDS} }
  }
`;
/** An event of {@link CITY_METRICS_SUBSCRIPTION}. */
export type CityMetricsEvent = CityStats & { kind: 'SNAPSHOT' | 'CHANGE' | 'PROGRESS'; cursor: string };
export const HOT_PRODUCTS_SUBSCRIPTION = /* GraphQL */ `
  subscription { hotProductsUpdated(limit: ${HOT_LIMIT}) { windowStart windowEnd products { ${HOT_FIELDS} } } }
`;
export const ABNORMAL_USER_SUBSCRIPTION = /* GraphQL */ `
  subscription { abnormalUserDetected { uid phone enterOrderCount windowStart windowEnd } }
`;
export interface HotProductsUpdate {
  windowStart: string;
  windowEnd: string;
  products: HotProduct[];
}
