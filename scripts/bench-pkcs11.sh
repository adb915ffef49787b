#!/usr/bin/env bash
# PKCS#11 signing benchmark (numbers for README, not a test): the median
# wall time of `modelseal sign` of the same small model with an ECDSA P-256
# key in a file and with the same kind of key in a SoftHSM2 token (made
# here, in a throwaway directory), one process each time, so the token's
# module load, login and signature are all counted. Builds the release
# binary first; SoftHSM2 and OpenSC come from scripts/install-test-deps.sh.
#
#   scripts/bench-pkcs11.sh [--readme] [RUNS]   (default 21)
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
runs="${1:-21}"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --locked --bin modelseal
bin="$target/release/modelseal"
module=/usr/lib/softhsm/libsofthsm2.so

work="$(mktemp -d "${TMPDIR:-/tmp}/modelseal-bench-pkcs11.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tokens" "$work/model"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" > "$work/softhsm2.conf"
export SOFTHSM2_CONF="$work/softhsm2.conf"
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 > /dev/null
printf 1234 > "$work/pin"
pkcs11-tool --module "$module" --token-label bench --login --pin 1234 \
  --keypairgen --key-type EC:prime256v1 --label p256 --id 01 > /dev/null
"$bin" keygen --algorithm ecdsa-p256 --out "$work/file" > /dev/null
head -c 1048576 /dev/urandom > "$work/model/weights.bin"
echo '{"model_type": "bench"}' > "$work/model/config.json"
uri="pkcs11:token=bench;object=p256?module-path=$module&pin-source=$work/pin"

# median_ms KEY: the median wall time, in ms, of RUNS signings.
median_ms() {
  local times=() i start end
  for i in $(seq "$runs"); do
    start=$(date +%s%N)
    "$bin" --quiet sign "$work/model" --key "$1" --signature "$work/out.sig" > /dev/null
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
file="$(median_ms "$work/file.priv.pem")"
token="$(median_ms "$uri")"

table="$work/table.md"
{
  echo "| sign a 1 MiB model, ECDSA P-256 (median of $runs, one process each) | time | added by the token |"
  echo "|---|---|---|"
  echo "| key in a PEM file | ${file} ms | |"
  echo "| key in a SoftHSM2 token (\`pkcs11:\` URI) | ${token} ms | $((token - file)) ms |"
} > "$table"
cat "$table"
echo "target: the token adds at most 50 ms: $([ $((token - file)) -le 50 ] && echo met || echo NOT MET)"
if [ "$readme" = 1 ]; then
  python3 scripts/readme-table.py bench-pkcs11.sh "$table"
fi
