#!/usr/bin/env bash
# The opt-in soak tests: writers of the file log and of the PostgreSQL log
# killed with SIGKILL at random instants within a window measured with the
# wall clock, checking that no acknowledged record is lost and no partial
# record is left. They depend on timing, so they stay out of the default
# suite (scripts/test.sh), where each state a killed writer can leave is
# built by hand and checked (the file log's unit tests) and each append is
# one transaction (the PostgreSQL tests).
#
#   scripts/soak.sh              # once
#   SOAK_ROUNDS=10 scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${SOAK_ROUNDS:-1}"
for round in $(seq 1 "$rounds"); do
  echo "=== soak round $round of $rounds"
  scripts/test.sh --test tests -- --ignored writers_killed_at_random_instants
done
