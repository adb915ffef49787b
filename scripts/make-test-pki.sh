#!/usr/bin/env bash
# Regenerates fixtures/pki: a throw-away code-signing PKI for the tests.
# TEST ONLY: these keys are public and must never sign anything real.
# Needs the openssl command line (only to regenerate; tests read the files).
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/fixtures/pki"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

key() { openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$1"; }
ca_ext() { printf 'basicConstraints=critical,CA:TRUE%s\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\n' "$1"; }
leaf_ext() { printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$1"; }

# Two independent roots: the trusted one and an unrelated one.
for root in root other-root; do
  key "$root.key"
  openssl req -x509 -new -key "$root.key" -subj "/CN=modelseal test $root" -days 7300 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -out "$root.pem"
done

key intermediate.key
openssl req -new -key intermediate.key -subj "/CN=modelseal test intermediate" -out int.csr
ca_ext ",pathlen:0" > int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 2 -days 7300 \
  -extfile int.ext -out intermediate.pem

key signer.key
openssl req -new -key signer.key -subj "/CN=modelseal test release signer" -out signer.csr
sign_leaf() { # name eku days
  leaf_ext "$2" > "$1.ext"
  openssl x509 -req -in signer.csr -CA intermediate.pem -CAkey intermediate.key -set_serial "$4" \
    -days "$3" -extfile "$1.ext" -out "$1.pem"
}
sign_leaf signer codeSigning 7300 10
sign_leaf signer-expired codeSigning -1 11
sign_leaf signer-tls serverAuth 7300 12

cp root.pem other-root.pem intermediate.pem signer.pem signer-expired.pem signer-tls.pem signer.key "$out/"
echo "wrote $out"
