#!/usr/bin/env bash
# Installs the system packages civgrid needs on a Debian machine (idempotent):
# GDAL (import), SQLite headers and libclang (bindgen builds the GeoPackage
# store's SQLite bindings), PostgreSQL + PostGIS
# (production store and its tests), Chromium and a Chinese font (the web
# map's end-to-end tests draw names) and Node.js with npm (builds and tests the web map) when missing.
set -euo pipefail
packages=(pkg-config libclang-dev libgdal-dev gdal-bin libsqlite3-dev postgresql postgresql-postgis chromium fonts-wqy-microhei)
# Node.js may come from another source than Debian (its own npm inside):
# Debian's packages only where there is none.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "install-deps: cargo is missing: install Rust with rustup" >&2; exit 1; }
echo "install-deps: system packages present (GDAL $(gdal-config --version), node $(node --version), $(chromium --version 2>/dev/null | head -1))" >&2
