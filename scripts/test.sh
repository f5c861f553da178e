#!/usr/bin/env bash
# `npm test`: set up, type-check, lint the import graph, regenerate-check docs, run the whole suite.
source "$(dirname "$0")/lib.sh"
cd "$FARO_ROOT"
bash scripts/setup.sh
log "type-checking"
node_modules/.bin/tsc -p tsconfig.json
log "checking the import graph"
node_modules/.bin/tsx scripts/check-imports.ts
log "running tests"
exec node_modules/.bin/vitest run "$@"
