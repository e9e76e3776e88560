# Shared settings for the scripts in this folder. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# One cargo target dir outside the clone, so fresh clones (CI) rebuild incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hongyan/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# CI builds each tree once: incremental caches would only fill the disk (tens of GB).
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
export HONGYAN_DATA_HOME="${HONGYAN_DATA_HOME:-$DATA_HOME/hongyan}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Runs "$@" as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages among "$@" that are missing (apt-get update once per run; the
# mirror is sometimes flaky, so each step gets one retry).
ensure_debs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || { echo "missing packages: ${missing[*]} (no apt-get)" >&2; return 1; }
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${HONGYAN_APT_UPDATED:-}" ]; then
    as_root apt-get update -qq || as_root apt-get update -qq
    export HONGYAN_APT_UPDATED=1
  fi
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null \
    || as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Runs `npm ci` when node_modules is missing or older than the lockfile.
ensure_node_modules() {
  if [ ! -f "$ROOT/node_modules/.package-lock.json" ] \
    || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "npm ci"
    (cd "$ROOT" && npm ci --no-audit --no-fund)
  fi
}
