#!/usr/bin/env bash
# A throw-away PostgreSQL server on 127.0.0.1 for the test suite and benchmarks.
#   source .ci/postgres.sh; postgres_start   -> exports TEST_POSTGRES_URL; postgres_stop removes it all
# Installs Debian's postgresql package when no server binaries are found.

postgres_bin_dir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

postgres_start() {
  local bin
  if ! bin=$(postgres_bin_dir); then
    echo "PostgreSQL not found; installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null || return 1
    # The package starts a default cluster on 5432; only the throw-away one below is wanted.
    service postgresql stop >/dev/null 2>&1 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main stop >/dev/null 2>&1 || true
    bin=$(postgres_bin_dir) || return 1
  fi
  PG_DATA_DIR=$(mktemp -d /tmp/copydesk-pg.XXXXXX)
  PG_PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  local as_user=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DATA_DIR"
    as_user=(runuser -u postgres --)
  fi
  PG_AS_USER=("${as_user[@]}")
  PG_BIN=$bin
  "${as_user[@]}" "$bin/initdb" -D "$PG_DATA_DIR/data" -U postgres -A trust --locale=C.UTF-8 -E UTF8 >/dev/null || return 1
  "${as_user[@]}" "$bin/pg_ctl" -D "$PG_DATA_DIR/data" -l "$PG_DATA_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DATA_DIR -c max_connections=300 -c fsync=off -c full_page_writes=off" start >/dev/null || { cat "$PG_DATA_DIR/server.log"; return 1; }
  export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $PG_PORT"
}

postgres_stop() {
  [ -n "${PG_DATA_DIR:-}" ] || return 0
  "${PG_AS_USER[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DATA_DIR"
  PG_DATA_DIR=
}
