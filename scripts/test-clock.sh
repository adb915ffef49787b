#!/usr/bin/env bash
# Reruns the date-sensitive tests (audit dates and review ages, evidence
# record times, certificate validity, signature ages, the gate) with the
# test clock moved: `scripts/test-clock.sh OFFSET...`, each OFFSET as GNU
# date reads it relative to today ("+5 years", "-1 year"). A test that
# mixes fixed dates with the clock fails here on the day the change is
# submitted, not years later.
#
# Only tests whose peers keep no clock of their own run here: the servers
# and TLS peers of the other tests keep the real clock, so those stay out.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || set -- "+5 years" "-1 year"
for offset in "$@"; do
  now="$(date -u -d "$offset" +%Y-%m-%dT12:00:00Z)"
  echo "=== test clock at $now ($offset)"
  # The library's own tests pass their instants to the library and read no
  # clock; the integration tests run the binary under the moved clock.
  MODELSEAL_TEST_NOW="$now" cargo test --locked --test tests -- \
    audit:: evidence:: policy:: library:: snapshots::audit \
    cli::certificate_mode cli::test_clock
done
