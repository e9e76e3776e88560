#!/usr/bin/env bash
# Runs every test: formatting and lints, the web UI (components + browser e2e), unit tests,
# integration tests against the real server binary (and again with it on PostgreSQL), the
# multi-node tests (PostgreSQL + NATS), the keyring test against a real Secret
# Service, a short fuzz run, and the real app under Xvfb.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The keyring test needs a D-Bus session with an unlocked gnome-keyring. Start our own
# (private) one unless the caller already has a session bus.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ -z "${HONGYAN_IN_DBUS:-}" ] && command -v dbus-run-session >/dev/null; then
  export HONGYAN_IN_DBUS=1
  exec dbus-run-session -- bash "$0" "$@"
fi
if [ -n "${HONGYAN_IN_DBUS:-}" ] && command -v gnome-keyring-daemon >/dev/null; then
  # A throwaway keyring for this run only, unlocked with a throwaway password.
  export XDG_DATA_HOME="$(mktemp -d)"
  eval "$(printf 'hongyan-test\n' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
  export HONGYAN_KEYRING_TEST=1
fi

log "cargo fmt --check"
cargo fmt --all -- --check
# The UI first: its build (ui/dist) is what the app embeds.
bash "$ROOT/scripts/test-ui.sh"
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "building binaries"
cargo build --workspace --bins --locked
log "doc tests"
cargo test --workspace --doc --locked
bash "$ROOT/scripts/fuzz.sh" smoke
if [ -f "$ROOT/scripts/test-app.sh" ]; then
  bash "$ROOT/scripts/test-app.sh"
fi
# Last, so their summaries close the output.
log "tests (unit + integration against the real server)"
cargo nextest run --workspace --locked --no-fail-fast

# The integration suite again with every server on PostgreSQL (docs/DEPLOY.md): one throwaway
# PostgreSQL for the pass, started by the harness's own PgServer (root-safe, no leftovers), a
# fresh database per test server. It stops when this script's end closes its stdin.
log "integration tests on PostgreSQL"
cargo build -p hongyan-tests --bin hongyan-test-postgres --locked
coproc TEST_PG { exec "$CARGO_TARGET_DIR/debug/hongyan-test-postgres"; }
read -r pg_env <&"${TEST_PG[0]}" || { echo "PostgreSQL for the tests did not start" >&2; exit 1; }
status=0
env "$pg_env" cargo nextest run --profile postgres --locked --no-fail-fast || status=$?
eval "exec ${TEST_PG[1]}>&-"
wait "$TEST_PG_PID" || true
exit "$status"
