# Image for the analytics service (app) and the load producer (same image,
# different command; see docker-compose.yml).
FROM node:20-slim

WORKDIR /app
RUN chown node:node /app
USER node

# Dependencies first, for layer caching. The prisma CLI is a runtime
# dependency (provisioning), so dev dependencies are not pruned.
COPY --chown=node:node package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY --chown=node:node . .
# `npm run build` generates the Prisma client and compiles TypeScript; the
# service talks to MySQL through @prisma/adapter-mariadb, so no schema engine.
RUN PRISMA_SCHEMA_ENGINE_BINARY=/dev/null npm run build

# glibc malloc as `npm start` sets it (docs/operations.md, "Heap limit"): two arenas, and blocks
# of 128 KiB or more mapped on their own, so freed fetch buffers go back to the system.
ENV NODE_ENV=production \
    PORT=4000 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072
EXPOSE 4000
CMD ["node", "--max-old-space-size=256", "dist/src/main.js"]
