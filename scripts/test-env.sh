# Sourced by scripts/test.sh, scripts/install-test-deps.sh and .ci/run: where
# the test tools live, and PATH so that the tests find them.
#
# The Python tools sit in a virtual environment outside the checkout, shared
# by every clone and kept between runs, so they are installed once per
# machine. Set MODELSEAL_TEST_TOOLS to put it elsewhere.
MODELSEAL_TEST_TOOLS="${MODELSEAL_TEST_TOOLS:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/modelseal/test-tools}"
export MODELSEAL_TEST_TOOLS
case ":$PATH:" in
  *":$MODELSEAL_TEST_TOOLS/bin:"*) ;;
  *) PATH="$MODELSEAL_TEST_TOOLS/bin:$PATH" ;;
esac
export PATH

# PostgreSQL's server programs (initdb, pg_ctl) live in a versioned
# directory off PATH on Debian: the newest one joins PATH.
for pg_bin in $(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1); do
  case ":$PATH:" in
    *":$pg_bin:"*) ;;
    *) PATH="$PATH:$pg_bin" ;;
  esac
done
unset pg_bin
# Go's official install puts the toolchain in /usr/local/go/bin.
if [ -x /usr/local/go/bin/go ]; then
  case ":$PATH:" in
    *":/usr/local/go/bin:"*) ;;
    *) PATH="$PATH:/usr/local/go/bin" ;;
  esac
fi
export PATH

# The external tools the tests run (a missing one fails its test):
# chromium renders the HTML audit report headless; docker-registry (Debian's
# package of the CNCF distribution registry) is the registry of the oci://
# tests and python3 (the venv's) runs their oras client; the PostgreSQL
# programs run the throwaway clusters of scripts/test.sh; go builds the
# Go test peers (tests/differential/: how Go programs read OCI JSON);
# litewitness, witnessctl and the OpenSSH agent tools run the witnesses of
# tests/witness.rs; openssl is the RFC 3161 responder of tests/timestamp.rs;
# softhsm2-util and pkcs11-tool make the PKCS#11 token of tests/pkcs11.rs;
# go_k8s_strict reads the admission webhook's replies, manifests and
# fixtures as the Kubernetes API server does, and curl calls the webhook.
MODELSEAL_TEST_COMMANDS="model_signing trestle chromium docker-registry python3 initdb pg_ctl psql go litewitness witnessctl ssh-agent ssh-add ssh-keygen openssl softhsm2-util pkcs11-tool go_k8s_strict curl"

# missing_commands CMD...: prints those of CMD... not found on PATH.
missing_commands() {
  local cmd missing=()
  for cmd in "$@"; do
    command -v "$cmd" > /dev/null 2>&1 || missing+=("$cmd")
  done
  echo "${missing[*]}"
}
