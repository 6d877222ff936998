import { EVENT_TIME_UNIT } from '../../domain/event-time.js';
import { MalformedRecordError } from '../../errors/malformed-record-error.js';
import {
  kindOfValue,
  parseJsonObject,
  requireEpochMillis,
  requireText,
  shownValue,
} from '../../ingest/formats/json-object.js';
import { ByteStringCache } from '../../ingest/formats/byte-string-cache.js';
import {
  asBytes,
  bytesEqual,
  CH_0,
  CH_9,
  CLOSE,
  COLON,
  COMMA,
  OPEN,
  plainStringEnd,
  Q,
} from '../../ingest/formats/json-bytes.js';

/**
 * The `product-clicks` topic's record format. Any key; value = one JSON object, e.g.
 *
 *     {"event_time": 1554652800123, "product_id": "p1234", "action": "click", "user_id": "u_1233", "category": "phone"}
 *
 * | field        | type    | required | notes                                                          |
 * |--------------|---------|----------|----------------------------------------------------------------|
 * | `event_time` | number  | yes      | epoch MILLISECONDS (not seconds), an integer >= 1e11 (1973-03-03): a 10-digit value is epoch seconds sent by mistake |
 * | `product_id` | string  | yes      | 1 to 64 characters                                             |
 * | `action`     | string  | yes      | 1 to 32 characters; `click` ranks, any other action is only counted |
 * | `user_id`    | string  | yes      | 1 to 128 characters                                            |
 * | `category`   | string  | no       | 1 to 64 characters; absent, `null` or `""` = no category        |
 *
 * Other fields are ignored.
 */
export const PRODUCT_CLICK_FIELDS = ['event_time', 'product_id', 'action', 'user_id', 'category'] as const;

/** The action that counts as a click (ranks); every other action is counted apart. */
export const CLICK_ACTION = 'click';

/** Longest accepted `product_id`, in characters (UTF-16 code units); the column is VARCHAR(64). */
export const MAX_PRODUCT_ID_LENGTH = 64;
/** Longest accepted `action`, in characters. */
export const MAX_ACTION_LENGTH = 32;
/** Longest accepted `user_id`, in characters. */
export const MAX_USER_ID_LENGTH = 128;
/** Longest accepted `category`, in characters. */
export const MAX_CATEGORY_LENGTH = 64;
/**
 * Smallest accepted `event_time`, epoch MILLISECONDS (1973-03-03T09:46:40Z).
 * Epoch seconds of any date after 1973 are below it, so a producer that sends
 * seconds is caught here instead of filling 1970's minute buckets.
 */
export const MIN_EVENT_TIME_MS = 100_000_000_000;
/** Largest accepted `event_time`, epoch MILLISECONDS (9999-12-31T23:59:59.999Z, the DATETIME range). */
export const MAX_EVENT_TIME_MS = 253_402_300_799_999;

/** Every `reason` {@link parseProductClick} can put on a {@link MalformedRecordError}. */
export type ProductClickMalformedReason =
  | 'empty-value'
  | 'encoding'
  | 'bad-json'
  | 'not-an-object'
  | 'missing-field'
  | 'bad-event-time'
  | typeof EVENT_TIME_UNIT
  | 'bad-product-id'
  | 'bad-action'
  | 'bad-user-id'
  | 'bad-category';

/** One parsed `product-clicks` record. */
export interface ProductClickEvent {
  /** Epoch MILLISECONDS. */
  readonly eventTimeMs: number;
  readonly productId: string;
  /** `click` ({@link CLICK_ACTION}) or another action, e.g. `view`, `cart`. */
  readonly action: string;
  readonly userId: string;
  /** `null` when the record has none. */
  readonly category: string | null;
}

const CH_1 = 0x31;
const CH_N = 0x6e; // n

/** Kind of a value the lean path took: a string, an integer, `null`. */
const STRING = 1;
const INTEGER = 2;
const NULL = 3;

const K_EVENT_TIME = asBytes('event_time');
const K_PRODUCT_ID = asBytes('product_id');
const K_ACTION = asBytes('action');
const K_USER_ID = asBytes('user_id');
const K_CATEGORY = asBytes('category');
const V_CLICK = asBytes(CLICK_ACTION);
const V_NULL = asBytes('null');
/** Digits of the smallest and the largest accepted event time. */
const MIN_EVENT_TIME_DIGITS = String(MIN_EVENT_TIME_MS).length;
const MAX_EVENT_TIME_DIGITS = String(MAX_EVENT_TIME_MS).length;

