#!/usr/bin/env bash
# Backup and restore of 10,000 dashboards: how long `pharos backup` takes, how big the file is, and
# how long `pharos restore` takes into an empty SQLite and an empty PostgreSQL database, plus
# `migrate-db` SQLite → PostgreSQL. Release build; the dashboards (a 12-panel dashboard of about
# 6 KB, each saved twice: 20,000 version rows) are created through the API first.
#
#   bench/backup.sh
#   BENCH_DASHBOARDS=1000 bench/backup.sh        # a quick look
#
# Needs PostgreSQL on PHAROS_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432, trust
# auth) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
dashboards="${BENCH_DASHBOARDS:-10000}"
pg_server="${PHAROS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
pg_server="${pg_server%/}"

if [[ -z "${PHAROS_BIN:-}" ]]; then
    echo "building the release binary..." >&2
    cargo build --release -q -p pharos-server --bin pharos
    bin="$root/target/release/pharos"
else
    bin="$PHAROS_BIN"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/pharos-bench-backup.XXXXXX")"
pid=""
pg_dbs=()
cleanup() {
    if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    for db in "${pg_dbs[@]}"; do
        psql "$pg_server/postgres" -qtAc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

new_pg() {
    local name="pharos_bench_backup_$1_$$"
    psql "$pg_server/postgres" -qtAc "CREATE DATABASE $name" >/dev/null
    pg_dbs+=("$name")
    echo "$pg_server/$name"
}

seconds() { python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.2f}")' "$1"; }
now() { python3 -c 'import time; print(time.time())'; }

# The source: a fresh SQLite database, filled through the API.
source_url="sqlite://$work/source.db"
PHAROS_DATABASE_URL="$source_url" PHAROS_SERVER_LISTEN=127.0.0.1:0 PHAROS_SERVER_DEMO_DATA=false \
    PHAROS_LOG_FORMAT=json "$bin" serve 2>"$work/serve.log" &
pid=$!
address=""
for _ in $(seq 300); do
    address="$(grep -o '"address":"[^"]*"' "$work/serve.log" | head -1 | cut -d'"' -f4 || true)"
    [[ -n "$address" ]] && break
    sleep 0.1
done
[[ -n "$address" ]] || { echo "pharos did not start:"; cat "$work/serve.log"; exit 1; }

echo "creating $dashboards dashboards (two versions each) through the API..." >&2
t0="$(now)"
python3 - "$address" "$dashboards" <<'EOF'
import base64, json, random, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
address, count = sys.argv[1], int(sys.argv[2])
auth = "Basic " + base64.b64encode(b"admin:admin").decode()
def panel(i, rng):
    # A description unique to each panel, so the file is not compressed better than real ones.
    return {"id": i, "description": "%032x" % rng.getrandbits(128), "type": "timeseries", "title": f"Panel {i}", "gridPos": {"x": (i % 2) * 12, "y": i * 8, "w": 12, "h": 8},
            "targets": [{"refId": "A", "expr": f'rate(node_cpu_seconds_total{{mode="user",instance=~"$instance"}}[$__rate_interval]) * {i}'}],
            "fieldConfig": {"defaults": {"unit": "percent", "min": 0, "max": 100}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}}
def save(i):
    rng = random.Random(i)
    version = None
    for v in range(2):
        body = {"dashboard": {"uid": f"bench-{i}", "title": f"Bench dashboard {i}", "tags": ["bench", f"t{i % 10}"],
                              "panels": [panel(p, rng) for p in range(12)], "time": {"from": "now-6h", "to": "now"}},
                "message": f"save {v}"}
        if version:
            body["dashboard"]["version"] = version
        req = urllib.request.Request(f"http://{address}/api/dashboards/db", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": auth})
        with urllib.request.urlopen(req) as r:
            version = json.load(r)["version"]
with ThreadPoolExecutor(8) as pool:
    list(pool.map(save, range(count)))
EOF
echo "created in $(seconds "$t0") s" >&2

file="$work/bench.pharos-backup"
t0="$(now)"
PHAROS_DATABASE_URL="$source_url" PHAROS_LOG_LEVEL=warn "$bin" backup --out "$file" >/dev/null 2>"$work/backup.log"
backup_s="$(seconds "$t0")"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
size="$(stat -c %s "$file")"
db_size="$(stat -c %s "$work/source.db")"

t0="$(now)"
PHAROS_DATABASE_URL="sqlite://$work/restored.db" PHAROS_LOG_LEVEL=warn "$bin" restore --in "$file" >/dev/null 2>"$work/restore-sqlite.log"
restore_sqlite_s="$(seconds "$t0")"

pg_target="$(new_pg restore)"
t0="$(now)"
PHAROS_DATABASE_URL="$pg_target" PHAROS_LOG_LEVEL=warn "$bin" restore --in "$file" >/dev/null 2>"$work/restore-pg.log"
restore_pg_s="$(seconds "$t0")"

pg_migrate="$(new_pg migrate)"
t0="$(now)"
PHAROS_LOG_LEVEL=warn "$bin" migrate-db --from "$source_url" --to "$pg_migrate" >/dev/null 2>"$work/migrate.log"
migrate_s="$(seconds "$t0")"

pg_backup_file="$work/from-pg.pharos-backup"
t0="$(now)"
PHAROS_DATABASE_URL="$pg_target" PHAROS_LOG_LEVEL=warn "$bin" backup --out "$pg_backup_file" >/dev/null 2>"$work/backup-pg.log"
backup_pg_s="$(seconds "$t0")"

rows="$(grep -o '^backup: [0-9]* rows' "$work/backup.log" | awk '{print $2}')"
echo
echo "backup benchmark: $dashboards dashboards, $rows rows ($(nproc) cores, $bin)"
printf '%-44s %10s\n' "step" "seconds"
printf '%-44s %10s\n' "backup from SQLite" "$backup_s"
printf '%-44s %10s\n' "backup from PostgreSQL" "$backup_pg_s"
printf '%-44s %10s\n' "restore into an empty SQLite" "$restore_sqlite_s"
printf '%-44s %10s\n' "restore into an empty PostgreSQL" "$restore_pg_s"
printf '%-44s %10s\n' "migrate-db SQLite -> PostgreSQL" "$migrate_s"
python3 -c 'import sys; f, d = int(sys.argv[1]), int(sys.argv[2]); print(f"backup file: {f} bytes ({f/1048576:.1f} MB); the SQLite database it came from: {d/1048576:.1f} MB")' "$size" "$db_size"
