#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis on loopback for the test suite.
#   .ci/services.sh install        apt-get the Debian packages the tests need, when missing
#   .ci/services.sh install demo   only what `make demo` needs (gettext, python3-venv)
#   .ci/services.sh start     start both (prints the env lines to export)
#   .ci/services.sh stop      stop both and delete their data
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Outside the work tree: var/ is private (0700, Django's file cache) and the postgres
# user must be able to reach its data directory.
RUN_DIR=${GOVTECH_SERVICES_DIR:-${TMPDIR:-/tmp}/govtech-services-$(echo "$ROOT" | cksum | cut -d' ' -f1)}
PG_PORT=${TEST_PG_PORT:-55432}
REDIS_PORT=${TEST_REDIS_PORT:-56379}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

as_pg_user() {
  # PostgreSQL refuses to run as root; Debian's package creates the postgres user.
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  local missing=()
  # Both: compilemessages needs msgfmt; Debian's python3 makes a venv only with python3-venv.
  command -v msgfmt >/dev/null || missing+=(gettext)
  "${PYTHON_BIN:-python3}" -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
  if [ "${1:-test}" != "demo" ]; then
    # The demo runs on SQLite and the filesystem broker: none of these.
    [ -n "$(pg_bin)" ] || missing+=(postgresql)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v chromium >/dev/null || missing+=(chromium)
    # Japanese glyphs for the browser tests' screenshots (the docs' images) and the font
    # of the PDF 帳票 (reports.exports.pdf embeds IPA Gothic): 3.5 MB.
    [ -e /usr/share/fonts/opentype/ipafont-gothic ] || missing+=(fonts-ipafont-gothic)
    # pdftotext: the tests read a PDF 帳票's text back (tests/reports).
    command -v pdftotext >/dev/null || missing+=(poppler-utils)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = "0" ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

start() {
  stop >/dev/null 2>&1 || true
  mkdir -p "$RUN_DIR"
  chmod 755 "$RUN_DIR"
  local bin; bin=$(pg_bin)
  local pgdata="$RUN_DIR/pg"
  mkdir -p "$pgdata"
  [ "$(id -u)" = "0" ] && chown -R postgres "$RUN_DIR"
  as_pg_user "$bin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  local options="-p $PG_PORT -k $RUN_DIR -c listen_addresses=127.0.0.1 -c fsync=off"
  options="$options -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
  # One retry: a server stopped a moment ago may still hold the port or shared memory.
  if ! as_pg_user "$bin/pg_ctl" -D "$pgdata" -l "$RUN_DIR/pg.log" -w -o "$options" start >/dev/null; then
    sleep 3
    as_pg_user "$bin/pg_ctl" -D "$pgdata" -l "$RUN_DIR/pg.log" -w -o "$options" start >/dev/null \
      || { cat "$RUN_DIR/pg.log" >&2; exit 1; }
  fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize yes --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/govtech"
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop() {
  local bin; bin=$(pg_bin || true)
  if [ -n "$bin" ] && [ -f "$RUN_DIR/pg/postmaster.pid" ]; then
    as_pg_user "$bin/pg_ctl" -D "$RUN_DIR/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -f "$RUN_DIR/redis.pid" ]; then
    kill "$(cat "$RUN_DIR/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$RUN_DIR"
}

"$@"
