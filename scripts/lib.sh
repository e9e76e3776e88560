# Shared settings for the scripts in this folder. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# One cargo target dir outside the clone, so fresh clones (CI) rebuild incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hongyan/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
export HONGYAN_DATA_HOME="${HONGYAN_DATA_HOME:-$DATA_HOME/hongyan}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Runs "$@" as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
