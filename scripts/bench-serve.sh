#!/usr/bin/env bash
# Admission service benchmark (numbers for README, not a test), against a
# throwaway local registry (Debian's docker-registry) and PostgreSQL:
#
#  1. cached verdicts: wrk posts AdmissionReviews for one signed model, each
#     with its own request uid, so every admission writes and waits for a
#     durable deployment record; evidence in a file log, then in PostgreSQL;
#  2. uncached: a 2 GiB ModelPack model (4 x 512 MiB safetensors) pushed
#     once, then ADMISSIONS manifests that differ only by an annotation,
#     each with the signature and signed BOM attached; the verdict cache
#     off, each admission verifies (the raw layers, read and judged once,
#     are kept by digest);
#  3. fifty concurrent admissions of one new digest: verifications made, as
#     the registry's access log counts its manifest GETs.
#
# Targets (issue "The deploy gate as a service"): (1) >= 1,000 admissions/s
# with p99 <= 25 ms in each store; (2) p99 <= 300 ms; (3) one verification.
#
#   scripts/bench-serve.sh [--readme] [ADMISSIONS]   (default 200)
# The 2 GiB model is kept under ${BENCH_DIR:-/tmp/modelseal-bench}.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
readme=0
if [ "${1:-}" = "--readme" ]; then
  readme=1
  shift
fi
admissions="${1:-200}"
# shellcheck source=scripts/test-env.sh
. scripts/test-env.sh
# shellcheck source=scripts/registry.sh
. scripts/registry.sh
missing="$(missing_commands docker-registry python3 wrk curl openssl initdb pg_ctl psql)"
if [ -n "$missing" ]; then
  echo "bench-serve: missing: $missing (scripts/install-test-deps.sh installs them)" >&2
  exit 1
fi
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --locked --bin modelseal
bin="$target/release/modelseal"

dir="${BENCH_DIR:-/tmp/modelseal-bench}"
mkdir -p "$dir"
# Real safetensors files (a policy judges formats from the bytes): a
# header naming one U8 tensor, then 512 MiB of random data, four times.
big="$dir/serve-model-2g"
if [ ! -f "$dir/serve-model-2g.complete" ]; then
  rm -rf "$big"
  mkdir -p "$big"
  for i in 1 2 3 4; do
    python3 - "$big/model-0000$i-of-00004.safetensors" << 'EOF'
import json, os, sys
n = (512 << 20) - 4096
header = json.dumps({"weight": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
header += b" " * (-len(header) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(len(header).to_bytes(8, "little") + header)
    left = n
    while left:
        chunk = min(left, 8 << 20)
        f.write(os.urandom(chunk))
        left -= chunk
EOF
  done
  echo '{"architectures": ["Bench"]}' > "$big/config.json"
  touch "$dir/serve-model-2g.complete"
fi

work="$(mktemp -d "$dir/serve.XXXXXX")"
# shellcheck source=scripts/pg-cluster.sh
. scripts/pg-cluster.sh
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  stop_registry
  pg_stop_all
  rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work/registry"
registry="$MODELSEAL_TEST_REGISTRY"
tool() { python3 tests/oci/registry_tool.py "$@"; }

# Keys, certificates (made now), and the policy: the release key, a signed
# BOM required, this registry listed.
"$bin" -q keygen --algorithm ecdsa-p256 --out "$work/release" > /dev/null
"$bin" -q keygen --out "$work/evidence" > /dev/null
(
  cd "$work"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 2 -subj "/CN=bench CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2> /dev/null
  openssl req "${ec[@]}" -keyout server.key -out server.csr -subj /CN=server 2> /dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
    -days 2 -extfile server.ext 2> /dev/null
)
printf '[signers]\nkeys = ["release.pub.pem"]\n[require]\nbom = true\n[admission]\nregistries = ["%s"]\n' \
  "$registry" > "$work/policy.toml"

# serve LOG EXTRA...: starts the server; sets $addr.
serve() {
  local log="$1"
  shift
  "$bin" serve --listen 127.0.0.1:0 --tls-cert "$work/server.crt" --tls-key "$work/server.key" \
    --policy "$work/policy.toml" --evidence "$log" --evidence-key "$work/evidence.priv.pem" \
    --plain-http "$@" 2> "$work/serve.err" &
  server_pid=$!
  addr=""
  for _ in $(seq 200); do
    addr="$(sed -n 's|^serving on https://||p' "$work/serve.err")"
    [ -n "$addr" ] && return 0
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.05
  done
  cat "$work/serve.err" >&2
  return 1
}

# review UID REFERENCE: an AdmissionReview of the committed image-volume Pod.
review() {
  python3 - "$1" "$2" << 'EOF'
import json, pathlib, sys
uid, ref = sys.argv[1], sys.argv[2]
pod = json.loads(pathlib.Path("tests/admission/pod-image-volume.json").read_text().replace("@MODEL@", ref))
kind = {"group": "", "version": "v1", "kind": "Pod"}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": uid, "kind": kind, "resource": {"group": "", "version": "v1", "resource": "pods"},
    "name": "model-server", "namespace": "ml", "operation": "CREATE", "object": pod,
    "userInfo": {"username": "bench"}, "dryRun": False}}))
