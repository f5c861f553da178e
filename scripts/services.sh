#!/usr/bin/env bash
# Makes NATS (JetStream) and Redis available for the demo and development: reuses servers already
# listening on FARO_NATS_URL / FARO_REDIS_URL, else starts local ones (installing Debian's packages
# when missing and running as root), else `docker compose up -d nats redis` when a Docker engine runs.
# Usage: scripts/services.sh [up|down|status]
source "$(dirname "$0")/lib.sh"
cd "$FARO_ROOT"
NATS_URL="${FARO_NATS_URL:-nats://127.0.0.1:4222}"
REDIS_URL="${FARO_REDIS_URL:-redis://127.0.0.1:6379}"
STATE_DIR="${FARO_STATE_DIR:-$FARO_ROOT/.faro}"
hostport() { local u="${1#*://}"; u="${u##*@}"; echo "${u%%/*}"; }
listening() { local hp; hp="$(hostport "$1")"; (exec 3<>"/dev/tcp/${hp%%:*}/${hp##*:}") 2>/dev/null; }
wait_listening() { for _ in $(seq 1 100); do listening "$1" && return 0; sleep 0.1; done; return 1; }

up() {
  mkdir -p "$STATE_DIR"
  if listening "$NATS_URL" && listening "$REDIS_URL"; then log "reusing NATS at $NATS_URL and Redis at $REDIS_URL"; return 0; fi
  if ! ensure_server_binaries_quiet; then
    if docker_engine; then log "starting nats and redis with docker compose"; docker compose up -d nats redis; return 0; fi
    log "cannot start NATS/Redis: install nats-server and redis-server, or start a Docker engine"; exit 1
  fi
  if ! listening "$NATS_URL"; then
    local hp; hp="$(hostport "$NATS_URL")"
    log "starting nats-server -js on ${hp}"
    mkdir -p "$STATE_DIR/nats"
    nohup "$(command -v nats-server || echo /usr/sbin/nats-server)" -a "${hp%%:*}" -p "${hp##*:}" -js -sd "$STATE_DIR/nats" \
      >"$STATE_DIR/nats.log" 2>&1 & echo $! >"$STATE_DIR/nats.pid"
    wait_listening "$NATS_URL" || { log "nats-server did not start; see $STATE_DIR/nats.log"; exit 1; }
  fi
  if ! listening "$REDIS_URL"; then
    local hp; hp="$(hostport "$REDIS_URL")"
    log "starting redis-server on ${hp}"
    "$(command -v redis-server || echo /usr/bin/redis-server)" --daemonize yes --bind "${hp%%:*}" --port "${hp##*:}" \
      --save "" --appendonly no --dir "$STATE_DIR" --pidfile "$STATE_DIR/redis.pid" --logfile "$STATE_DIR/redis.log"
    wait_listening "$REDIS_URL" || { log "redis-server did not start; see $STATE_DIR/redis.log"; exit 1; }
  fi
  log "NATS at $NATS_URL, Redis at $REDIS_URL"
}
ensure_server_binaries_quiet() { have_bin nats-server && have_bin redis-server && return 0; apt_install nats-server redis-server 2>/dev/null; }
down() {
  for f in nats redis; do
    if [ -f "$STATE_DIR/$f.pid" ]; then kill "$(cat "$STATE_DIR/$f.pid")" 2>/dev/null || true; rm -f "$STATE_DIR/$f.pid"; log "stopped $f"; fi
  done
}
status() {
  listening "$NATS_URL" && log "NATS: up ($NATS_URL)" || log "NATS: down ($NATS_URL)"
  listening "$REDIS_URL" && log "Redis: up ($REDIS_URL)" || log "Redis: down ($REDIS_URL)"
}
case "${1:-up}" in up) up ;; down) down ;; status) status ;; *) echo "usage: $0 [up|down|status]" >&2; exit 2 ;; esac
