#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the tests: initdb into a temp
# folder, pg_ctl start on a free port, one database; stop removes it all.
#
#   tests/lib/postgres.sh start STATE_DIR   # prints the URI; STATE_DIR/uri has it too
#   tests/lib/postgres.sh stop STATE_DIR
#   tests/lib/postgres.sh uri STATE_DIR     # a fresh database on the running cluster
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# 'postgres' user that Debian's package creates.
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop|uri STATE_DIR}
state=${2:?usage: postgres.sh start|stop|uri STATE_DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $bindir/initdb ]] || { echo "postgres.sh: PostgreSQL is not installed (scripts/setup installs it)" >&2; exit 1; }

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

case $cmd in
  start)
    [[ -f $state/uri ]] && "$0" stop "$state" >/dev/null 2>&1 || true
    mkdir -p "$state"
    data=$(mktemp -d /tmp/forja-pg-XXXXXX)
    echo "$data" >"$state/data"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$data"
    as_pg "$bindir/initdb" -D "$data/db" -U forja --auth=trust -E UTF8 --no-sync >"$state/initdb.log" 2>&1 ||
      { cat "$state/initdb.log" >&2; exit 1; }
    port=$(free_port)
    as_pg "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data -c fsync=on -c max_connections=200" \
      start >/dev/null || { cat "$data/server.log" >&2; exit 1; }
    echo "$port" >"$state/port"
    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U forja forja_test
    echo "postgresql://forja@127.0.0.1:$port/forja_test" | tee "$state/uri"
    ;;
  uri)
    port=$(cat "$state/port")
    name=forja_$(date +%s%N | tail -c 10)_$RANDOM
    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U forja "$name"
    echo "postgresql://forja@127.0.0.1:$port/$name"
    ;;
  stop)
    [[ -f $state/data ]] || exit 0
    data=$(cat "$state/data")
    as_pg "$bindir/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$data" "$state/uri" "$state/port" "$state/data"
    ;;
  *)
    echo "usage: postgres.sh start|stop|uri STATE_DIR" >&2
    exit 2
    ;;
esac
