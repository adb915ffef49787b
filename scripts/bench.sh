#!/usr/bin/env bash
# Hashing benchmark: a 2 GiB model of 4 files of 512 MiB and a dataset of
# 20,000 files of 3 KB. Reports wall time, throughput and peak RSS of
# `modelseal hash`, `sign` and `verify`, beside `openssl dgst -sha256` (one
# process per file, all cores) and the Python reference `model_signing sign
# key` (1.1.1, from the test tools), all in the same run, and checks the
# targets against baselines measured in that run:
#   - sign and verify of the model at >= 90% of min(cores, files) x the
#     one-core `openssl speed -evp sha256 -bytes 1048576` rate,
#   - sign of the model >= 1.6x as fast as model_signing,
#   - peak RSS of the model's sign and verify <= 64 MiB.
# Files are read from the page cache (a warm-up pass runs first), so the
# numbers measure hashing, not the disk.
#
#   scripts/bench.sh              # data under ${BENCH_DIR:-/tmp/modelseal-bench}
#   scripts/bench.sh --readme     # also writes the tables into README.md
#   BENCH_RUNS=5 scripts/bench.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
readme=0
[ "${1:-}" = "--readme" ] && readme=1
dir="${BENCH_DIR:-/tmp/modelseal-bench}"
runs="${BENCH_RUNS:-3}"
cores="$(nproc)"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/release/modelseal"
# shellcheck source=scripts/test-env.sh
. "$root/scripts/test-env.sh"

mkdir -p "$dir"
model="$dir/model-2g"
dataset="$dir/dataset-20k"
if [ ! -f "$model/.complete" ]; then
  rm -rf "$model"; mkdir -p "$model"
  for i in 1 2 3 4; do head -c $((512 << 20)) /dev/urandom > "$model/model-0000$i-of-00004.safetensors"; done
  touch "$model/.complete"
fi
if [ ! -f "$dataset/.complete" ]; then
  rm -rf "$dataset"; mkdir -p "$dataset"
  python3 - "$dataset" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(20000):
    sub = os.path.join(d, f"shard-{i // 1000:02d}")
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, f"row-{i:05d}.json"), "wb") as f:
        f.write(os.urandom(3000))
PY
  touch "$dataset/.complete"
fi
# The marker files must not count as data.
ignore=(--ignore-path .complete)
"$bin" keygen --algorithm ecdsa-p256 --out "$dir/bench" --force -q >/dev/null
key="$dir/bench.priv.pem"; pub="$dir/bench.pub.pem"

