#!/usr/bin/env bash
# Audit and deployment at scale (numbers for README, not a test): a log of
# RECORDS records written by `evidence_bench build ... mix` (a signing, a
# passing verification, a deployment relying on it and a reviewed document
# in turn, over 10,000 models), then, for the file log and for PostgreSQL
# (the same records imported), the wall time and peak memory (maximum
# resident set) of `audit --format json` and of `evidence deploy`: the first
# deployment on a log, which verifies the log whole and leaves the writer's
# deploy index, and the next one, which verifies only what was appended
# since. Builds the release binary and the bench example first.
#
#   scripts/bench-audit.sh [--readme] [RECORDS]   (default 1000000)
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
records="${1:-1000000}"
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

# run NAME COMMAND...: runs COMMAND (stdout discarded; an audit that finds
# failing controls exits 1, which is its answer, not an error) and prints
# "SECONDS MEGABYTES" (wall time, peak resident memory of the process).
run() {
  local name="$1"
  shift
  python3 - "$name" "$@" << 'PY'
import resource, subprocess, sys, time
name, cmd = sys.argv[1], sys.argv[2:]
start = time.monotonic()
done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.monotonic() - start
if done.returncode not in (0, 1):
    sys.exit(f"{name}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{name}: {seconds:.2f} s, {mb:.0f} MB", file=sys.stderr)
print(f"{seconds:.2f} {mb:.0f}")
PY
}

# deploy LOG N: the command that records a deployment of model N of the mix.
deploy() {
  echo env "MODELSEAL_EVIDENCE=$1" "MODELSEAL_EVIDENCE_KEY=$key" \
    "MODELSEAL_DEPLOY_INDEX_DIR=$work/deploy-index" "$bin" -q evidence deploy \
    --name "model-$2" --model "sha256:$(printf '%064x' "$2")"
}

echo "== a log of $records records"
"$bench" build "$work/big.jsonl" "$key" "$records" mix
pg_bench "$work/pg"
database="$(pg_new_log "$bin" "$pub")"
"$bin" evidence import "$work/big.jsonl" "$database" --evidence-key "$pub" > /dev/null

# row LOG: the audit, the first deployment and the next one.
row() {
  local log="$1" audit first next
  audit="$(run audit "$bin" --format json audit --evidence "$log" --evidence-key "$pub")"
  # shellcheck disable=SC2046 # the command's words, none with spaces
  first="$(run "first deploy" $(deploy "$log" 7))"
  # shellcheck disable=SC2046
  next="$(run "next deploy" $(deploy "$log" 8))"
  # shellcheck disable=SC2086 # each holds two numbers, split on purpose
  set -- $audit $first $next
  echo "| $records | $1 s | $2 MB | $3 s | $4 MB | $5 s | $6 MB |"
}
file_row="$(row "$work/big.jsonl")"
pg_row="$(row "$database")"

table="$work/.table-audit"
cat > "$table" << EOF
| evidence store | records | \`audit\` | its peak memory | first \`evidence deploy\` | its peak memory | next \`evidence deploy\` | its peak memory |
|---|---|---|---|---|---|---|---|
| file $file_row
| PostgreSQL $pg_row
EOF
echo
cat "$table"
if [ "$readme" = 1 ]; then
  python3 "$root/scripts/readme-table.py" bench-audit.sh "$table"
fi
