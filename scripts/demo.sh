#!/usr/bin/env bash
# The main flow on the shipped fixtures: sign a model with the demo key,
# verify it, then show that a tampered copy is refused (exit code 1).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --quiet --release --manifest-path "$root/Cargo.toml"
ms="$root/target/release/modelseal"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/fixtures/tiny-model" "$work/tiny-model"

echo "\$ modelseal sign tiny-model --key keys/demo.priv.pem --signature tiny-model.sig"
"$ms" sign "$work/tiny-model" --key "$root/keys/demo.priv.pem" --signature "$work/tiny-model.sig"
echo
echo "\$ modelseal verify tiny-model --signature tiny-model.sig --key keys/demo.pub.pem"
"$ms" verify "$work/tiny-model" --signature "$work/tiny-model.sig" --key "$root/keys/demo.pub.pem"
echo
echo "# flip one byte of the weights and add a file, then verify again"
printf '\x01' | dd of="$work/tiny-model/model.safetensors" bs=1 seek=100 conv=notrunc status=none
echo "surprise" > "$work/tiny-model/payload.py"
echo "\$ modelseal verify tiny-model --signature tiny-model.sig --key keys/demo.pub.pem"
set +e
"$ms" verify "$work/tiny-model" --signature "$work/tiny-model.sig" --key "$root/keys/demo.pub.pem"
code=$?
set -e
echo "exit code: $code (1 = verification failed)"
[ "$code" -eq 1 ]
