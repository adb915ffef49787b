#!/usr/bin/env bash
# Build times (numbers for README, not a test): how long the release
# profile the project ships takes to rebuild the binary after a change in
# the command line (src/cli), in the facade (src/gate.rs) and in the core
# crate, each timed RUNS times after a first build that brings the target
# up to date. A change is a new modification time on one source file (the
# release profile builds without incremental compilation, so the crate is
# compiled again as after an edit); nothing is edited.
#
#   scripts/bench-build.sh [--readme] [RUNS]   (default 3)
set -euo pipefail
# A failed build inside a command substitution ends the run, not a timing.
shopt -s inherit_errexit
export LC_ALL=C
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
readme=0
if [ "${1:-}" = "--readme" ]; then
  readme=1
  shift
fi
runs="${1:-3}"
case "$runs" in
  '' | *[!0-9]* | 0) echo "bench-build.sh: RUNS must be a whole number from 1" >&2; exit 2 ;;
esac

build() {
  cargo build --release --locked --bin modelseal --quiet
}

# Up to date first: what follows times one crate's change, not the rest.
build

median() {
  sort -n | awk '{ a[NR] = $1 } END { m = int((NR + 1) / 2); print (NR % 2 ? a[m] : (a[m] + a[m + 1]) / 2) }'
}

time_after_touch() {
  local file="$1"
  for _ in $(seq "$runs"); do
    touch "$file"
    local start end
    start=$(date +%s.%N)
    build >&2 || exit 1
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
  done | median
}

cli=$(time_after_touch src/cli/hash.rs)
facade=$(time_after_touch src/gate.rs)
core=$(time_after_touch crates/core/src/lib.rs)

table="$(mktemp)"
trap 'rm -f "$table"' EXIT
{
  echo "| a change in | release rebuild of \`modelseal\` (median of $runs, $(nproc) cores) | what is compiled again |"
  echo "|---|---|---|"
  printf '| the command line (`src/cli/`) | %.1f s | the binary |\n' "$cli"
  printf '| the facade (`src/gate.rs`) | %.1f s | the facade library and the binary |\n' "$facade"
  printf '| the core crate | %.1f s | every workspace crate |\n' "$core"
} > "$table"
cat "$table"
if [ "$readme" = 1 ]; then
  python3 scripts/readme-table.py bench-build.sh "$table"
fi
