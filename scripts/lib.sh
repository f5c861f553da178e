#!/usr/bin/env bash
# Shared shell helpers for Faro's scripts: pnpm bootstrap and Debian package installation.
set -euo pipefail

FARO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM_VERSION="$(node -p "require('$FARO_ROOT/package.json').packageManager.split('@')[1]")"

log() { printf '\033[36mfaro:\033[0m %s\n' "$*" >&2; }

# Runs pnpm at the pinned version: an installed pnpm of that version, corepack (signature checks off,
# the registry here serves none), or npx.
pnpm_run() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
    pnpm "$@"
  elif COREPACK_INTEGRITY_KEYS=0 corepack pnpm@"$PNPM_VERSION" --version >/dev/null 2>&1; then
    COREPACK_INTEGRITY_KEYS=0 corepack pnpm@"$PNPM_VERSION" "$@"
  else
    npx -y pnpm@"$PNPM_VERSION" "$@"
  fi
}

# Installs Debian packages when missing and we are root (or have passwordless sudo).
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else
      log "missing packages: ${missing[*]} — install them with: sudo apt-get install -y ${missing[*]}"
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${missing[*]} and apt-get is not available; install them with your package manager"
    return 1
  fi
  log "installing ${missing[*]} (apt-get)"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

have_bin() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

docker_engine() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

# Makes nats-server and redis-server binaries available for the test harness (or a Docker engine).
ensure_server_binaries() {
  local need=()
  have_bin nats-server || need+=(nats-server)
  have_bin redis-server || need+=(redis-server)
  [ ${#need[@]} -eq 0 ] && return 0
  if apt_install "${need[@]}"; then return 0; fi
  if docker_engine; then log "using testcontainers (Docker engine found) for: ${need[*]}"; return 0; fi
  log "cannot provide ${need[*]}: install them (apt-get install ${need[*]}) or start a Docker engine"
  return 1
}
