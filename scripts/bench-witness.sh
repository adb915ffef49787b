#!/usr/bin/env bash
# Witnessing benchmark (numbers for README, not a test): the median time of
# one append (`evidence attach`, one CLI process each) to a file log of
# RECORDS records, without witnesses, with a 2-of-3 witness policy batched
# (`--witness-interval 3600`: the append only checks that the last cosigned
# checkpoint is recent), and with the witnesses asked after every append
# (`--witness-interval 0`), against three local litewitness instances;
# and the append rate of eight library writers on a PostgreSQL log, alone
# and with `evidence witness` running every second beside them.
# Builds the release binary first; litewitness and witnessctl come from
# scripts/install-test-deps.sh.
#
#   scripts/bench-witness.sh [--readme] [RECORDS] [APPENDS]   (default 10000 and 21)
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
records="${1:-10000}"
appends="${2:-21}"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release --locked --bin modelseal --example evidence_bench
bin="$target/release/modelseal"
bench="$target/release/examples/evidence_bench"

work="$(mktemp -d "${TMPDIR:-/tmp}/modelseal-bench-witness.XXXXXX")"
# shellcheck source=scripts/pg-cluster.sh
. scripts/pg-cluster.sh
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  pg_stop_all
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" keygen --out "$work/evidence" > /dev/null
key="$work/evidence.priv.pem"
pub="$work/evidence.pub.pem"
log="$work/log"
"$bench" build "$log" "$key" "$records" > /dev/null
vkey="$("$bin" evidence verifier-key "$log" --evidence-key "$pub")"
origin="${vkey%%+*}"

# A PostgreSQL log too, for eight library writers with witnessing running
# beside them (its first record makes its origin).
pg_bench "$work/pg"
pg="$(pg_new_log "$bin" "$pub")"
"$bench" append "$pg" "$key" 1 1 > /dev/null
pg_vkey="$("$bin" evidence verifier-key "$pg" --evidence-key "$pub")"
pg_origin="${pg_vkey%%+*}"

policy="$work/witnesses.policy"
echo "log $vkey" > "$policy"
for n in 1 2 3; do
  ssh-keygen -q -t ed25519 -N "" -C "bench witness" -f "$work/w$n"
  ssh-agent -D -a "$work/w$n.sock" > /dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -S "$work/w$n.sock" ] && break; sleep 0.05; done
  SSH_AUTH_SOCK="$work/w$n.sock" ssh-add -q "$work/w$n"
  witnessctl add-log -db "$work/w$n.db" -origin "$origin" 2> /dev/null
  witnessctl add-key -db "$work/w$n.db" -origin "$origin" -key "$vkey" 2> /dev/null
  witnessctl add-log -db "$work/w$n.db" -origin "$pg_origin" 2> /dev/null
  witnessctl add-key -db "$work/w$n.db" -origin "$pg_origin" -key "$pg_vkey" 2> /dev/null
  port=$((20000 + RANDOM % 20000))
  fingerprint="$(ssh-keygen -E sha256 -l -f "$work/w$n.pub" | cut -d' ' -f2)"
  litewitness -db "$work/w$n.db" -name "bench.test/w$n" -key "$fingerprint" \
    -ssh-agent "$work/w$n.sock" -listen "127.0.0.1:$port" > "$work/w$n.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do grep -q 'vkey=' "$work/w$n.log" 2> /dev/null && break; sleep 0.05; done
  wvkey="$(grep -o 'vkey=[^ ]*' "$work/w$n.log" | head -1 | cut -d= -f2)"
  echo "witness w$n $wvkey http://127.0.0.1:$port" >> "$policy"
done
echo "group two-of-three 2 w1 w2 w3" >> "$policy"
echo "quorum two-of-three" >> "$policy"
pg_policy="$work/pg.policy"
{ echo "log $pg_vkey"; tail -n +2 "$policy"; } > "$pg_policy"
"$bin" evidence witness "$log" --evidence-key "$pub" --witness-policy "$policy" > /dev/null

echo "reviewed" > "$work/doc"
# median_ms ARGS...: the median wall time, in ms, of APPENDS appends.
median_ms() {
  local times=() i start end
  for i in $(seq "$appends"); do
    start=$(date +%s%N)
    "$bin" --quiet evidence attach --control 1 --file "$work/doc" --reviewer bench \
      --evidence "$log" --evidence-key "$key" "$@" > /dev/null
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
# rate: appends per second of eight library writers on the PostgreSQL log.
rate() {
  "$bench" append "$pg" "$key" 8 1500 | sed -n 's/.*appends_per_second=\([0-9]*\).*/\1/p'
}
pg_plain="$(rate)"
# The same, while `evidence witness` runs every second beside the writers
# (what a team's witnessing job does): each run verifies the log, asks the
# three witnesses, and keeps the cosigned checkpoint in the database.
: > "$work/pg.witnessings"
(
  while :; do
    if "$bin" -q evidence witness "$pg" --evidence-key "$pub" --witness-policy "$pg_policy" \
      > /dev/null 2>> "$work/pg.witness.err"; then
      echo ok >> "$work/pg.witnessings"
    else
      echo failed >> "$work/pg.witnessings"
    fi
    sleep 1
  done
) &
witnessing=$!
pids+=("$witnessing")
sleep 1
pg_witnessed="$(rate)"
kill "$witnessing" 2> /dev/null || true
pg_runs_ok="$(grep -c '^ok' "$work/pg.witnessings" || true)"
pg_runs_failed="$(grep -c '^failed' "$work/pg.witnessings" || true)"

plain="$(median_ms)"
batched="$(median_ms --witness-policy "$policy" --witness-interval 3600)"
every="$(median_ms --witness-policy "$policy" --witness-interval 0)"
total=$((records + 3 * appends))

table="$work/table.md"
{
  echo "| append to a file log of $records records (median of $appends, one CLI process each) | time | added by witnessing |"
  echo "|---|---|---|"
  echo "| no witnesses | ${plain} ms | |"
  echo "| 2-of-3 witnesses, batched (\`--witness-interval 3600\`) | ${batched} ms | $((batched - plain)) ms |"
  echo "| 2-of-3 witnesses after every append (\`--witness-interval 0\`) | ${every} ms | $((every - plain)) ms |"
  echo
  echo "| 8 library writers on a PostgreSQL log | appends/s |"
  echo "|---|---|"
  echo "| no witnessing | ${pg_plain}/s |"
  echo "| \`evidence witness\` every second beside them (2-of-3; $pg_runs_ok runs reached the quorum, $pg_runs_failed failed) | ${pg_witnessed}/s |"
} > "$table"
cat "$table"
echo "target: 8 PostgreSQL writers hold 1,000 appends/s with witnessing: $([ "$pg_witnessed" -ge 1000 ] && [ "$pg_runs_ok" -ge 1 ] && echo met || echo NOT MET)"
echo "target: batched witnessing adds at most 50 ms at the median: $([ $((batched - plain)) -le 50 ] && echo met || echo NOT MET) (log ends at $total records)"
if [ "$readme" = 1 ]; then
  python3 scripts/readme-table.py bench-witness.sh "$table"
fi
