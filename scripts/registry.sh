# Sourced by scripts/test.sh and scripts/bench-oci.sh: a throwaway OCI
# distribution registry (Debian's docker-registry) on 127.0.0.1, plain HTTP,
# with its storage and access log under a directory of the caller's.
#
#   start_registry DIR   starts it on a free port; exports
#                        MODELSEAL_TEST_REGISTRY (HOST:PORT) and
#                        MODELSEAL_TEST_REGISTRY_LOG (its access log)
#   stop_registry        stops it (harmless when none was started)

registry_pid=""

# free_port: prints a TCP port free on 127.0.0.1 now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_registry() {
  local dir="$1" port i
  mkdir -p "$dir/data"
  port="$(free_port)"
  printf '%s\n' 'version: 0.1' 'log:' '  level: info' '  formatter: text' \
    'storage:' '  filesystem:' "    rootdirectory: $dir/data" '  delete:' '    enabled: true' \
    'http:' "  addr: 127.0.0.1:$port" > "$dir/config.yml"
  docker-registry serve "$dir/config.yml" > "$dir/access.log" 2>&1 &
  registry_pid=$!
  for i in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/', timeout=1)" 2> /dev/null; then
      export MODELSEAL_TEST_REGISTRY="127.0.0.1:$port"
      export MODELSEAL_TEST_REGISTRY_LOG="$dir/access.log"
      return 0
    fi
    kill -0 "$registry_pid" 2> /dev/null || break
    sleep 0.1
  done
  echo "the registry did not start (after $i tries):" >&2
  cat "$dir/access.log" >&2
  return 1
}

stop_registry() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2> /dev/null || true
    wait "$registry_pid" 2> /dev/null || true
    registry_pid=""
  fi
}
