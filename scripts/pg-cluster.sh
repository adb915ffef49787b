# Sourced by scripts/test.sh and the benchmarks: throwaway
# PostgreSQL clusters under a work directory, each on a free loopback port,
# without a Unix socket, with password (SCRAM) authentication and the
# server's durability defaults (fsync on). initdb refuses to run as root:
# as root, the clusters run as the `postgres` user.
#
#   pg_init ROOT            prepare ROOT (a new directory) for clusters
#   pg_start NAME PORT      initdb and start cluster NAME on PORT
#   pg_roles PORT PASSWORD  create modelseal_admin (CREATEDB),
#                           modelseal_writer, modelseal_reader
#   pg_stop_all             stop every cluster started
#   pg_bench ROOT           for a benchmark: one cluster "bench" under ROOT
#                           with the roles, on $pg_port, their passwords in
#                           $PGPASSFILE
#   pg_new_log BIN PUB      a fresh database under pg_bench's cluster,
#                           initialised as an evidence log for the key PUB
#                           by the modelseal binary BIN; prints the
#                           writer's postgres:// URI
# The superuser is `postgres` with the password in $pg_superuser.

pg_clusters=()
pg_as=()

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

random_hex() {
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

pg_init() {
  pg_root="$1"
  mkdir "$pg_root"
  pg_superuser="$(random_hex)"
  (umask 077 && echo "$pg_superuser" > "$pg_root/superuser.pw")
  if [ "$(id -u)" -eq 0 ]; then
    # Only the cluster directory is the postgres user's; it may pass
    # through the work directory holding it (a private temporary one).
    chmod o+x "$(dirname "$pg_root")"
    chown -R postgres: "$pg_root"
    pg_as=(runuser -u postgres --)
  fi
}

pg_start() {
  local name="$1" port="$2" dir="$pg_root/$1"
  "${pg_as[@]}" initdb -D "$dir" -U postgres -A scram-sha-256 --pwfile="$pg_root/superuser.pw" \
    -E UTF8 --locale=C.UTF-8 > "$pg_root/$name.initdb.log" 2>&1 || {
    cat "$pg_root/$name.initdb.log" >&2
    return 1
  }
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n" \
    "$port" >> "$dir/postgresql.conf"
  pg_clusters+=("$dir")
  "${pg_as[@]}" pg_ctl -D "$dir" -l "$pg_root/$name.log" -w -t 60 start > /dev/null || {
    cat "$pg_root/$name.log" >&2
    return 1
  }
}

pg_roles() {
  PGPASSWORD="$pg_superuser" psql -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "
    CREATE ROLE modelseal_admin LOGIN CREATEDB PASSWORD '$2';
    CREATE ROLE modelseal_writer LOGIN PASSWORD '$2';
    CREATE ROLE modelseal_reader LOGIN PASSWORD '$2';" > /dev/null
}

pg_bench() {
  local roles
  pg_init "$1"
  roles="$(random_hex)"
  pg_port="$(free_port)"
  pg_start bench "$pg_port"
  pg_roles "$pg_port" "$roles"
  (umask 077 && printf '127.0.0.1:*:*:postgres:%s\n127.0.0.1:*:*:*:%s\n' "$pg_superuser" "$roles" > "$pg_root/pgpass")
  export PGPASSFILE="$pg_root/pgpass"
}

pg_new_log() {
  local name
  name="bench_$(random_hex)"
  PGPASSWORD="$pg_superuser" psql -q -X -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
    -c "CREATE DATABASE $name OWNER modelseal_admin" > /dev/null
  "$1" -q evidence init "postgres://modelseal_admin@127.0.0.1:$pg_port/$name" \
    --evidence-key "$2" --writer modelseal_writer --reader modelseal_reader > /dev/null
  echo "postgres://modelseal_writer@127.0.0.1:$pg_port/$name"
}

pg_stop_all() {
  local dir
  for dir in "${pg_clusters[@]}"; do
    "${pg_as[@]}" pg_ctl -D "$dir" -m immediate -w stop > /dev/null 2>&1 || true
  done
}