# Warm the page cache.
cat "$model"/*.safetensors > /dev/null
find "$dataset" -type f -exec cat {} + > /dev/null

bytes_model=$((4 * (512 << 20)))
files_model=4
files_dataset=20000
# The one-core SHA-256 rate in 1 MiB blocks (bytes/s).
single=$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null | awk '/^sha256/ {print $NF}' | tr -d k)
single_mbs=$(python3 -c "print(round($single * 1000 / 1e6))")
lanes=$((cores < files_model ? cores : files_model))

# measure CMD... -> prints "seconds max_rss_kib" (best wall of $runs runs)
measure() {
  local best="" rss=""
  for _ in $(seq "$runs"); do
    local out
    /usr/bin/time -o "$dir/.time" -f "%e %M" "$@" > /dev/null 2> "$dir/.stderr" || {
      echo "bench.sh: failed: $*" >&2
      cat "$dir/.stderr" >&2
      exit 1
    }
    out=$(tail -1 "$dir/.time")
    local t=${out% *} m=${out#* }
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; rss=$m; fi
  done
  echo "$best $rss"
}

row() { # name seconds rss unit_count unit
  python3 - "$@" <<'PY'
import sys
name, secs, rss, count, unit = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
secs = max(secs, 0.005)
rate = f"{count / secs / 1e6:,.0f} MB/s" if unit == "bytes" else f"{count / secs:,.0f} files/s"
print(f"| {name} | {secs:.2f} s | {rate} | {rss / 1024:.0f} MiB |")
PY
}

table="$dir/.table"
{
  echo "| 2 GiB model, 4 files | wall | throughput | peak RSS |"
  echo "|---|---|---|---|"
  read -r t m < <(measure "$bin" -q hash "$model" "${ignore[@]}"); row "modelseal hash" "$t" "$m" "$bytes_model" bytes
  read -r t m < <(measure "$bin" -q hash "$model" "${ignore[@]}" --method shards --shard-size 134217728); row "modelseal hash --method shards (128 MiB)" "$t" "$m" "$bytes_model" bytes
  read -r t m < <(measure "$bin" -q hash "$model" "${ignore[@]}" --hash blake3); row "modelseal hash --hash blake3" "$t" "$m" "$bytes_model" bytes
  read -r st sm < <(measure "$bin" -q sign "$model" "${ignore[@]}" --key "$key" --signature "$dir/model.sig"); row "modelseal sign" "$st" "$sm" "$bytes_model" bytes
  read -r vt vm < <(measure "$bin" -q verify "$model" "${ignore[@]}" --key "$pub" --signature "$dir/model.sig"); row "modelseal verify" "$vt" "$vm" "$bytes_model" bytes
  read -r t m < <(measure sh -c "ls '$model'/*.safetensors | xargs -P $cores -n 1 openssl dgst -sha256"); row "openssl dgst -sha256 ($cores processes)" "$t" "$m" "$bytes_model" bytes
  read -r pt pm < <(measure model_signing sign key "$model" --private_key "$key" --signature "$dir/py-model.sig" --ignore-paths "$model/.complete"); row "model_signing sign key (Python $(model_signing --version 2>/dev/null | awk '{print $NF}'))" "$pt" "$pm" "$bytes_model" bytes
  echo
  echo "| dataset, 20,000 files of 3 KB | wall | throughput | peak RSS |"
  echo "|---|---|---|---|"
  read -r t m < <(measure "$bin" -q hash "$dataset" "${ignore[@]}"); row "modelseal hash" "$t" "$m" "$files_dataset" files
  read -r t m < <(measure "$bin" -q sign "$dataset" "${ignore[@]}" --key "$key" --signature "$dir/dataset.sig"); row "modelseal sign" "$t" "$m" "$files_dataset" files
  read -r t m < <(measure "$bin" -q verify "$dataset" "${ignore[@]}" --key "$pub" --signature "$dir/dataset.sig"); row "modelseal verify" "$t" "$m" "$files_dataset" files
  read -r t m < <(measure sh -c "find '$dataset' -type f -name '*.json' -print0 | xargs -0 -P $cores -n 2500 openssl dgst -sha256"); row "openssl dgst -sha256 ($cores processes)" "$t" "$m" "$files_dataset" files
  read -r t m < <(measure model_signing sign key "$dataset" --private_key "$key" --signature "$dir/py-dataset.sig" --ignore-paths "$dataset/.complete"); row "model_signing sign key (Python)" "$t" "$m" "$files_dataset" files
  echo
  python3 - "$single_mbs" "$lanes" "$bytes_model" "$st" "$sm" "$vt" "$vm" "$pt" "$cores" <<'PY'
import sys
single, lanes, size = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
st, sm, vt, vm, pt = float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
cores = sys.argv[9]
limit = lanes * single
def rate(t): return size / max(t, 0.005) / 1e6
def ok(good): return "met" if good else "NOT MET"
print(f"Machine: {cores} cores; one-core `openssl speed -evp sha256 -bytes 1048576`: {single:,.0f} MB/s, "
      f"so {lanes} x that = {limit:,.0f} MB/s for 4 files.")
print()
print(f"- sign {rate(st):,.0f} MB/s = {rate(st) / limit:.0%} of it, verify {rate(vt):,.0f} MB/s = {rate(vt) / limit:.0%} "
      f"(target >= 90%: {ok(rate(st) >= 0.9 * limit and rate(vt) >= 0.9 * limit)})")
print(f"- sign is {pt / st:.2f}x as fast as model_signing (target >= 1.6x: {ok(pt / st >= 1.6)})")
print(f"- peak RSS: sign {sm / 1024:.0f} MiB, verify {vm / 1024:.0f} MiB (target <= 64 MiB: {ok(max(sm, vm) <= 64 * 1024)})")
PY
} > "$table"
cat "$table"
if [ "$readme" = 1 ]; then
  python3 "$root/scripts/readme-table.py" bench.sh "$table"
fi
