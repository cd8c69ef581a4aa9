# Shared by the load scripts (sourced after `cd` to the repository root).

# Builds civgrid in release and sets $bin to it.
release_binary() {
  cargo build --release -p civgrid-service >&2
  bin=${CARGO_TARGET_DIR:-target}/release/civgrid
}

# synth_store STORE PRESET [grids]: imports the synthetic PRESET into STORE
# and builds its unit cells (and household grids with "grids"), unless
# STORE exists already.
synth_store() {
  [ -f "$1" ] && return
  echo "== data: synthetic $2 with unit cells${3:+ and grids} in $1" >&2
  "$bin" --store "$1" synth --preset "$2" >&2
  "$bin" --store "$1" cells >&2
  if [ -n "${3:-}" ]; then "$bin" --store "$1" grids >&2; fi
}

# wait_up URL: waits (60 s at most) until URL answers.
wait_up() {
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return; sleep 0.2; done
  echo "$0: $1 never answered" >&2
  exit 1
}
