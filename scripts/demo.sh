#!/usr/bin/env bash
# `npm run demo`: sets up (dependencies, nats-server, redis-server), makes NATS and Redis available
# (reusing ones on FARO_NATS_URL / FARO_REDIS_URL), then runs `faro demo` (flags pass through).
source "$(dirname "$0")/lib.sh"
cd "$FARO_ROOT"
bash scripts/setup.sh
bash scripts/services.sh up
export FARO_NATS_URL="${FARO_NATS_URL:-nats://127.0.0.1:4222}"
export FARO_REDIS_URL="${FARO_REDIS_URL:-redis://127.0.0.1:6379}"
if ! command -v faro >/dev/null 2>&1; then
  log "the faro command: \`npx faro <command>\` in this checkout, or everywhere after: export PATH=\"$FARO_ROOT/node_modules/.bin:\$PATH\""
fi
exec node apps/cli/bin/faro.js demo "$@"
