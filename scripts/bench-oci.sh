#!/usr/bin/env bash
# Registry benchmark: a 2 GiB model (4 safetensors files of 512 MiB and a
# config) pushed as ModelPack raw layers to a throwaway local registry
# (Debian's docker-registry on 127.0.0.1, as in the tests). Reports wall time
# and peak RSS of signing and verifying it in place (no weight blob read),
# beside pulling it (every blob checked against its digest) and verifying
# the pulled directory, and verifying it once 20 junk signature bundles of
# 60 MiB each are attached ahead of the real one (what anyone who can push
# to the repository can do). Targets: the in-place verify under 200 ms; the
# junk-laden verify's peak RSS under 256 MiB (one bundle at a time).
#
#   scripts/bench-oci.sh        # data under ${BENCH_DIR:-/tmp/modelseal-bench}
#   BENCH_RUNS=5 scripts/bench-oci.sh
#   BENCH_PROFILE=dev scripts/bench-oci.sh
#   BENCH_BIN=/path/to/modelseal scripts/bench-oci.sh   # another build, not rebuilt
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
readme=0
[ "${1:-}" = "--readme" ] && readme=1
# shellcheck source=scripts/test-env.sh
. "$root/scripts/test-env.sh"
# shellcheck source=scripts/registry.sh
. "$root/scripts/registry.sh"
dir="${BENCH_DIR:-/tmp/modelseal-bench}"
runs="${BENCH_RUNS:-3}"
# BENCH_PROFILE=dev measures the debug build (its dependencies, hashing
# and ECDSA included, are optimised: see Cargo.toml).
profile="${BENCH_PROFILE:-release}"
if [ -n "${BENCH_BIN:-}" ]; then
  bin="$BENCH_BIN"
else
  cargo build --profile "$profile" --quiet --manifest-path "$root/Cargo.toml"
  bin="${CARGO_TARGET_DIR:-$root/target}/$([ "$profile" = dev ] && echo debug || echo "$profile")/modelseal"
fi
missing="$(missing_commands docker-registry python3 /usr/bin/time)"
if [ -n "$missing" ]; then
  echo "bench-oci: missing: $missing (scripts/install-test-deps.sh installs them)" >&2
  exit 1
fi

mkdir -p "$dir"
model="$dir/oci-model-2g"
if [ ! -f "$dir/oci-model-2g.complete" ]; then
  rm -rf "$model"
  mkdir -p "$model"
  for i in 1 2 3 4; do head -c $((512 << 20)) /dev/urandom > "$model/model-0000$i-of-00004.safetensors"; done
  echo '{"architectures": ["Bench"]}' > "$model/config.json"
  touch "$dir/oci-model-2g.complete"
fi

work="$(mktemp -d "$dir/run.XXXXXX")"
cleanup() {
  stop_registry
  rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work/registry"
registry="$MODELSEAL_TEST_REGISTRY"
tool() { python3 "$root/tests/oci/registry_tool.py" "$@"; }

start=$SECONDS
tool push-raw "$registry" bench/sign:v1 "$model" > /dev/null
digest="$(tool push-raw "$registry" bench/verify:v1 "$model" | tail -1)"
echo "pushed the model twice with oras in $((SECONDS - start)) s (manifest $digest)"

"$bin" keygen --algorithm ecdsa-p256 --out "$work/bench" -q > /dev/null
key="$work/bench.priv.pem"
pub="$work/bench.pub.pem"
"$bin" -q sign "oci://$registry/bench/verify:v1" --plain-http --key "$key" \
  --signature "$work/model.sig" > /dev/null

# measure CMD... -> prints "seconds max_rss_kib" (best wall of $runs runs)
measure() {
  local best="" rss="" out t m
  for _ in $(seq "$runs"); do
    local start end
    start="$(date +%s%N)"
    /usr/bin/time -o "$work/.time" -f "%M" "$@" > /dev/null 2> "$work/.err" ||
      { cat "$work/.err" >&2; return 1; }
    end="$(date +%s%N)"
    out="$(tail -1 "$work/.time")"
    t="$(python3 -c "print(f'{($end - $start) / 1e9:.3f}')")"
    m=$out
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then
      best=$t
      rss=$m
    fi
  done
  echo "$best $rss"
}

row() { # name seconds rss_kib
  printf '| %s | %s s | %s MiB |\n' "$1" "$2" "$(($3 / 1024))"
}

# GETs of the weight blobs (a raw layer's digest is its file's SHA-256);
# the bundle's own blob does not count.
weights="$(sha256sum "$model"/*.safetensors | cut -d' ' -f1 | sed 's|^|GET /v2/bench/verify/blobs/sha256:|')"
blob_gets() { grep -c -F "$weights" "$MODELSEAL_TEST_REGISTRY_LOG" || true; }

table="$dir/.table-oci"
{
echo "| 2 GiB model in a local registry (best of $runs) | wall | peak RSS |"
echo "|---|---|---|"
read -r t m < <(measure "$bin" -q sign "oci://$registry/bench/sign:v1" --plain-http --key "$key")
row "modelseal sign oci:// (in place, bundle attached)" "$t" "$m"
before="$(blob_gets)"
read -r t m < <(measure "$bin" -q verify "oci://$registry/bench/verify:v1" --plain-http --key "$pub")
in_place=$t
row "modelseal verify oci:// (in place, referrer bundle)" "$t" "$m"
after="$(blob_gets)"
read -r t m < <(measure "$bin" -q verify "oci://$registry/bench/verify:v1" --plain-http --key "$pub" \
  --signature "$work/model.sig")
row "modelseal verify oci:// --signature FILE (in place)" "$t" "$m"
pull_before="$(blob_gets)"
read -r t m < <(measure sh -c "rm -rf '$work/pulled' && '$bin' -q verify 'oci://$registry/bench/verify:v1' --plain-http --key '$pub' --pull '$work/pulled'")
pull=$t
pull_after="$(blob_gets)"
row "modelseal verify oci:// --pull DIR (download, digest-checked)" "$t" "$m"
read -r t m < <(measure "$bin" -q verify "$work/pulled" --key "$pub" --signature "$work/model.sig")
row "modelseal verify DIR (the pulled directory)" "$t" "$m"
echo "| pull + verify DIR | $(python3 -c "print(f'{$pull + $t:.2f}')") s | |"
tool attach-junk "$registry" bench/verify "$digest" 20 60 > /dev/null
# Its exit status is printed, not required (a build that stops at the
# first junk bundle exits 2): the figure is the memory.
read -r t m < <(measure sh -c "'$bin' -q verify 'oci://$registry/bench/verify:v1' --plain-http --key '$pub' > /dev/null; echo \$? > '$work/junk.status'")
junk_rss=$m
row "modelseal verify oci:// with 20 junk bundles of 60 MiB attached first" "$t" "$m"
echo
echo "weight blob requests during the in-place verifies: $((after - before)) (during the pulls: $((pull_after - pull_before)))"
echo "in-place verify: $(python3 -c "print(round($in_place * 1000))") ms (target: under 200 ms)"
echo "verify with 20 junk bundles attached: peak RSS $((junk_rss / 1024)) MiB (target: under 256 MiB), exit $(cat "$work/junk.status")"
} > "$table"
echo
cat "$table"
if [ "$readme" = 1 ]; then
  python3 "$root/scripts/readme-table.py" bench-oci.sh "$table"
fi
