#!/usr/bin/env bash
# The project's test command: `scripts/test.sh [cargo test arguments]`.
# Checks that the external test tools are installed, starts the throwaway
# servers the tests need, runs `cargo test --locked`, and stops the servers
# and removes its temporary files however the run ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh

# shellcheck disable=SC2086 # a list of command names
missing="$(missing_commands cargo $MODELSEAL_TEST_COMMANDS)"
if [ -n "$missing" ]; then
  echo "scripts/test.sh: missing test tools: $missing (install them with scripts/install-test-deps.sh)" >&2
  exit 1
fi

# Everything temporary goes under one directory that cleanup removes: the
# tests' own temporary files (TMPDIR) and, later, the servers' data.
work="$(mktemp -d "${TMPDIR:-/tmp}/modelseal-test.XXXXXX")"
mkdir "$work/tmp"
export TMPDIR="$work/tmp"

# Throwaway servers on loopback for the tests, with their data under $work
# and their addresses exported for the tests. stop_servers must stop
# whatever start_servers started (it also runs when start_servers failed
# half-way).

# The OCI registry of the oci:// tests.
# shellcheck source=scripts/registry.sh
. scripts/registry.sh

start_servers() {
  start_registry "$work/registry"
}

stop_servers() {
  stop_registry
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_servers || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_servers
cargo test --locked "$@"
