#!/usr/bin/env bash
# The project's test command: `scripts/test.sh [cargo test arguments]`.
# Checks that the external test tools are installed (installing missing
# ones with scripts/install-test-deps.sh), starts the throwaway
# servers the tests need, runs `cargo test --locked`, and stops the servers
# and removes its temporary files however the run ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh

# A missing test tool (PostgreSQL included) is installed by
# scripts/install-test-deps.sh, so that the tests needing it run rather than
# fail; whatever is still missing afterwards ends the run.
# shellcheck disable=SC2086 # a list of command names
missing="$(missing_commands cargo $MODELSEAL_TEST_COMMANDS)"
if [ -n "$missing" ]; then
  echo "scripts/test.sh: missing test tools: $missing; running scripts/install-test-deps.sh" >&2
  scripts/install-test-deps.sh
  # Again, for the PATH of what was just installed.
  # shellcheck source=scripts/test-env.sh
  . scripts/test-env.sh
  # shellcheck disable=SC2086 # a list of command names
  missing="$(missing_commands cargo $MODELSEAL_TEST_COMMANDS)"
  if [ -n "$missing" ]; then
    echo "scripts/test.sh: still missing test tools: $missing" >&2
    exit 1
  fi
fi

# Everything temporary goes under one directory that cleanup removes: the
# tests' own temporary files (TMPDIR) and, later, the servers' data.
work="$(mktemp -d "${TMPDIR:-/tmp}/modelseal-test.XXXXXX")"
mkdir "$work/tmp"
export TMPDIR="$work/tmp"

# Throwaway servers on loopback for the tests, with their data under $work
# and their addresses exported for the tests; stop_servers stops whatever
# start_servers started (it also runs when start_servers failed half-way).
#
# PostgreSQL (scripts/pg-cluster.sh): two clusters; the second is for the
# test that restarts its server while writers run, so that the restart
# disturbs no other test. The tests get:
#   MODELSEAL_TEST_PG               superuser URI (with password), cluster 1
#   MODELSEAL_TEST_PG_RESTART_URI   the same for cluster 2
#   MODELSEAL_TEST_PG_RESTART       a script that restarts cluster 2 the way a
#       crash does (immediate shutdown: what is not flushed to disk is lost)
#   MODELSEAL_TEST_PG_ROLE_PASSWORD the password of the test roles
#       modelseal_admin (CREATEDB), modelseal_writer, modelseal_reader
#   PGPASSFILE                      a password file with all of them
# shellcheck source=scripts/pg-cluster.sh
. scripts/pg-cluster.sh

# The OCI registry of the oci:// tests.
# shellcheck source=scripts/registry.sh
. scripts/registry.sh

start_servers() {
  local roles port restart_port
  start_registry "$work/registry"
  pg_init "$work/pg"
  roles="$(random_hex)"
  port="$(free_port)"
  pg_start main "$port"
  restart_port="$(free_port)"
  pg_start restart "$restart_port"
  pg_roles "$port" "$roles"
  pg_roles "$restart_port" "$roles"
  (umask 077 && printf '127.0.0.1:*:*:postgres:%s\n127.0.0.1:*:*:*:%s\n' "$pg_superuser" "$roles" > "$pg_root/pgpass")
  printf '#!/bin/sh\nexec %s pg_ctl -D %s -l %s -w -t 60 -m immediate restart > /dev/null\n' \
    "${pg_as[*]}" "$pg_root/restart" "$pg_root/restart.log" > "$pg_root/restart.sh"
  chmod +x "$pg_root/restart.sh"
  export MODELSEAL_TEST_PG="postgres://postgres:$pg_superuser@127.0.0.1:$port/postgres"
  export MODELSEAL_TEST_PG_RESTART_URI="postgres://postgres:$pg_superuser@127.0.0.1:$restart_port/postgres"
  export MODELSEAL_TEST_PG_RESTART="$pg_root/restart.sh"
  export MODELSEAL_TEST_PG_ROLE_PASSWORD="$roles"
  export PGPASSFILE="$pg_root/pgpass"
}

stop_servers() {
  stop_registry
  pg_stop_all
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