/**
 * Strings of the product ids, actions and categories seen lately: a catalogue
 * repeats them in every record. 8,192 slots of at most 64 characters: under a
 * megabyte whatever the catalogue size.
 */
const recent = new ByteStringCache(8192);

/**
 * The lean path of {@link parseProductClick}, on the raw bytes: no UTF-8
 * decoding, no JSON.parse, no object per record, and strings only for the
 * event's fields, the repeated ones (product id, action, category) shared
 * through a cache (JSON.parse and its garbage were the largest cost per
 * record of the job). It takes only the shape producers write: one flat JSON
 * object without whitespace whose values are ASCII strings without escapes,
 * integers or `null` (so the bytes are valid UTF-8 and JSON, and the values
 * are what JSON.parse would read; a key given twice counts last, as in
 * JSON.parse), and only records that pass every check.
 *
 * @returns the event, exactly as {@link parseFull} would return it;
 *   `undefined` when the value is not of that shape or fails a check:
 *   {@link parseFull} then decides, and throws its error.
 *
 * Exported for the tests that check it takes every valid record the producers write.
 */
export function parseLean(b: Buffer): ProductClickEvent | undefined {
  const n = b.length;
  if (n < 2 || b[0] !== OPEN || b[n - 1] !== CLOSE) return undefined;
  // [start, end) and kind of each needed value; kind 0: absent.
  let timeS = 0;
  let timeE = 0;
  let timeK = 0;
  let productS = 0;
  let productE = 0;
  let productK = 0;
  let actionS = 0;
  let actionE = 0;
  let actionK = 0;
  let userS = 0;
  let userE = 0;
  let userK = 0;
  let categoryS = 0;
  let categoryE = 0;
  let categoryK = 0;
  let i = 1;
  for (;;) {
    if (b[i] !== Q) return undefined;
    const ks = i + 1;
    const ke = plainStringEnd(b, ks, n);
    if (ke < 0) return undefined;
    i = ke + 1;
    if (b[i++] !== COLON) return undefined;
    let vs: number;
    let ve: number;
    let kind: number;
    const first = b[i];
    if (first === Q) {
      vs = i + 1;
      ve = plainStringEnd(b, vs, n);
      if (ve < 0) return undefined;
      i = ve + 1;
      kind = STRING;
    } else if (first >= CH_1 && first <= CH_9) {
      // A JSON integer without sign, leading zero, fraction or exponent; anything else is declined.
      vs = i;
      while (i < n && b[i] >= CH_0 && b[i] <= CH_9) i++;
      ve = i;
      kind = INTEGER;
    } else if (first === CH_N && bytesEqual(b, i, i + 4, V_NULL)) {
      vs = i;
      ve = i += 4;
      kind = NULL;
    } else {
      return undefined;
    }
    switch (ke - ks) {
      case 6:
        if (bytesEqual(b, ks, ke, K_ACTION)) {
          actionS = vs;
          actionE = ve;
          actionK = kind;
        }
        break;
      case 7:
        if (bytesEqual(b, ks, ke, K_USER_ID)) {
          userS = vs;
          userE = ve;
          userK = kind;
        }
        break;
      case 8:
        if (bytesEqual(b, ks, ke, K_CATEGORY)) {
          categoryS = vs;
          categoryE = ve;
          categoryK = kind;
        }
        break;
      case 10:
        if (bytesEqual(b, ks, ke, K_EVENT_TIME)) {
          timeS = vs;
          timeE = ve;
          timeK = kind;
        } else if (bytesEqual(b, ks, ke, K_PRODUCT_ID)) {
          productS = vs;
          productE = ve;
          productK = kind;
        }
        break;
    }
    if (b[i] === COMMA) {
      i++;
      continue;
    }
    if (i === n - 1) break; // the closing brace, checked above
    return undefined;
  }
  // Absent fields, other kinds and any failed check go to the full path for their error.
  if (timeK !== INTEGER) return undefined;
  const digits = timeE - timeS;
  if (digits < MIN_EVENT_TIME_DIGITS || digits > MAX_EVENT_TIME_DIGITS) return undefined;
  let eventTimeMs = 0;
  for (let j = timeS; j < timeE; j++) eventTimeMs = eventTimeMs * 10 + (b[j] - CH_0);
  // At most 15 digits: exact, below 2^53.
  if (eventTimeMs < MIN_EVENT_TIME_MS || eventTimeMs > MAX_EVENT_TIME_MS) return undefined;
  if (productK !== STRING || productE === productS || productE - productS > MAX_PRODUCT_ID_LENGTH) return undefined;
  if (actionK !== STRING || actionE === actionS || actionE - actionS > MAX_ACTION_LENGTH) return undefined;
  if (userK !== STRING || userE === userS || userE - userS > MAX_USER_ID_LENGTH) return undefined;
  let category: string | null = null;
  if (categoryK === STRING) {
    if (categoryE - categoryS > MAX_CATEGORY_LENGTH) return undefined;
    if (categoryE > categoryS) category = recent.get(b, categoryS, categoryE);
  } else if (categoryK === INTEGER) {
    return undefined;
  }
  return {
    eventTimeMs,
    productId: recent.get(b, productS, productE),
    action: bytesEqual(b, actionS, actionE, V_CLICK) ? CLICK_ACTION : recent.get(b, actionS, actionE),
    userId: b.toString('latin1', userS, userE),
    category,
  };
}

