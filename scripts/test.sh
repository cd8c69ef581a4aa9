#!/usr/bin/env bash
# Every test: installs what is missing (GDAL, PostgreSQL + PostGIS,
# Chromium, Node.js), starts PostGIS, and runs the workspace's tests against
# both stores, then the web map's: the committed web/dist must match a fresh
# build, and the end-to-end tests drive the page in headless Chromium over
# the debug binary. The PostGIS and browser tests fail (never skip) when
# PostGIS or Chromium cannot be reached. Formatting is checked first
# (`cargo fmt --all` mends it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
scripts/install-deps.sh
cargo fmt --all -- --check || { echo "test: run \`cargo fmt --all\`" >&2; exit 1; }
CIVGRID_TEST_POSTGIS=$(scripts/postgis.sh)
export CIVGRID_TEST_POSTGIS
echo "test: PostGIS at ${CIVGRID_TEST_POSTGIS%%@*}@…" >&2
cargo test --workspace --locked --all-targets
cargo build --locked -p civgrid-service --bin civgrid
cd web
npm ci --no-audit --no-fund --loglevel=error
node build.mjs --check
node --test e2e/
