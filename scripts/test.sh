#!/usr/bin/env bash
# Every test: installs what is missing (GDAL, PostgreSQL + PostGIS), starts
# PostGIS, and runs the workspace's tests against both stores. The PostGIS
# tests fail (never skip) when PostGIS cannot be reached. Formatting is
# checked first (`cargo fmt --all` mends it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
scripts/install-deps.sh
cargo fmt --all -- --check || { echo "test: run \`cargo fmt --all\`" >&2; exit 1; }
CIVGRID_TEST_POSTGIS=$(scripts/postgis.sh)
export CIVGRID_TEST_POSTGIS
echo "test: PostGIS at ${CIVGRID_TEST_POSTGIS%%@*}@…" >&2
cargo test --workspace --locked --all-targets
