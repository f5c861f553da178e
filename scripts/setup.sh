#!/usr/bin/env bash
# Sets up a fresh clone: pnpm at the pinned version, dependencies from the lockfile, the NATS and
# Redis binaries the harness and the demo need.
source "$(dirname "$0")/lib.sh"
cd "$FARO_ROOT"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<11)) { console.error("faro: Node >= 20.11 is required, found "+process.version); process.exit(1) }'
if [ ! -d node_modules/.pnpm ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  log "installing dependencies (pnpm $PNPM_VERSION)"
  pnpm_run install --frozen-lockfile --reporter=silent
fi
ensure_server_binaries
# The `faro` command runs this bundle when it is newer than the sources (fast start); ~0.5 s to build,
# rebuilt only when a source changed.
node --input-type=module -e 'import { bundleIsFresh } from "./apps/cli/bin/fresh.js"; process.exit(bundleIsFresh() ? 0 : 1)' \
  || node_modules/.bin/tsx scripts/build.ts >/dev/null
# Tools some tests need, installed with Go where Go is present (the tests skip visibly without them).
if [ -z "${FARO_SKIP_HELM:-}" ] && ! command -v helm >/dev/null 2>&1 && [ ! -x "$HOME/go/bin/helm" ]; then
  if command -v go >/dev/null 2>&1; then
    log "installing helm v3.16.4 with go (once; FARO_SKIP_HELM=1 skips it and the chart tests)"
    go install helm.sh/helm/v3/cmd/helm@v3.16.4 >/dev/null 2>&1 || log "helm could not be installed; the Helm chart tests will be skipped"
  else
    log "no Go toolchain: the Helm chart tests will be skipped"
  fi
fi
if [ -z "${FARO_SKIP_PROMTOOL:-}" ] && ! command -v promtool >/dev/null 2>&1 && [ ! -x "$HOME/go/bin/promtool" ]; then
  if command -v go >/dev/null 2>&1; then
    log "installing promtool v0.316.0 with go (once, takes minutes; FARO_SKIP_PROMTOOL=1 skips it and the alert rules check)"
    go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0 >/dev/null 2>&1 || log "promtool could not be installed; the alert rules check will be skipped"
  fi
fi
if [ -z "${FARO_SKIP_GOFAKES3:-}" ] && ! command -v gofakes3 >/dev/null 2>&1 && [ ! -x "$HOME/go/bin/gofakes3" ]; then
  if command -v go >/dev/null 2>&1; then
    log "installing gofakes3 v1.2.0 with go (once; the S3-compatible server of the forwarder's object storage test)"
    go install github.com/johannesboyne/gofakes3/cmd/gofakes3@v1.2.0 >/dev/null 2>&1 || log "gofakes3 could not be installed; the S3 sink test will be skipped"
  fi
fi
# A current nats-server beside Debian's (2.9.10, the oldest supported): test/cluster/nats-versions.test.ts runs the
# bus against every nats-server present; FARO_NATS_SERVER_BIN=~/go/bin/nats-server runs the whole suite against it.
if [ -z "${FARO_SKIP_NATS_CURRENT:-}" ] && [ ! -x "$HOME/go/bin/nats-server" ]; then
  GO_BIN="$(command -v go || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || true)"
  if [ -n "$GO_BIN" ]; then
    log "installing nats-server v2.15.3 with go into ~/go/bin (once; FARO_SKIP_NATS_CURRENT=1 skips it)"
    "$GO_BIN" install github.com/nats-io/nats-server/v2@v2.15.3 >/dev/null 2>&1 || log "nats-server v2.15.3 could not be installed; the bus is tested against the system nats-server only"
  else
    log "no Go toolchain: the bus is tested against the system nats-server only (no current nats-server)"
  fi
fi
