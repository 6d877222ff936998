import { AppError } from './app-error.js';

/** A service the process needs (Kafka, MySQL, Redis) cannot be reached at start. */
export class ServiceUnavailableError extends AppError {
  readonly service: 'kafka' | 'mysql' | 'redis';

  constructor(service: 'kafka' | 'mysql' | 'redis', message: string, options?: { cause?: unknown }) {
    super('SERVICE_UNAVAILABLE', message, options);
    this.service = service;
  }
}
