#!/usr/bin/env bash
# The main flow on the shipped fixtures: sign a model and its ML-BOM with the
# demo key, verify both, then show that a tampered copy is refused (exit 1).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --quiet --release --manifest-path "$root/Cargo.toml"
ms="${CARGO_TARGET_DIR:-$root/target}/release/modelseal"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/fixtures/tiny-model" "$work/tiny-model"
cp -r "$root/fixtures/tiny-dataset" "$work/tiny-dataset"
cd "$work"

echo "\$ modelseal sign tiny-model --key keys/demo.priv.pem --signature tiny-model.sig --bom tiny-model.cdx.json --dataset tiny-dataset"
"$ms" sign tiny-model --key "$root/keys/demo.priv.pem" --signature tiny-model.sig \
  --bom tiny-model.cdx.json --dataset tiny-dataset
echo
echo "\$ modelseal verify tiny-model --signature tiny-model.sig --key keys/demo.pub.pem --bom tiny-model.cdx.json"
"$ms" verify tiny-model --signature tiny-model.sig --key "$root/keys/demo.pub.pem" --bom tiny-model.cdx.json
echo
echo "# flip one byte of the weights and add a file, then verify again"
printf '\x01' | dd of=tiny-model/model.safetensors bs=1 seek=100 conv=notrunc status=none
echo "surprise" > tiny-model/payload.py
echo "\$ modelseal verify tiny-model --signature tiny-model.sig --key keys/demo.pub.pem --bom tiny-model.cdx.json"
set +e
"$ms" verify tiny-model --signature tiny-model.sig --key "$root/keys/demo.pub.pem" --bom tiny-model.cdx.json
code=$?
set -e
echo "exit code: $code (1 = verification failed)"
[ "$code" -eq 1 ]