EOF
}

# --- 1. cached verdicts ---------------------------------------------------
tool push-raw "$registry" bench/tiny:v1 fixtures/tiny-model > /dev/null
tiny="$(tool digest "$registry" bench/tiny:v1)"
"$bin" -q sign "oci://$registry/bench/tiny@$tiny" --plain-http --key "$work/release.priv.pem" \
  --bom "$work/tiny.cdx.json" > /dev/null
review UID-PLACEHOLDER "$registry/bench/tiny@$tiny" > "$work/review.json"
# Each request gets its own uid (a retried uid is answered from memory and
# records nothing): wrk's Lua numbers them.
# admit-paced.lua waits 7 ms between a connection's requests: ten
# connections offer about 1,000 admissions/s, the load the target names
# (wrk has no fixed-rate mode); admit.lua sends as fast as answers come.
python3 - "$work/review.json" "$work/admit.lua" "$work/admit-paced.lua" << 'EOF'
import json, sys
body = open(sys.argv[1]).read()
head, tail = body.split("UID-PLACEHOLDER")
lua = f"""
local head, tail = {json.dumps(head)}, {json.dumps(tail)}
local n = 0
local thread_id = 0
setup = function(thread) thread_id = thread_id + 1; thread:set("id", thread_id) end
request = function()
  n = n + 1
  return wrk.format("POST", "/validate", {{["Content-Type"] = "application/json"}}, head .. "bench-" .. id .. "-" .. n .. tail)
end
"""
open(sys.argv[2], "w").write(lua)
open(sys.argv[3], "w").write(lua + "delay = function() return 7 end\n")
EOF

# wrk_run SCRIPT CONNECTIONS: prints "rate p99_ms requests errors".
wrk_run() {
  local out rate p99 requests errors
  out="$(wrk -t2 -c"$2" -d10s --latency -s "$1" "https://$addr/validate")"
  echo "$out" >&2
  rate="$(echo "$out" | awk '/^Requests\/sec/ {printf "%.0f", $2}')"
  p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
  requests="$(echo "$out" | awk '/requests in/ {print $1}')"
  errors="$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
  echo "$rate $(to_ms "$p99") $requests ${errors:-0}"
}

# load LOG: wrk against a server on LOG, paced (about 1,000/s offered) then
# saturated (8 connections); prints "paced_rate paced_p99 rate p99
# requests records errors" (requests and records of both runs).
load() {
  local log="$1" records before pr pp preq perr r p req err
  serve "$log"
  # Warm: the one verification, then the cache.
  curl -sS --cacert "$work/ca.crt" -H 'Content-Type: application/json' \
    --data-binary @<(review warm "$registry/bench/tiny@$tiny") "https://$addr/validate" > /dev/null
  before="$(records_of "$log")"
  read -r pr pp preq perr < <(wrk_run "$work/admit-paced.lua" 10)
  read -r r p req err < <(wrk_run "$work/admit.lua" 8)
  stop_server
  records=$(($(records_of "$log") - before))
  echo "$pr $pp $r $p $((preq + req)) $records $((perr + err))"
}
to_ms() { # wrk's 1.23ms / 456.00us / 1.2s
  python3 -c "import sys,re; v=sys.argv[1]; m=re.match(r'([0-9.]+)(us|ms|s)', v); f={'us':1e-3,'ms':1,'s':1e3}[m.group(2)]; print(f'{float(m.group(1))*f:.1f}')" "$1"
}
records_of() {
  case "$1" in
    postgres://*) PGPASSWORD="$pg_superuser" psql -qtAX -h 127.0.0.1 -p "$pg_port" -U postgres -d "${1##*/}" \
      -c "SELECT count(*) FROM modelseal_evidence.records" ;;
    *) [ -f "$1" ] && wc -l < "$1" || echo 0 ;;
  esac
}

read -r file_paced file_paced_p99 file_rate file_p99 file_requests file_records file_errors < <(load "$work/evidence.jsonl")

pg_bench "$work/pg"
pg_log="$(pg_new_log "$bin" "$work/evidence.pub.pem")"
read -r pg_paced pg_paced_p99 pg_rate pg_p99 pg_requests pg_records pg_errors < <(load "$pg_log")

