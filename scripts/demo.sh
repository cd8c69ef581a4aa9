#!/usr/bin/env bash
# The demo on the embedded GeoPackage: installs what is missing, builds,
# imports the sample data and serves; prints the URL. Extra arguments go to
# `civgrid demo` (e.g. --listen 0.0.0.0:8080, --no-serve).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
scripts/install-deps.sh
cargo build --release --locked -p civgrid-service --bin civgrid
exec target/release/civgrid --store "${CIVGRID_STORE:-civgrid.gpkg}" demo "$@"
