#!/usr/bin/env bash
# Backs up a Pharos with the PyPI tool grafana-backup (ysde/grafana-backup-tool) and restores the
# archive into a second, empty Pharos, then compares the two through the API (scenario.py), once
# per backend named: `run.sh sqlite`, `run.sh postgres`, or `run.sh` for both.
#
# Each run gets its own temp working dir and two fresh databases (new SQLite files, or new
# PostgreSQL databases dropped afterwards). The source starts with the demo data (a TestData
# datasource and a dashboard, more to carry over), the target with none, so it is empty. Both run
# `pharos serve` on free ports and are stopped with SIGTERM.
#
# Environment:
#   PHAROS_BIN                the binary (default: target/debug/pharos; it is not built here)
#   PHAROS_TEST_POSTGRES_URL  a PostgreSQL server URL without a database
#                             (default: postgres://postgres@127.0.0.1:5432, as crates/testkit)
#   PHAROS_TEST_VENV          where the virtualenv lives (default: target/grafana-backup-venv)
#   PYTHON                    the interpreter that makes the virtualenv (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${PHAROS_BIN:-$root/target/debug/pharos}"
pg_server="${PHAROS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
pg_server="${pg_server%/}"
venv="${PHAROS_TEST_VENV:-$root/target/grafana-backup-venv}"
python="${PYTHON:-python3}"

say() { printf '[grafana-backup] %s\n' "$*"; }

if [[ ! -x "$bin" ]]; then
    say "no pharos binary at $bin: run 'cargo build' first or set PHAROS_BIN" >&2
    exit 2
fi

backends=("$@")
if [[ ${#backends[@]} -eq 0 ]]; then
    backends=(sqlite postgres)
fi
for backend in "${backends[@]}"; do
    case "$backend" in
        sqlite | postgres) ;;
        *)
            say "unknown backend '$backend' (sqlite or postgres)" >&2
            exit 2
            ;;
    esac
done

# The virtualenv: made once, remade when requirements.txt or the interpreter changes.
# shellcheck source=../../scripts/lib/venv.sh
source "$root/scripts/lib/venv.sh"
ensure_venv "$venv" "$python" "$here/requirements.txt"
say "using $("$venv/bin/python" -m pip show grafana-backup 2>/dev/null | awk '/^Version:/ {print "grafana-backup " $2}')"

# State of the run in progress, for the cleanup trap: pids and databases of both servers.
work=""
pids=()
pg_dbs=()

stop_all() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 300); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "pharos (pid $pid) did not stop within 30 s of SIGTERM: killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}

drop_databases() {
    local db
    for db in "${pg_dbs[@]}"; do
        psql "$pg_server/postgres" -qAtX -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null ||
            say "could not drop database $db" >&2
    done
    pg_dbs=()
}

cleanup() {
    stop_all
    drop_databases
    if [[ -n "$work" ]]; then
        rm -rf "$work"
    fi
    work=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_pharos BACKEND NAME DEMO_DATA: starts one server; sets `url`. Returns non-zero on failure.
start_pharos() {
    local backend="$1" name="$2" demo="$3" db_url log pid address
    log="$work/$name.log"
    if [[ "$backend" == sqlite ]]; then
        db_url="sqlite://$work/$name.db"
    else
        local db="pharos_grafana_backup_${name}_$$_$RANDOM"
        if ! psql "$pg_server/postgres" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null; then
            say "$backend: could not create database $db on $pg_server" >&2
            return 1
        fi
        pg_dbs+=("$db")
        db_url="$pg_server/$db"
    fi
    say "$backend: starting the $name on $db_url (demo data: $demo)"
    (
        cd "$work"
        # A clean environment, as crates/testkit does: Pharos refuses unknown PHAROS_* variables,
        # and the caller's settings (PHAROS_BIN, PHAROS_TEST_*) are not Pharos settings.
        exec env -i PATH="$PATH" HOME="${HOME:-/root}" \
            PHAROS_SERVER_LISTEN=127.0.0.1:0 PHAROS_DATABASE_URL="$db_url" \
            PHAROS_SERVER_DEMO_DATA="$demo" PHAROS_LOG_FORMAT=json "$bin" serve </dev/null >"$log" 2>&1
    ) &
    pid=$!
    pids+=("$pid")

    # The ready line names the address Pharos bound (port 0 means any free port).
    address=""
    for _ in $(seq 600); do
        address="$(grep -m1 '"message":"pharos is ready"' "$log" 2>/dev/null |
            sed -E 's/.*"address":"([^"]+)".*/\1/' || true)"
        [[ -n "$address" ]] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$backend: the $name exited before it was ready; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    if [[ -z "$address" ]]; then
        say "$backend: the $name was not ready within 60 s; its log:" >&2
        cat "$log" >&2
        return 1
    fi
    url="http://$address"
    for _ in $(seq 100); do
        if curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then
            say "$backend: the $name is ready at $url"
            return 0
        fi
        sleep 0.1
    done
    say "$backend: $url/readyz did not answer 200 within 10 s; its log:" >&2
    cat "$log" >&2
    return 1
}

run_backend() {
    local backend="$1" url source_url target_url
    # Called as `if ! run_backend`, where `set -e` is off: every step checks its own status.
    work="$(mktemp -d "${TMPDIR:-/tmp}/pharos-grafana-backup.XXXXXX")" || return 1
    start_pharos "$backend" source true || return 1
    source_url="$url"
    start_pharos "$backend" target false || return 1
    target_url="$url"

    local rc=0
    # TMPDIR inside the run's dir: the tool's archive and logs go when the run is cleaned up.
    TMPDIR="$work" "$venv/bin/python" "$here/scenario.py" "$source_url" "$target_url" \
        --label "$backend" || rc=$?
    if [[ $rc -ne 0 ]]; then
        local name
        for name in source target; do
            say "$backend: scenario failed (exit $rc); the $name's warnings and errors:" >&2
            grep -E '"level":"(WARN|ERROR)"' "$work/$name.log" >&2 || true
        done
    fi
    cleanup
    return "$rc"
}

failed=()
for backend in "${backends[@]}"; do
    if ! run_backend "$backend"; then
        failed+=("$backend")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    say "FAILED on: ${failed[*]}"
    exit 1
fi
say "passed on: ${backends[*]}"
