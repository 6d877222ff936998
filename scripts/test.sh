#!/usr/bin/env bash
# `npm test`: the whole suite on a fresh clone. Installs dependencies, builds,
# brings the real services up (scripts/stack.sh: Kafka from Maven Central jars,
# MariaDB, Redis, the database and topics), then runs the unit and integration
# tests against them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
# Lint and format first: ESLint (typescript-eslint strict, type-aware) and Prettier, zero warnings.
npm run lint
bash scripts/stack.sh up
# The dashboard's browser test drives Debian's Chromium through playwright-core
# (Playwright's own browser downloads are not used).
command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

shopt -s nullglob
tests=(dist/test/unit/*.test.js dist/test/integration/*.test.js)
# Integration tests share one broker: run files one at a time.
exec node --test --test-concurrency=1 "${tests[@]}"
