#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster and makes sure the civgrid role and
# test database exist; prints the URL to use as CIVGRID_TEST_POSTGIS.
set -euo pipefail
# Only the URL goes to stdout: everything the cluster tools print (such as
# "Removed stale pid file.") goes to stderr. The server is started with fd 3
# (the caller's stdout, often a `$(...)` pipe) closed: a postmaster that
# inherited it would hold the pipe open and the caller would wait forever.
exec 3>&1 1>&2
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
# The cluster named main (Debian's default), else the first one: tests
# make clusters of their own beside it (service/tests/faults.rs).
line=$(pg_lsclusters -h | awk '$2=="main"' | head -1)
[ -n "$line" ] || line=$(pg_lsclusters -h | head -1)
version=$(echo "$line" | awk '{print $1}')
cluster=$(echo "$line" | awk '{print $2}')
port=$(echo "$line" | awk '{print $3}')
if [ -z "$version" ]; then
  echo "postgis: no PostgreSQL cluster; run scripts/install-deps.sh" >&2; exit 1
fi
if ! echo "$line" | awk '{print $4}' | grep -q online; then
  pg_ctlcluster "$version" "$cluster" start </dev/null 3>&-
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.5; done
as_postgres "psql -p $port -tAc \"SELECT 1 FROM pg_roles WHERE rolname='civgrid'\" | grep -q 1 || psql -p $port -qc \"CREATE ROLE civgrid LOGIN SUPERUSER PASSWORD 'civgrid'\""
as_postgres "psql -p $port -tAc \"SELECT 1 FROM pg_database WHERE datname='civgrid'\" | grep -q 1 || createdb -p $port -O civgrid civgrid"
echo "postgres://civgrid:civgrid@127.0.0.1:$port/civgrid" >&3
