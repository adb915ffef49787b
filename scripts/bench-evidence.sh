#!/usr/bin/env bash
# Evidence-store benchmark (numbers for README, not a test): appends per
# second through the library with 1 and 8 writers (one store, so one
# database connection, per writer) and with one CLI process per append, and
# the time to verify a 100,000-record log, for the file log and for
# PostgreSQL (a throwaway cluster with the server's durability defaults,
# fsync on). Builds the release binary and the bench example first.
#
#   scripts/bench-evidence.sh [RECORDS_TO_VERIFY]   (default 100000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh
readme=0
if [ "${1:-}" = "--readme" ]; then
  readme=1
  shift
fi
records="${1:-100000}"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release --locked --bin modelseal --example evidence_bench
bin="$target/release/modelseal"
bench="$target/release/examples/evidence_bench"

work="$(mktemp -d "${TMPDIR:-/tmp}/modelseal-bench.XXXXXX")"
# shellcheck source=scripts/pg-cluster.sh
. scripts/pg-cluster.sh
cleanup() {
  pg_stop_all
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" keygen --out "$work/evidence" > /dev/null
key="$work/evidence.priv.pem"
pub="$work/evidence.pub.pem"

pg_bench "$work/pg"
# new_database: a fresh, initialised database log; prints the writer's URI.
new_database() { pg_new_log "$bin" "$pub"; }

# cli_rate LOG COUNT: appends per second with one CLI process per append.
cli_rate() {
  local log="$1" count="$2" start end i
  start=$(date +%s.%N)
  for i in $(seq 1 "$count"); do
    MODELSEAL_EVIDENCE="$log" MODELSEAL_EVIDENCE_KEY="$key" "$bin" -q evidence deploy \
      --name "cli-$i" --model "sha256:$(printf '%064x' "$i")" > /dev/null
  done
  end=$(date +%s.%N)
  awk -v n="$count" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }'
}

# measure NAME COMMAND...: runs COMMAND, shows its line on stderr, and
# prints the value of NAME=... in it.
measure() {
  local name="$1" line
  shift
  line="$("$@")"
  echo "$line" >&2
  echo "$line" | sed -n "s/.*$name=\([0-9.]*\).*/\1/p"
}

echo "== appends (library: one store and one connection per writer)"
file1="$(measure appends_per_second "$bench" append "$work/one.jsonl" "$key" 1 2000)"
file8="$(measure appends_per_second "$bench" append "$work/eight.jsonl" "$key" 8 250)"
pg1="$(measure appends_per_second "$bench" append "$(new_database)" "$key" 1 2000)"
pg8="$(measure appends_per_second "$bench" append "$(new_database)" "$key" 8 500)"
echo "== appends (one CLI process per append)"
filecli="$(cli_rate "$work/cli.jsonl" 300)"
pgcli="$(cli_rate "$(new_database)" 300)"
echo "file $filecli/s, postgres $pgcli/s"

echo "== verify $records records"
"$bench" build "$work/big.jsonl" "$key" "$records"
fileverify="$(measure seconds "$bench" verify "$work/big.jsonl" "$pub")"
start=$(date +%s.%N)
"$bin" evidence verify "$work/big.jsonl" --evidence-key "$pub" > /dev/null
end=$(date +%s.%N)
fileverifycli="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')"
big="$(new_database)"
"$bin" evidence import "$work/big.jsonl" "$big" --evidence-key "$pub" > /dev/null
pgverify="$(measure seconds "$bench" verify "$big" "$pub")"
start=$(date +%s.%N)
"$bin" evidence verify "$big" --evidence-key "$pub" > /dev/null
end=$(date +%s.%N)
pgverifycli="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')"

table="$work/.table-evidence"
cat > "$table" << EOF
| evidence store | 1 writer | 8 writers | 1 CLI process per append | verify $records records (library) | (CLI) |
|---|---|---|---|---|---|
| file | $file1/s | $file8/s | $filecli/s | $fileverify s | $fileverifycli s |
| PostgreSQL | $pg1/s | $pg8/s | $pgcli/s | $pgverify s | $pgverifycli s |
EOF
echo
cat "$table"
if [ "$readme" = 1 ]; then
  python3 "$root/scripts/readme-table.py" bench-evidence.sh "$table"
fi
