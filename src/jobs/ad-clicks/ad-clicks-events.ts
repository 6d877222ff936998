/**
 * One (ad, minute) after a commit that changed it: absolute values as read back
 * inside that commit, so a subscriber keeps the newest per key. Times are
 * ISO-8601 strings (UTC) because the payload crosses the change log as JSON.
 */
export interface AdClicksChangedPayload {
  adId: string;
  /** Window start (inclusive), ISO-8601; the window ends a minute later. */
  minute: string;
  /** Clicks counted (neither the user nor the IP on the blacklist). */
  clicks: number;
  /** Clicks dropped because their user was on the blacklist. */
  blockedByUser: number;
  /** Clicks dropped because their IP (and not their user) was on the blacklist. */
  blockedByIp: number;
}

/** Worker -> API processes: a commit changed ad minutes (a wake-up of the change-log tailers). */
export const TOPIC_AD_CLICKS_CHANGED = 'AD_CLICKS_CHANGED' as const;

/** Kinds of the change-log entries of the ad-clicks stream. */
export const AD_CLICKS_CHANGE_KIND = {
  /** An (ad, minute) a batch changed, with its values after the commit. */
  adMinuteChanged: 'ad-minute-changed',
} as const;
