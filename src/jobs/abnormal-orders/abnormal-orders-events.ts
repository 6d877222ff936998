/**
 * A user detected in one window, as published after the commit (a wake-up
 * for the API processes' change-log tailers) and as stored in the change log.
 * Times are ISO-8601 strings (UTC) because the payload crosses Redis and the log as JSON.
 */
export interface AbnormalUserDetectedEvent {
  uid: string;
  phone: string;
  enterOrderCount: number;
  windowStart: string;
  windowEnd: string;
  /**
   * The callback status a CRM had set when the user was detected (a
   * re-detection); absent when none was ever set.
   */
  callbackStatus?: string;
}

/** Worker -> API processes: a batch committed detections (a wake-up of the change-log tailers). */
export const TOPIC_ABNORMAL_USER_DETECTED = 'ABNORMAL_USER_DETECTED' as const;

/** Kinds of the change-log entries of the abnormal-orders stream. */
export const ABNORMAL_ORDERS_CHANGE_KIND = {
  abnormalUserDetected: 'abnormal-user-detected',
  /** A CRM set a user's callback status (partition -1, job-wide). */
  callbackStatusChanged: 'callback-status-changed',
} as const;
