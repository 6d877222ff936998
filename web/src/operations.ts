// The GraphQL operations the dashboard sends. Their result and variable types
// are generated from schema/schema.graphql by GraphQL Code Generator
// (`npm run codegen` writes ./generated/graphql.ts from the operations below),
// so a field renamed or retyped in the schema breaks the dashboard's type
// check instead of its runtime. Only public fields are used.
//
// Every operation is a static string (the generator reads them from this file):
// fragments are appended with `${...}`, which the generator ignores and
// resolves by name, and sizes are variables, never interpolated.

import type { Operation } from './api-client';
import type {
  AbnormalUserFieldsFragment,
  DashboardAdClicksQuery,
  DashboardAdClicksQueryVariables,
  DashboardAdClicksUpdatedSubscription,
  DashboardAdClicksUpdatedSubscriptionVariables,
  CallbackStatus,
  DashboardAbnormalUserDetectedSubscription,
  DashboardCityMetricsSubscription,
  DashboardCityMetricsSubscriptionVariables,
  DashboardAbnormalUserDetectedSubscriptionVariables,
  DashboardHotProductsSubscription,
  DashboardHotProductsSubscriptionVariables,
  DashboardSnapshotQuery,
  DashboardSnapshotQueryVariables,
  DashboardWindowReadsQuery,
  DashboardWindowReadsQueryVariables,
  HotProductFieldsFragment,
  SetCallbackStatusMutation,
  SetCallbackStatusMutationVariables,
} from './generated/graphql';

export type { CallbackStatus } from './generated/graphql';

/** `CityRechargeStats`: one city's recharges of one local calendar day (`date` is `YYYY-MM-DD` in the service's TIME_ZONE, `amount` exact yuan such as "1234.50", `avgDurationMs` milliseconds). */
/** A city's stats of one day, as the cities' subscription carries them (its event without kind and cursor). */
export type CityStats = Omit<DashboardCityMetricsSubscription['cityMetricsUpdated'], 'kind' | 'cursor'>;
/** `RechargeMinute`: the province's recharges of one minute of notify time (`minuteStart` ISO date-time, inclusive). */
export type RechargeMinute = DashboardWindowReadsQuery['rechargePerMinute'][number];
export type HotProduct = HotProductFieldsFragment;
export type DailyActiveUsers = DashboardWindowReadsQuery['dailyActiveUsers'][number];
export type HotProductsUpdate = DashboardHotProductsSubscription['hotProductsUpdated'];
/** An `AbnormalUserDetection` as the subscription delivers it: no callback status. */
export type AbnormalUserDetection = DashboardAbnormalUserDetectedSubscription['abnormalUserDetected'];

/** Every value of `CallbackStatus`, in the order of the feed's select. */
export const CALLBACK_STATUSES = [
  'PENDING',
  'CONTACTED',
  'CONVERTED',
  'DECLINED',
  'UNREACHABLE',
] as const satisfies readonly CallbackStatus[];

/** A row of the abnormal-order feed: an `UnpaidUser`, or an `AbnormalUserDetection` before its status is known. */
export type AbnormalUser = Omit<AbnormalUserFieldsFragment, 'callbackStatus'> & {
  /** null until the user's status was read (a detection carries none). */
  callbackStatus: CallbackStatus | null;
};

/** Newest abnormal-order users shown at load (and after a reconnection). */
export const FEED_PAGE = 50;
/** Products in the hot-products chart. */
export const HOT_LIMIT = 10;
/** Cities in the top-cities chart (the dashboard shows the top 5). */
export const TOP_CITIES = 5;

const USER_FIELDS = /* GraphQL */ `
  fragment AbnormalUserFields on UnpaidUser {
    uid
    phone
    enterOrderCount
    windowStart
    windowEnd
    callbackStatus
  }
`;
const HOT_FIELDS = /* GraphQL */ `
  fragment HotProductFields on HotProduct {
    rank
    productId
    clicks
    category
  }
`;

/**
 * What the subscriptions keep up to date, read once at load and after each
 * reconnection (the cities come from {@link CITY_METRICS_SUBSCRIPTION}'s
 * snapshot instead, which resumes with its cursor). `rechargeSummary.date` is the service's "today" (its
 * TIME_ZONE, not the browser's): the day of {@link WINDOW_READS_QUERY}.
 * Variables: `{ hotLimit: HOT_LIMIT, feedPage: FEED_PAGE }`.
 */
export const SNAPSHOT_QUERY: Operation<DashboardSnapshotQuery, DashboardSnapshotQueryVariables> = /* GraphQL */ `
  query DashboardSnapshot($hotLimit: Int!, $feedPage: Int!) {
    rechargeSummary {
      date
    }
    hotProducts(limit: $hotLimit) {
      ...HotProductFields
    }
    unpaidUsers(first: $feedPage) {
      totalCount
      edges {
        node {
          ...AbnormalUserFields
        }
      }
    }
  }
  ${HOT_FIELDS}
  ${USER_FIELDS}
`;

/**
 * The reads no subscription carries (the last hour's minutes, the day's
 * active users): read at load and again when a subscription event says the
 * streams moved (throttled), never on a timer.
 */
export const WINDOW_READS_QUERY: Operation<DashboardWindowReadsQuery, DashboardWindowReadsQueryVariables> =
  /* GraphQL */ `
    query DashboardWindowReads($from: DateTime!, $to: DateTime!, $date: Date!) {
      rechargePerMinute(from: $from, to: $to) {
        minuteStart
        orders
        failed
        amount
      }
      dailyActiveUsers(from: $date, to: $date) {
        date
        activeUsers
        newUsers
      }
    }
  `;

