import { AppError } from './app-error.js';

/** The time zone is not one the runtime's Intl database knows. Code: `TIME_ZONE_INVALID`. */
export class InvalidTimeZoneError extends AppError {
  constructor(timeZone: string, options?: { cause?: unknown }) {
    const message = `unknown time zone ${JSON.stringify(timeZone)} (use an IANA name such as Asia/Shanghai)`;
    super('TIME_ZONE_INVALID', message, options);
  }
}
