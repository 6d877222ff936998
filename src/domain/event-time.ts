/**
 * Dead-letter reason of a record whose event time is further ahead of its
 * Kafka timestamp than MAX_EVENT_TIME_AHEAD_MS allows: a device or producer
 * clock that is wrong. Such a record never moves a watermark, a stream time
 * or a bucket (`eventTimeAheadError` in the window engine's folder).
 */
export const EVENT_TIME_AHEAD = 'event-time-ahead';

/**
 * Dead-letter reason of a timestamp in the wrong unit: a value that can only
 * be milliseconds or microseconds where the format carries seconds, or
 * seconds, microseconds or nanoseconds where it carries milliseconds.
 */
export const EVENT_TIME_UNIT = 'event-time-unit';
