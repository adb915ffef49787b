#!/usr/bin/env bash
# Hashing benchmark: a 2 GiB model of 4 files and a dataset of 20,000 files of
# 3 KB. Reports wall time, throughput and peak RSS of `modelseal hash`, `sign`
# and `verify`, beside `openssl dgst -sha256` (one process per file, all cores)
# and, when installed, the Python reference `model_signing sign key`.
# Files are read from the page cache (a warm-up pass runs first), so the
# numbers measure hashing, not the disk.
#
#   scripts/bench.sh            # data under ${BENCH_DIR:-/tmp/modelseal-bench}
#   BENCH_RUNS=5 scripts/bench.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${BENCH_DIR:-/tmp/modelseal-bench}"
runs="${BENCH_RUNS:-3}"
cores="$(nproc)"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/release/modelseal"

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
files_dataset=20000
single_core=$(openssl speed -evp sha256 -seconds 2 2>/dev/null | awk '/^sha256/ {print $NF}' | tr -d k)
single_mbs=$(python3 -c "print(round($single_core * 1000 / 1e6))")

# measure LABEL CMD... -> prints "seconds max_rss_kib" (best wall of $runs runs)
measure() {
  local best="" rss=""
  for _ in $(seq "$runs"); do
    local out
    /usr/bin/time -o "$dir/.time" -f "%e %M" "$@" > /dev/null 2>&1 || true
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

echo "machine: $cores cores; openssl speed -evp sha256 (16 KiB blocks, one core): ${single_mbs} MB/s"
echo "target for the model: >= $(python3 -c "print(round(0.85 * $cores * $single_mbs))") MB/s (85% of cores x single-core rate)"
echo
echo "| 2 GiB model, 4 files | wall | throughput | peak RSS |"
echo "|---|---|---|---|"
read -r t m < <(measure "$bin" -q hash "$model" "${ignore[@]}"); row "modelseal hash" "$t" "$m" "$bytes_model" bytes
read -r t m < <(measure "$bin" -q hash "$model" "${ignore[@]}" --method shards --shard-size 134217728); row "modelseal hash --method shards (128 MiB)" "$t" "$m" "$bytes_model" bytes
read -r t m < <(measure "$bin" -q hash "$model" "${ignore[@]}" --hash blake3); row "modelseal hash --hash blake3" "$t" "$m" "$bytes_model" bytes
read -r t m < <(measure "$bin" -q sign "$model" "${ignore[@]}" --key "$key" --signature "$dir/model.sig"); row "modelseal sign" "$t" "$m" "$bytes_model" bytes
read -r t m < <(measure "$bin" -q verify "$model" "${ignore[@]}" --key "$pub" --signature "$dir/model.sig"); row "modelseal verify" "$t" "$m" "$bytes_model" bytes
read -r t m < <(measure sh -c "ls '$model'/*.safetensors | xargs -P $cores -n 1 openssl dgst -sha256"); row "openssl dgst -sha256 ($cores processes)" "$t" "$m" "$bytes_model" bytes
if command -v model_signing > /dev/null; then
  read -r t m < <(measure model_signing sign key "$model" --private_key "$key" --signature "$dir/py-model.sig" --ignore-paths "$model/.complete"); row "model_signing sign key (Python)" "$t" "$m" "$bytes_model" bytes
fi
echo
echo "| dataset, 20,000 files of 3 KB | wall | throughput | peak RSS |"
echo "|---|---|---|---|"
read -r t m < <(measure "$bin" -q hash "$dataset" "${ignore[@]}"); row "modelseal hash" "$t" "$m" "$files_dataset" files
read -r t m < <(measure "$bin" -q sign "$dataset" "${ignore[@]}" --key "$key" --signature "$dir/dataset.sig"); row "modelseal sign" "$t" "$m" "$files_dataset" files
read -r t m < <(measure "$bin" -q verify "$dataset" "${ignore[@]}" --key "$pub" --signature "$dir/dataset.sig"); row "modelseal verify" "$t" "$m" "$files_dataset" files
read -r t m < <(measure sh -c "find '$dataset' -type f -name '*.json' -print0 | xargs -0 -P $cores -n 2500 openssl dgst -sha256"); row "openssl dgst -sha256 ($cores processes)" "$t" "$m" "$files_dataset" files
if command -v model_signing > /dev/null; then
  read -r t m < <(measure model_signing sign key "$dataset" --private_key "$key" --signature "$dir/py-dataset.sig" --ignore-paths "$dataset/.complete"); row "model_signing sign key (Python)" "$t" "$m" "$files_dataset" files
fi
