#!/usr/bin/env bash
# Runs scenario.py (the PyPI client grafana-client driving Pharos) against a freshly started Pharos,
# once per backend named: `run.sh sqlite`, `run.sh postgres`, or `run.sh` for both.
#
# Each run gets its own temp working dir and a fresh database (a new SQLite file, or a new
# PostgreSQL database that is dropped afterwards), starts `pharos serve` on a free port, waits for
# /readyz, runs the scenario, then stops Pharos with SIGTERM.
#
# Environment:
#   PHAROS_BIN                the binary (default: target/debug/pharos; it is not built here)
#   PHAROS_TEST_POSTGRES_URL  a PostgreSQL server URL without a database
#                             (default: postgres://postgres@127.0.0.1:5432, as crates/testkit)
#   PHAROS_TEST_VENV          where the virtualenv lives (default: target/grafana-client-venv)
#   PYTHON                    the interpreter that makes the virtualenv (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${PHAROS_BIN:-$root/target/debug/pharos}"
pg_server="${PHAROS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
pg_server="${pg_server%/}"
venv="${PHAROS_TEST_VENV:-$root/target/grafana-client-venv}"
python="${PYTHON:-python3}"

say() { printf '[grafana-client] %s\n' "$*"; }

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
say "using $("$venv/bin/python" -m pip show grafana-client 2>/dev/null | awk '/^Version:/ {print "grafana-client " $2}')"

# State of the run in progress, for the cleanup trap.
work=""
pid=""
pg_db=""

stop_pharos() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 300); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "pharos (pid $pid) did not stop within 30 s of SIGTERM: killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    fi
    pid=""
}

drop_database() {
    if [[ -n "$pg_db" ]]; then
        psql "$pg_server/postgres" -qAtX -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null ||
            say "could not drop database $pg_db" >&2
    fi
    pg_db=""
}

cleanup() {
    stop_pharos
    drop_database
    if [[ -n "$work" ]]; then
        rm -rf "$work"
    fi
    work=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run_backend() {
    local backend="$1" db_url address log
    # Called as `if ! run_backend`, where `set -e` is off: every step checks its own status.
    work="$(mktemp -d "${TMPDIR:-/tmp}/pharos-grafana-client.XXXXXX")" || return 1
    log="$work/pharos.log"
    if [[ "$backend" == sqlite ]]; then
        db_url="sqlite://$work/pharos.db"
    else
        pg_db="pharos_grafana_client_$$_$RANDOM"
        if ! psql "$pg_server/postgres" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$pg_db\"" >/dev/null; then
            say "$backend: could not create database $pg_db on $pg_server" >&2
            pg_db=""
            return 1
        fi
        db_url="$pg_server/$pg_db"
    fi
    say "$backend: starting $bin serve on $db_url"

    (
        cd "$work"
        # A clean environment, as crates/testkit does: Pharos refuses unknown PHAROS_* variables,
        # and the caller's settings (PHAROS_BIN, PHAROS_TEST_*) are not Pharos settings.
        exec env -i PATH="$PATH" HOME="${HOME:-/root}" \
            PHAROS_SERVER_LISTEN=127.0.0.1:0 PHAROS_DATABASE_URL="$db_url" \
            PHAROS_LOG_FORMAT=json "$bin" serve </dev/null >"$log" 2>&1
    ) &
    pid=$!

    # The ready line names the address Pharos bound (port 0 means any free port).
    address=""
    for _ in $(seq 600); do
        address="$(grep -m1 '"message":"pharos is ready"' "$log" 2>/dev/null |
            sed -E 's/.*"address":"([^"]+)".*/\1/' || true)"
        [[ -n "$address" ]] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$backend: pharos exited before it was ready; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    if [[ -z "$address" ]]; then
        say "$backend: pharos was not ready within 60 s; its log:" >&2
        cat "$log" >&2
        return 1
    fi
    local url="http://$address" ready=""
    for _ in $(seq 100); do
        if curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then
            ready=yes
            break
        fi
        sleep 0.1
    done
    if [[ -z "$ready" ]]; then
        say "$backend: $url/readyz did not answer 200 within 10 s; pharos log:" >&2
        cat "$log" >&2
        return 1
    fi
    say "$backend: pharos ready at $url"

    local rc=0
    "$venv/bin/python" "$here/scenario.py" "$url" --label "$backend" || rc=$?
    if [[ $rc -ne 0 ]]; then
        say "$backend: scenario failed (exit $rc); pharos warnings and errors:" >&2
        grep -E '"level":"(WARN|ERROR)"' "$log" >&2 || true
    fi
    stop_pharos
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
