export { AppError } from './app-error.js';
export { ServiceUnavailableError } from './service-unavailable-error.js';
export { FencedError } from './fenced-error.js';
export { MissingDatabaseIdentityError } from './missing-database-identity-error.js';
