#!/usr/bin/env bash
# Dataset-scale benchmark: FILES files of 100 bytes in directories of 1,000
# (default 1,000,000). Reports wall time, files/s and peak RSS of `modelseal
# sign`, `verify`, `bom` (signed), `verify --bom` and `bom --check` beside
# the coreutils pipeline
# `find -print0 | xargs -0 -P<cores> -n 5000 sha256sum` on the same files in
# the same run, and the bundle size. Files come from the page cache (a
# warm-up pass runs first), so the numbers measure modelseal, not the disk.
#
#   scripts/bench-dataset.sh               # 1,000,000 files
#   scripts/bench-dataset.sh --readme      # the same, and write the table into README.md
#   scripts/bench-dataset.sh 3000000       # 3,000,000 files (run by hand)
#   BENCH_PYTHON=1 scripts/bench-dataset.sh  # also `model_signing sign key`
#
# Data goes under ${BENCH_DIR:-/tmp/modelseal-bench}; the binary is taken
# from ${CARGO_TARGET_DIR:-target}/release (build it first with
# `cargo build --release`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
readme=0
if [ "${1:-}" = "--readme" ]; then
  readme=1
  shift
fi
files="${1:-1000000}"
dir="${BENCH_DIR:-/tmp/modelseal-bench}"
cores="$(nproc)"
bin="${CARGO_TARGET_DIR:-$root/target}/release/modelseal"
if [ ! -x "$bin" ]; then
  echo "bench-dataset.sh: no release binary at $bin (run cargo build --release)" >&2
  exit 1
fi

mkdir -p "$dir"
dataset="$dir/dataset-$files"
python3 "$root/scripts/gen-dataset.py" "$dataset" "$files"
ignore=(--ignore-path .complete)
"$bin" keygen --algorithm ed25519 --out "$dir/bench-ed" --force -q > /dev/null
key="$dir/bench-ed.priv.pem"
pub="$dir/bench-ed.pub.pem"

# Warm the page cache and the dentry cache.
find "$dataset" -type f -name '*.bin' -print0 | xargs -0 -n 5000 cat > /dev/null

# measure CMD... -> "seconds max_rss_kib" (one run: a run takes seconds).
measure() {
  /usr/bin/time -o "$dir/.time" -f "%e %M" "$@" > /dev/null 2> "$dir/.stderr" || {
    echo "bench-dataset.sh: failed: $*" >&2
    cat "$dir/.stderr" >&2
    exit 1
  }
  tail -1 "$dir/.time"
}

row() { # name seconds rss files
  python3 - "$@" <<'PY'
import sys
name, secs, rss, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
secs = max(secs, 0.005)
print(f"| {name} | {secs:.1f} s | {count / secs / 1e3:,.0f}k files/s | {rss / 1024:,.0f} MiB |")
PY
}

table="$dir/.table-dataset"
{
echo "| $files files of 100 bytes | wall | throughput | peak RSS |"
echo "|---|---|---|---|"
read -r ct cm < <(measure sh -c "find '$dataset' -type f -name '*.bin' -print0 | xargs -0 -P $cores -n 5000 sha256sum")
row "find \\| xargs -0 -P$cores -n 5000 sha256sum" "$ct" "$cm" "$files"
read -r st sm < <(measure "$bin" -q sign "$dataset" "${ignore[@]}" --key "$key" --signature "$dir/dataset-$files.sig")
row "modelseal sign" "$st" "$sm" "$files"
read -r vt vm < <(measure "$bin" -q verify "$dataset" "${ignore[@]}" --key "$pub" --signature "$dir/dataset-$files.sig")
row "modelseal verify" "$vt" "$vm" "$files"
bom="$dir/dataset-$files.cdx.json"
read -r bt bm < <(measure "$bin" -q bom "$dataset" "${ignore[@]}" --key "$key" --out "$bom")
row "modelseal bom --key (signed ML-BOM)" "$bt" "$bm" "$files"
read -r vbt vbm < <(measure "$bin" -q verify "$dataset" "${ignore[@]}" --key "$pub" --signature "$dir/dataset-$files.sig" --bom "$bom")
row "modelseal verify --bom" "$vbt" "$vbm" "$files"
read -r kt km < <(measure "$bin" -q bom --check "$bom")
row "modelseal bom --check" "$kt" "$km" "$files"
if [ "${BENCH_PYTHON:-0}" = 1 ] && command -v model_signing > /dev/null; then
  read -r pt pm < <(measure model_signing sign key "$dataset" --private_key "$key" --signature "$dir/py-dataset-$files.sig" --ignore-paths "$dataset/.complete")
  row "model_signing sign key (Python)" "$pt" "$pm" "$files"
fi
echo
python3 - "$ct" "$st" "$vt" "$sm" "$vm" "$(stat -c %s "$dir/dataset-$files.sig")" "$(stat -c %s "$bom")" "$cores" "$files" <<'PY'
import sys
c, s, v, sm, vm, size, bom = (float(x) for x in sys.argv[1:8])
cores, files = sys.argv[8], int(sys.argv[9])
def ok(good): return "met" if good else "NOT MET"
print(f"Machine: {cores} cores; {files:,} files of 100 bytes, 1,000 per directory, page cache warm, one run each.")
print()
print(f"- sign {s / c:.2f}x and verify {v / c:.2f}x the coreutils pipeline (target <= 1.2x: {ok(s <= 1.2 * c and v <= 1.2 * c)})")
print(f"- peak RSS: sign {sm / 1024:,.0f} MiB, verify {vm / 1024:,.0f} MiB (target <= 300 MiB: {ok(max(sm, vm) <= 300 * 1024)})")
print(f"- bundle {size / 2**20:,.0f} MiB, BOM {bom / 2**20:,.0f} MiB")
PY
} > "$table"
cat "$table"
if [ "$readme" = 1 ]; then
  python3 "$root/scripts/readme-table.py" bench-dataset.sh "$table"
fi
