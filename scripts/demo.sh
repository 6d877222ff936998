#!/usr/bin/env bash
# `npm run demo`: the whole main job on a fresh machine. Installs dependencies,
# builds, brings Kafka/MariaDB/Redis up (scripts/stack.sh), migrates, seeds the
# sample VIPs, starts the sample producer and the service, and prints the
# GraphQL URL with a sample query and key. Ctrl-C stops the producer and the
# service (the service finishes its batch in flight and commits it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
bash scripts/stack.sh up
node dist/scripts/seed.js

export PORT="${PORT:-4000}"
export API_KEYS="${API_KEYS:-viewer:demo-viewer-key,crm:demo-crm-key,ops:demo-ops-key}"
RATE="${DEMO_RATE:-200}"

node dist/scripts/produce.js --kind behavior --rate "$RATE" > .stack/demo-producer.log 2>&1 &
producer=$!
trap 'kill "$producer" 2>/dev/null || true' EXIT
CLICK_RATE="${DEMO_CLICK_RATE:-300}"
node dist/scripts/produce.js --kind clicks --rate "$CLICK_RATE" > .stack/demo-clicks-producer.log 2>&1 &
clicks_producer=$!
trap 'kill "$producer" "$clicks_producer" 2>/dev/null || true' EXIT
RECHARGE_RATE="${DEMO_RECHARGE_RATE:-50}"
node dist/scripts/produce.js --kind recharge --rate "$RECHARGE_RATE" > .stack/demo-recharge-producer.log 2>&1 &
recharge_producer=$!
trap 'kill "$producer" "$clicks_producer" "$recharge_producer" 2>/dev/null || true' EXIT
AD_CLICK_RATE="${DEMO_AD_CLICK_RATE:-100}"
node dist/scripts/produce.js --kind ad-clicks --rate "$AD_CLICK_RATE" > .stack/demo-ad-clicks-producer.log 2>&1 &
ad_clicks_producer=$!
trap 'kill "$producer" "$clicks_producer" "$recharge_producer" "$ad_clicks_producer" 2>/dev/null || true' EXIT

cat <<MSG

  rt-analytics demo
  - sample producer: $RATE behaviour records/s into topic user-behavior (log: .stack/demo-producer.log)
  - clicks producer: $CLICK_RATE product clicks/s into topic product-clicks (log: .stack/demo-clicks-producer.log);
    hotProducts ranks the hour ending at the last 5-minute boundary, so it fills in after the first boundary
  - recharge producer: $RECHARGE_RATE recharge events/s into topic recharge (log: .stack/demo-recharge-producer.log):
    cityRechargeStats, topCities, rechargePerMinute and rechargeSummary fill in within a second
  - ad-clicks producer: $AD_CLICK_RATE ad clicks/s into topic ad-clicks, 10% from click robots (log: .stack/demo-ad-clicks-producer.log);
    npm run seed blacklisted two robot users and the robot IP: adClickTotals and blockedClicks fill in within a second
  - GraphQL (HTTP and WebSocket): http://localhost:$PORT/graphql
  - live dashboard: http://localhost:$PORT/ (paste demo-crm-key to also set callback statuses; demo-viewer-key to only look)
  - API keys: viewer demo-viewer-key, crm demo-crm-key, ops demo-ops-key
  - windows are 60 s advancing every 30 s: the first abnormal users appear about a minute in.

  Try:
    curl -s http://localhost:$PORT/graphql -H 'authorization: Bearer demo-viewer-key' -H 'content-type: application/json' \\
      -d '{"query":"{ unpaidUsers(first: 5) { totalCount edges { node { uid phone enterOrderCount lastDetectedAt callbackStatus } } } consumerOffsets { partition offset latest lag } }"}'
    curl -s http://localhost:$PORT/graphql -H 'authorization: Bearer demo-viewer-key' -H 'content-type: application/json' \\
      -d '{"query":"{ hotProducts(limit: 5) { rank productId clicks category } hotProductsByCategory { category products { rank productId clicks } } dailyActiveUsers(from: \\"$(TZ=Asia/Shanghai date +%F)\\", to: \\"$(TZ=Asia/Shanghai date +%F)\\") { date activeUsers newUsers } }"}'
    curl -s http://localhost:$PORT/graphql -H 'authorization: Bearer demo-viewer-key' -H 'content-type: application/json' \\
      -d '{"query":"{ rechargeSummary { orders successRate amount avgDurationMs } topCities { cityName orders successRate } }"}'

MSG

# glibc malloc as `npm start` sets it (docs/operations.md, "Heap limit").
MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-old-space-size=256 dist/src/main.js
