#!/usr/bin/env bash
# Assembles the production image's file tree into OUT (default: dist/image): builds the `faro` bundle when a
# source is newer, then copies the bundle, its data files and the production node_modules it imports
# (scripts/image-tree.ts). deploy/docker/Dockerfile runs this; test/deploy/image.test.ts checks its result.
source "$(dirname "$0")/lib.sh"
cd "$FARO_ROOT"
out="${1:-dist/image}"
shift || true
node --input-type=module -e 'import { bundleIsFresh } from "./apps/cli/bin/fresh.js"; process.exit(bundleIsFresh() ? 0 : 1)' \
  || node_modules/.bin/tsx scripts/build.ts >/dev/null
node_modules/.bin/tsx scripts/image-tree.ts "$out" "$@"
