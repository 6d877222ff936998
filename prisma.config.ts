import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (generate, and migrate deploy where the schema
// engine is available). The service itself connects through @prisma/adapter-mariadb.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/rt_analytics' },
});