/**
 * Parses one `product-clicks` record value (see {@link PRODUCT_CLICK_FIELDS}
 * for the format).
 *
 * @param value the Kafka record value: UTF-8 bytes, an already decoded
 *   string, or `null` (a tombstone).
 * @returns the checked fields; `eventTimeMs` is epoch MILLISECONDS as sent.
 * @throws {MalformedRecordError} code `MALFORMED_RECORD`; `reason` is one of
 *   {@link ProductClickMalformedReason}: `empty-value` (null or empty),
 *   `encoding` (bytes that are not UTF-8), `bad-json` (not JSON),
 *   `not-an-object` (JSON, but not an object), `missing-field` (a required
 *   field is absent), `bad-event-time` (not an integer number of epoch
 *   milliseconds between {@link MIN_EVENT_TIME_MS} and {@link MAX_EVENT_TIME_MS}:
 *   a string, a fraction, a number of no unit), `event-time-unit` (epoch
 *   seconds, microseconds or nanoseconds), `bad-product-id`, `bad-action`,
 *   `bad-user-id`, `bad-category` (not a string, empty where required, or too
 *   long). The message names the field, what was expected and what was found.
 */
export function parseProductClick(value: Buffer | string | null): ProductClickEvent {
  if (typeof value !== 'string' && value != null) {
    const fast = parseLean(value);
    if (fast !== undefined) return fast;
  }
  return parseFull(value);
}

/**
 * The reference parse (UTF-8 check, JSON.parse, then every check with its
 * message): what {@link parseProductClick} returns or throws for every value,
 * the values the lean path declines included.
 */
export function parseFull(value: Buffer | string | null): ProductClickEvent {
  const obj = parseJsonObject(value);

  const time = requireEpochMillis(obj, 'event_time', {
    minMs: MIN_EVENT_TIME_MS,
    maxMs: MAX_EVENT_TIME_MS,
    minLabel: '1973-03-03',
    maxLabel: '9999-12-31',
  });

  const productId = requireText(obj, 'product_id', 'bad-product-id', MAX_PRODUCT_ID_LENGTH);
  const action = requireText(obj, 'action', 'bad-action', MAX_ACTION_LENGTH);
  const userId = requireText(obj, 'user_id', 'bad-user-id', MAX_USER_ID_LENGTH);

  let category: string | null = null;
  const c = obj.category;
  if (c !== undefined && c !== null && c !== '') {
    if (typeof c !== 'string')
      throw new MalformedRecordError(
        'bad-category',
        `category: expected a string, null or nothing, got ${kindOfValue(c)}`,
      );
    if (c.length > MAX_CATEGORY_LENGTH) {
      throw new MalformedRecordError(
        'bad-category',
        `category: expected at most ${MAX_CATEGORY_LENGTH} characters, got ${c.length} (${shownValue(c)})`,
      );
    }
    category = c;
  }
  return { eventTimeMs: time, productId, action, userId, category };
}

/** What {@link formatProductClick} needs: the event in the format's terms, event time in epoch MILLISECONDS. */
export interface ProductClickInput {
  eventTimeMs: number;
  productId: string;
  action?: string;
  userId: string;
  category?: string | null;
}

/**
 * Builds one valid `product-clicks` value for generators and tests (field
 * order as in the example above; `category` left out when null);
 * `parseProductClick(formatProductClick(e))` gives back `e`'s values.
 *
 * @throws {MalformedRecordError} for any value {@link parseProductClick} would reject (same reasons and messages).
 */
export function formatProductClick(e: ProductClickInput): string {
  const obj: Record<string, unknown> = {
    event_time: e.eventTimeMs,
    product_id: e.productId,
    action: e.action ?? CLICK_ACTION,
    user_id: e.userId,
  };
  if (e.category != null) obj.category = e.category;
  const text = JSON.stringify(obj);
  parseProductClick(text);
  return text;
}