/** Most users whose status one {@link usersQuery} reads. */
export const STATUS_BATCH_MAX = 20;

/**
 * One query for the status of several users (aliases `u0`, `u1`, ...) and the
 * new number of flagged users (`total`): a burst of detections costs one
 * request. Its shape depends on `count`, so it cannot be generated; each alias
 * selects the generated {@link AbnormalUserFieldsFragment}.
 */
export function usersQuery(count: number): Operation<UsersResult, Record<`u${number}`, string>> {
  const vars = Array.from({ length: count }, (_, i) => `$u${i}: ID!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, i) => `u${i}: unpaidUser(uid: $u${i}) { ...AbnormalUserFields }`,
  ).join('\n');
  return `query UnpaidUsersByUid(${vars}) {\ntotal: unpaidUsers(first: 0) { totalCount }\n${fields}\n}\n${USER_FIELDS}`;
}
export type UsersResult = { total: { totalCount: number } } & Record<`u${number}`, AbnormalUserFieldsFragment | null>;

export const SET_CALLBACK_STATUS: Operation<SetCallbackStatusMutation, SetCallbackStatusMutationVariables> =
  /* GraphQL */ `
    mutation SetCallbackStatus($uid: ID!, $status: CallbackStatus!) {
      setCallbackStatus(uid: $uid, status: $status) {
        ...AbnormalUserFields
      }
    }
    ${USER_FIELDS}
  `;

/**
 * The cities: with `snapshot: true` (no cursor yet) today's values of every
 * city first, then their changes; after a reconnection `after: <the last
 * cursor>` resumes exactly where the page left off (no re-read, nothing
 * missed). Progress events keep the cursor current on a quiet stream.
 */
export const CITY_METRICS_SUBSCRIPTION: Operation<
  DashboardCityMetricsSubscription,
  DashboardCityMetricsSubscriptionVariables
> = /* GraphQL */ `
  subscription DashboardCityMetrics($after: String, $snapshot: Boolean) {
    cityMetricsUpdated(after: $after, snapshot: $snapshot, withProgress: true) {
      kind
      cursor
      date
      cityCode
      cityName
      cityNameEn
      orders
      succeeded
      failed
      successRate
      amount
      avgDurationMs
    }
  }
`;
/** An event of {@link CITY_METRICS_SUBSCRIPTION}. */
export type CityMetricsEvent = DashboardCityMetricsSubscription['cityMetricsUpdated'];
/** Variables: `{ limit: HOT_LIMIT }`. */
export const HOT_PRODUCTS_SUBSCRIPTION: Operation<
  DashboardHotProductsSubscription,
  DashboardHotProductsSubscriptionVariables
> = /* GraphQL */ `
  subscription DashboardHotProducts($limit: Int!) {
    hotProductsUpdated(limit: $limit) {
      windowStart
      windowEnd
      products {
        ...HotProductFields
      }
    }
  }
  ${HOT_FIELDS}
`;
export const ABNORMAL_USER_SUBSCRIPTION: Operation<
  DashboardAbnormalUserDetectedSubscription,
  DashboardAbnormalUserDetectedSubscriptionVariables
> = /* GraphQL */ `
  subscription DashboardAbnormalUserDetected {
    abnormalUserDetected {
      uid
      phone
      enterOrderCount
      windowStart
      windowEnd
    }
  }
`;
/** Ads in the ad-clicks panel. */
export const AD_LIMIT = 8;
/** The ad-clicks panel's range: the last this many minutes. */
export const AD_MINUTES = 10;

/**
 * The ad-clicks panel: the `limit` ads with the most counted clicks over
 * [from, to) and every ad's clicks the blacklist dropped, by reason. Read at
 * load and when {@link AD_CLICKS_UPDATED_SUBSCRIPTION} says the counts moved (throttled).
 */
export const AD_CLICKS_QUERY: Operation<DashboardAdClicksQuery, DashboardAdClicksQueryVariables> = /* GraphQL */ `
  query DashboardAdClicks($from: DateTime!, $to: DateTime!, $limit: Int!) {
    adClickTotals(from: $from, to: $to, limit: $limit) {
      adId
      clicks
      blockedByUser
      blockedByIp
    }
    blockedClicks(from: $from, to: $to) {
      clicks
      blockedByUser
      blockedByIp
      blocked
    }
  }
`;
export type AdClicks = DashboardAdClicksQuery;
/** A wake-up for the panel: an (ad, minute) changed. */
export const AD_CLICKS_UPDATED_SUBSCRIPTION: Operation<
  DashboardAdClicksUpdatedSubscription,
  DashboardAdClicksUpdatedSubscriptionVariables
> = /* GraphQL */ `
  subscription DashboardAdClicksUpdated {
    adClicksUpdated {
      adId
    }
  }
`;
/**
 * Every document the dashboard sends, text exactly as sent: `npm run build`
 * writes their sha256 hashes into the service's trusted-documents list
 * (TRUSTED_DOCUMENTS_ONLY=true runs these and nothing else).
 */
export function dashboardDocuments(): string[] {
  return [
    SNAPSHOT_QUERY,
    WINDOW_READS_QUERY,
    SET_CALLBACK_STATUS,
    CITY_METRICS_SUBSCRIPTION,
    HOT_PRODUCTS_SUBSCRIPTION,
    ABNORMAL_USER_SUBSCRIPTION,
    AD_CLICKS_QUERY,
    AD_CLICKS_UPDATED_SUBSCRIPTION,
    ...Array.from({ length: STATUS_BATCH_MAX }, (_, i) => usersQuery(i + 1)),
  ];
}