# --- 2. uncached: distinct manifests sharing 2 GiB of layers ---------------
start=$SECONDS
tool push-raw "$registry" bench/big:v1 "$big" > /dev/null
tool variants "$registry" bench/big:v1 $((admissions + 1)) > "$work/variants"
echo "pushed the 2 GiB model and $((admissions + 1)) variants in $((SECONDS - start)) s" >&2
# Signed once in place (signature and BOM attached as referrers); the
# variants share every file, so the same referrers are copied onto each
# (what signing each in place would attach, without 200 signing runs).
first="$(head -1 "$work/variants")"
"$bin" -q sign "oci://$registry/bench/big@$first" --plain-http --key "$work/release.priv.pem" \
  --bom "$work/big.cdx.json" > /dev/null
start=$SECONDS
tail -n +2 "$work/variants" | while read -r d; do
  tool copy-referrers "$registry" bench/big "$first" "$d" > /dev/null
done
echo "attached the signature and BOM to every variant in $((SECONDS - start)) s" >&2
fifty="$(tail -1 "$work/variants")"
head -n "$admissions" "$work/variants" > "$work/uncached"

serve "$work/uncached.jsonl" --cache-size 0
i=0
: > "$work/times"
while read -r d; do
  i=$((i + 1))
  review "u-$i" "$registry/bench/big@$d" > "$work/u.json"
  curl -sS --cacert "$work/ca.crt" -H 'Content-Type: application/json' --data-binary @"$work/u.json" \
    -o "$work/u.out" -w '%{time_total}\n' "https://$addr/validate" >> "$work/times"
  grep -q '"allowed":true' "$work/u.out" || { echo "not admitted: $(cat "$work/u.out")" >&2; exit 1; }
done < "$work/uncached"
read -r u_p50 u_p99 u_max < <(python3 -c "
import sys
t = sorted(float(x) * 1000 for x in open(sys.argv[1]))
q = lambda p: t[min(len(t) - 1, int(round(p * len(t) + 0.5)) - 1)]
print(f'{q(0.5):.0f} {q(0.99):.0f} {t[-1]:.0f}')" "$work/times")
stop_server

# --- 3. fifty at once, one new digest -------------------------------------
serve "$work/fifty.jsonl"
review "f-UID" "$registry/bench/big@$fifty" > "$work/f.json"
mark="$(wc -c < "$MODELSEAL_TEST_REGISTRY_LOG")"
seq 50 | xargs -P 50 -I{} sh -c "sed 's/f-UID/f-{}/' '$work/f.json' | curl -sS --cacert '$work/ca.crt' \
  -H 'Content-Type: application/json' --data-binary @- 'https://$addr/validate' > '$work/f-{}.out'"
admitted="$(grep -l '"allowed":true' "$work"/f-*.out | wc -l)"
gets="$(tail -c +$((mark + 1)) "$MODELSEAL_TEST_REGISTRY_LOG" | grep -c "GET /v2/bench/big/manifests/$fifty" || true)"
verifications="$(curl -sS --cacert "$work/ca.crt" "https://$addr/metrics" | awk '/^modelseal_verifications_total/ {print $2}')"
stop_server

table="$work/table.md"
{
  echo "| admission service (\`modelseal serve\`), this machine | about 1,000/s offered (10 connections) | as fast as answered (8 connections) | durable deployment records |"
  echo "|---|---|---|---|"
  echo "| cached verdict, evidence in a file log | ${file_paced}/s, p99 ${file_paced_p99} ms | ${file_rate}/s, p99 ${file_p99} ms | $file_records for $file_requests admissions |"
  echo "| cached verdict, evidence in PostgreSQL | ${pg_paced}/s, p99 ${pg_paced_p99} ms | ${pg_rate}/s, p99 ${pg_p99} ms | $pg_records for $pg_requests admissions |"
  echo "| uncached: $admissions distinct manifests sharing 2 GiB of layers, one at a time | p99 ${u_p99} ms (p50 ${u_p50} ms, max ${u_max} ms: the first reads the layers) | | |"
  echo "| 50 concurrent admissions of one new digest | $admitted admitted, $verifications verification, $gets manifest GET | | |"
} > "$table"
met() { if python3 -c "import sys; sys.exit(0 if $1 else 1)"; then echo met; else echo "NOT MET"; fi; }
{
  echo
  echo "wrk counts the requests answered before it stops; the few in flight then are recorded too (more records than admissions)."
  echo "target: cached >= 1,000/s with p99 <= 25 ms: file log $(met "$file_paced >= 1000 and $file_paced_p99 <= 25"), PostgreSQL $(met "$pg_paced >= 1000 and $pg_paced_p99 <= 25")"
  echo "target: uncached p99 <= 300 ms: $(met "$u_p99 <= 300")"
  echo "target: 50 concurrent admissions of a new digest make one verification: $(met "$verifications == 1 and $gets == 1")"
  echo "non-2xx answers under load: file ${file_errors}, PostgreSQL ${pg_errors}"
} >> "$table"
cat "$table"
if [ "$readme" = 1 ]; then
  python3 scripts/readme-table.py bench-serve.sh "$table"
fi
