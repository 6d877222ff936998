// `npm start`: the service. Configuration from the environment (src/config/config.ts).
import { loadConfig } from './app-config.js';
import { checkProductionAuth } from './config/config.js';
import { checkServices } from './preflight.js';
import { AppError } from './errors/app-error.js';
import { createLogger } from './observability/logger.js';
import { startService } from './service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  checkProductionAuth(config);
  const logger = createLogger(config.LOG_LEVEL);
  if (config.usesDevelopmentKeys)
    logger.warn('API_KEYS is not set: the development keys viewer-key, crm-key and ops-key are accepted');
  await checkServices(config);
  const service = await startService(config, logger);
  logger.info(
    {
      url: config.ROLES.has('api') ? service.http.url : null,
      port: service.http.port,
      jobs: config.JOBS,
      roles: [...config.ROLES],
    },
    'service ready',
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing the batch in flight');
    service.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  // One line for the expected failures (bad configuration, a service down).
  if (err instanceof AppError) console.error(`rt-analytics: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
