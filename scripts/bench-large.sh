#!/usr/bin/env bash
# A model larger than memory: 8 files of 4 GiB (32 GiB), more than the page
# cache holds, so every run reads the disk. Times `modelseal sign` and
# `verify` beside `find DIR -type f -print0 | xargs -0 -P<cores> -n 1
# sha256sum` in the same run, and reports the ratio and peak RSS against
# the targets (within 1.1x of the coreutils pipeline, RSS <= 64 MiB), and
# beside reading the same files without hashing them (`cat`), to show how
# close to the disk's own rate modelseal runs.
#
#   scripts/bench-large.sh            # needs 34 GiB free under ${BENCH_DIR:-/tmp/modelseal-bench}
#   scripts/bench-large.sh --readme   # also writes the table into README.md
#
# Not part of .ci/run (it takes minutes and 32 GiB of disk). The files are
# deleted when it ends, however it ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
readme=0
[ "${1:-}" = "--readme" ] && readme=1
dir="${BENCH_DIR:-/tmp/modelseal-bench}"
cores="$(nproc)"
bin="${CARGO_TARGET_DIR:-$root/target}/release/modelseal"
if [ ! -x "$bin" ]; then
  echo "bench-large.sh: no release binary at $bin (run cargo build --release)" >&2
  exit 1
fi
mkdir -p "$dir"
need=$((34 << 20)) # KiB
free=$(df -Pk "$dir" | awk 'NR == 2 {print $4}')
if [ "$free" -lt "$need" ]; then
  echo "bench-large.sh: $((free >> 20)) GiB free under $dir; 34 GiB are needed (set BENCH_DIR elsewhere)" >&2
  exit 1
fi
model="$dir/model-32g"
cleanup() { rm -rf "$model" "$dir/model-32g.sig"; }
trap cleanup EXIT
rm -rf "$model"
mkdir -p "$model"
# Incompressible data, written once (about a minute per 10 GiB here).
for i in 1 2 3 4 5 6 7 8; do
  head -c $((4 << 30)) /dev/urandom > "$model/model-0000$i-of-00008.safetensors"
done
sync
"$bin" keygen --algorithm ed25519 --out "$dir/bench-large" --force -q > /dev/null
key="$dir/bench-large.priv.pem"
pub="$dir/bench-large.pub.pem"

# measure CMD... -> "seconds max_rss_kib" (one run; the page cache is
# emptied first where this user may, so that each run reads the disk).
measure() {
  sync
  if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi
  /usr/bin/time -o "$dir/.time" -f "%e %M" "$@" > /dev/null 2> "$dir/.stderr" || {
    echo "bench-large.sh: failed: $*" >&2
    cat "$dir/.stderr" >&2
    exit 1
  }
  tail -1 "$dir/.time"
}

bytes=$((8 * (4 << 30)))
row() { # name seconds rss
  python3 - "$@" "$bytes" <<'PY'
import sys
name, secs, rss, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
print(f"| {name} | {secs:.1f} s | {size / secs / 1e6:,.0f} MB/s | {rss / 1024:,.0f} MiB |")
PY
}

table="$dir/.table-large"
{
  echo "| 32 GiB model, 8 files, read from disk | wall | throughput | peak RSS |"
  echo "|---|---|---|---|"
  read -r rt rm < <(measure sh -c "find '$model' -type f -print0 | xargs -0 -P $cores -n 1 cat > /dev/null")
  row "find \\| xargs -0 -P$cores -n 1 cat (the disk alone: read, no hash)" "$rt" "$rm"
  read -r ct cm < <(measure sh -c "find '$model' -type f -print0 | xargs -0 -P $cores -n 1 sha256sum")
  row "find \\| xargs -0 -P$cores -n 1 sha256sum" "$ct" "$cm"
  read -r st sm < <(measure "$bin" -q sign "$model" --key "$key" --signature "$dir/model-32g.sig")
  row "modelseal sign" "$st" "$sm"
  read -r vt vm < <(measure "$bin" -q verify "$model" --key "$pub" --signature "$dir/model-32g.sig")
  row "modelseal verify" "$vt" "$vm"
  echo
  python3 - "$ct" "$st" "$vt" "$sm" "$vm" "$cores" "$rt" <<'PY'
import sys
c, s, v, sm, vm = (float(x) for x in sys.argv[1:6])
r = float(sys.argv[7])
def ok(good): return "met" if good else "NOT MET"
print(f"Machine: {sys.argv[6]} cores, 24 GiB of memory; the page cache was emptied before each run.")
print()
print(f"- sign {s / c:.2f}x and verify {v / c:.2f}x the coreutils pipeline (target <= 1.1x: {ok(s <= 1.1 * c and v <= 1.1 * c)})")
print(f"- peak RSS: sign {sm / 1024:,.0f} MiB, verify {vm / 1024:,.0f} MiB (target <= 64 MiB: {ok(max(sm, vm) <= 64 * 1024)})")
print(f"- sign {s / r:.2f}x and verify {v / r:.2f}x the time the disk takes to read the files without hashing them")
PY
} > "$table"
cat "$table"
if [ "$readme" = 1 ]; then
  python3 "$root/scripts/readme-table.py" bench-large.sh "$table"
fi
