import { AppError } from './app-error.js';

/** Raised when the environment does not describe a usable configuration. Code: `CONFIG_INVALID`. */
export class ConfigError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
  }
}
