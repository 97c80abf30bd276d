#!/usr/bin/env bash
# bench/api.sh: HTTP API throughput, memory and start-up time of one Pharos process, on SQLite and on
# PostgreSQL, measured on loopback. It prints numbers; it is not a test and fails nothing on a slow run.
#
#   bench/api.sh                      # builds a release binary into target/bench, runs everything
#   PHAROS_BIN=path/to/pharos bench/api.sh
#   DURATION=5s ROUNDS=1 BACKENDS=sqlite bench/api.sh     # a quick look
#
# Settings (environment):
#   PHAROS_BIN     a pharos binary to use; unset: `cargo build --release -p pharos-server` with
#                  CARGO_TARGET_DIR=<repo>/target/bench
#   DURATION       wrk run length per route and round (default 10s)
#   WARMUP         wrk warm-up per route before the first round (default 3s; 0 skips it)
#   ROUNDS         measured rounds; every route runs once per round, routes interleaved, medians reported
#                  (default 3)
#   CONNECTIONS    wrk connections (default 64); THREADS wrk threads (default 2)
#   BACKENDS       "sqlite postgres" (default) or either one
#   SEED           small dashboards created through the API before the runs (default 1000)
#   STARTS         restarts on a migrated SQLite database for the start-to-ready median (default 5)
#   PG_ADMIN_URL   PostgreSQL server to create the scratch database on (default
#                  postgres://postgres@127.0.0.1:5432); must be on 127.0.0.1
#   FIXTURE        the large dashboard (default ../shared/fixtures/dashboards/node-exporter-full.json)
#   BENCH_LOG_LEVEL  the server's log.level (default info, the shipped default: one log line per request)
#   BENCH_MAX_SECONDS  the script stops starting new runs after this long, not counting QUIET_WAIT waits
#                  (default 2400)
#   QUIET_BUSY, QUIET_WAIT  before the start-up timings and each backend's runs, while nothing of the
#                  benchmark is busy, wait up to QUIET_WAIT seconds (default 0: no wait) for the machine's CPU
#                  use (over 3 s, from /proc/stat) to drop below QUIET_BUSY percent (default 15); the figure
#                  is printed either way, as the machine is shared
#
# Everything it starts (pharos processes, the scratch PostgreSQL database, a temp dir) is removed on exit,
# also on Ctrl-C. Only 127.0.0.1 is contacted.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR="$ROOT/bench"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
BACKENDS=${BACKENDS:-sqlite postgres}
SEED=${SEED:-1000}
STARTS=${STARTS:-5}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432}
FIXTURE=${FIXTURE:-$ROOT/../shared/fixtures/dashboards/node-exporter-full.json}
BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
BENCH_MAX_SECONDS=${BENCH_MAX_SECONDS:-2400}
QUIET_BUSY=${QUIET_BUSY:-15}
QUIET_WAIT=${QUIET_WAIT:-0}
IDLE_WAIT=3          # seconds between "ready" and the idle RSS reading
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
READY_DEADLINE=30    # seconds a start may take before the script gives up

SEARCH_QUERY=bench-007   # titles are bench-0000 .. bench-0999: this matches bench-0070 .. bench-0079

die() { echo "bench/api.sh: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

# ---------------------------------------------------------------------------------------------- checks
[[ $PG_ADMIN_URL =~ ^postgres(ql)?://[^@/]*@127\.0\.0\.1(:[0-9]+)?/?$ ]] ||
    die "PG_ADMIN_URL must point at 127.0.0.1 (got $PG_ADMIN_URL)"
PG_ADMIN_URL=${PG_ADMIN_URL%/}
[[ -r $FIXTURE ]] || die "fixture not found: $FIXTURE"
for tool in curl jq awk; do command -v "$tool" >/dev/null || die "$tool is required"; done
if ! command -v wrk >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        note "installing wrk"
        DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q wrk >/dev/null ||
            { timeout 300 apt-get update -q >/dev/null &&
              DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q wrk >/dev/null; } ||
            die "could not install wrk"
    else
        die "wrk is required (apt-get install wrk)"
    fi
fi
if [[ " $BACKENDS " == *" postgres "* ]]; then
    command -v psql >/dev/null || die "psql is required for the postgres backend"
    timeout 10 psql "$PG_ADMIN_URL/postgres" -Atqc 'SELECT 1' >/dev/null ||
        die "PostgreSQL is not answering at $PG_ADMIN_URL"
fi

seconds_of() { # 10s, 2m, 500ms or a bare number of seconds -> whole seconds, at least 1
    local v=$1
    case $v in
        *ms) echo 1 ;;
        *s) echo "${v%s}" ;;
        *m) echo $(( ${v%m} * 60 )) ;;
        *h) echo $(( ${v%h} * 3600 )) ;;
        *) echo "$v" ;;
    esac
}
DURATION_S=$(seconds_of "$DURATION")
WARMUP_S=$(seconds_of "$WARMUP")

# ---------------------------------------------------------------------------------------------- binary
if [[ -n ${PHAROS_BIN:-} ]]; then
    BIN=$PHAROS_BIN
else
    note "building pharos (release, CARGO_TARGET_DIR=$ROOT/target/bench)"
    (cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target/bench" timeout 1800 cargo build --release -q -p pharos-server) ||
        die "build failed"
    BIN=$ROOT/target/bench/release/pharos
fi
[[ -x $BIN ]] || die "not an executable: $BIN"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
SECONDS=0   # the time budget starts after the build

# ---------------------------------------------------------------------------------------------- cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pharos-bench.XXXXXX")
SERVER_PIDS=()
PG_DBS=()

cleanup() {
    local pid db
    for pid in "${SERVER_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for db in "${PG_DBS[@]}"; do
        timeout 20 psql "$PG_ADMIN_URL/postgres" -Atqc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
            >/dev/null 2>&1 || echo "bench/api.sh: could not drop database $db" >&2
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check_deadline() {
    (( SECONDS - QUIET_SPENT < BENCH_MAX_SECONDS )) || die "time budget of ${BENCH_MAX_SECONDS}s used up; stopping"
}

# ---------------------------------------------------------------------------------------------- server
# The server gets a clean environment as far as Pharos is concerned: any PHAROS_* variable of the caller
# (PHAROS_BIN included, which Pharos would reject as an unknown setting) is removed.
CHILD_ENV=(env)
while IFS='=' read -r name _; do
    [[ $name == PHAROS_* ]] && CHILD_ENV+=(-u "$name")
done < <(env)

free_port() { # a port below Linux' ephemeral range (32768-) that no socket uses now
    local port
    for _ in $(seq 100); do
        port=$(( 20000 + RANDOM % 12000 ))
        if command -v ss >/dev/null; then
            [[ -z $(ss -Htan "( sport = :$port or dport = :$port )" 2>/dev/null) ]] || continue
        fi
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    die "no free port found"
}

ready_probe() { # PORT -> success when GET /readyz answers 200
    local fd line
    { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&"$fd" 2>/dev/null || true
    IFS= read -r -t 2 line <&"$fd" || true
    exec {fd}>&-
    [[ $line == "HTTP/1.1 200"* ]]
}

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# start_server DATABASE_URL LOGFILE: sets PID, PORT and READY_MS (process spawn to the first /readyz 200).
# A port taken between the check and the bind (other programs share the machine) means another try.
start_server() {
    local attempt
    for attempt in 1 2 3; do
        start_server_once "$@" && return 0
        grep -q 'Address already in use' "$2" || break
        note "port $PORT was taken; trying another"
    done
    tail -5 "$2" >&2
    die "pharos exited during start-up"
}

start_server_once() {
    local url=$1 log=$2 t0 deadline
    PORT=$(free_port)
    t0=$(now_us)
    (cd "$TMP" && exec "${CHILD_ENV[@]}" \
        PHAROS_SERVER_LISTEN="127.0.0.1:$PORT" PHAROS_DATABASE_URL="$url" \
        PHAROS_LOG_FORMAT=json PHAROS_LOG_LEVEL="$BENCH_LOG_LEVEL" \
        "$BIN" serve >>"$log" 2>&1) &
    PID=$!
    SERVER_PIDS+=("$PID")
    deadline=$(( t0 + READY_DEADLINE * 1000000 ))
    until ready_probe "$PORT"; do
        if ! kill -0 "$PID" 2>/dev/null; then wait "$PID" 2>/dev/null || true; return 1; fi
        (( $(now_us) < deadline )) || { tail -5 "$log" >&2; die "pharos not ready after ${READY_DEADLINE}s"; }
        sleep 0.002
    done
    READY_MS=$(( ($(now_us) - t0) / 1000 ))
}

stop_server() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local keep=() p
    for p in "${SERVER_PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
    SERVER_PIDS=("${keep[@]}")
}

rss_kib() { awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

cpu_ticks() { # PID... -> user + system CPU ticks of those processes (gone ones count 0)
    local p t=0 v
    for p in "$@"; do
        v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || v=0
        t=$(( t + ${v:-0} ))
    done
    echo "$t"
}

cpu_busy_pct() { # the machine's CPU use over the next 3 seconds, in percent of all CPUs
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    sleep 3
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]
        printf "%.0f", (busy + idle > 0) ? 100 * busy / (busy + idle) : 0 }'
}

# Sets BUSY to what other programs use of the CPUs now (the benchmark idles meanwhile); with QUIET_WAIT,
# first waits for a quieter machine.
QUIET_SPENT=0
wait_quiet() {
    local started=$SECONDS
    BUSY=$(cpu_busy_pct)
    while (( BUSY >= QUIET_BUSY && SECONDS - started < QUIET_WAIT )); do
        note "the CPUs are ${BUSY}% busy with other work; waiting (up to ${QUIET_WAIT}s) for a quieter machine"
        sleep 7
        BUSY=$(cpu_busy_pct)
    done
    QUIET_SPENT=$(( QUIET_SPENT + SECONDS - started ))
}

last_startup_ms() { # the server's own figure from its last ready line
    grep '"pharos is ready"' "$1" | tail -1 | jq -r '.startup_ms // empty' 2>/dev/null || true
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "NaN"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------------------------------------- API helpers
api() { # METHOD PATH [curl args...] -> body on stdout; fails on a non-2xx answer
    local method=$1 path=$2; shift 2
    curl -sS --fail-with-body --max-time 30 -X "$method" "http://127.0.0.1:$PORT$path" "$@"
}

setup_token() {
    local id
    id=$(api POST /api/serviceaccounts -u admin:admin -H 'Content-Type: application/json' \
        -d '{"name":"bench","role":"Admin"}' | jq -er .id) || die "could not create the service account"
    TOKEN=$(api POST "/api/serviceaccounts/$id/tokens" -u admin:admin -H 'Content-Type: application/json' \
        -d '{"name":"bench"}' | jq -er .key) || die "could not create a token"
}

small_dashboard() { # N -> the create request of small dashboard N, as compact JSON without backslashes
    local n; n=$(printf '%04d' "$1")
    printf '{"dashboard":{"uid":"bench-%s","title":"bench-%s","tags":["bench","group-%d"],"timezone":"browser","editable":true,"schemaVersion":39,"refresh":"30s","time":{"from":"now-6h","to":"now"},"templating":{"list":[{"name":"instance","type":"query","datasource":{"type":"prometheus","uid":"prom"},"query":"label_values(up, instance)","refresh":1}]},"panels":[{"id":1,"type":"timeseries","title":"CPU","gridPos":{"h":8,"w":12,"x":0,"y":0},"datasource":{"type":"prometheus","uid":"prom"},"targets":[{"refId":"A","expr":"sum by (mode) (rate(node_cpu_seconds_total[5m]))"}],"fieldConfig":{"defaults":{"unit":"percentunit"},"overrides":[]},"options":{"legend":{"showLegend":true}}},{"id":2,"type":"stat","title":"Memory","gridPos":{"h":8,"w":12,"x":12,"y":0},"datasource":{"type":"prometheus","uid":"prom"},"targets":[{"refId":"A","expr":"node_memory_MemAvailable_bytes"}],"fieldConfig":{"defaults":{"unit":"bytes"},"overrides":[]},"options":{"reduceOptions":{"calcs":["lastNotNull"]}}}]},"overwrite":true,"message":"bench seed"}' \
        "$n" "$n" $(( $1 % 10 ))
}

seed() {
    local cfg=$TMP/seed.curl codes ok i
    : >"$cfg"
    for (( i = 0; i < SEED; i++ )); do
        {
            (( i > 0 )) && echo next
            echo "url = \"http://127.0.0.1:$PORT/api/dashboards/db\""
            echo "header = \"Authorization: Bearer $TOKEN\""
            echo 'header = "Content-Type: application/json"'
            echo "data = \"$(small_dashboard "$i" | sed 's/"/\\"/g')\""
            echo 'output = "/dev/null"'
            echo 'write-out = "%{http_code}\n"'
            echo 'max-time = 30'
        } >>"$cfg"
    done
    codes=$(curl -sS --parallel --parallel-max 4 -K "$cfg") || true
    ok=$(grep -c '^200$' <<<"$codes" || true)
    (( ok == SEED )) || die "seeding: $ok of $SEED dashboards created (codes: $(sort <<<"$codes" | uniq -c | tr '\n' ' '))"
    # The export as it is (pretty-printed, ~470 KB; its "id" is null and its uid is kept). Pharos keeps every
    # field but stores the JSON compact, so the GET answers ~225 KB.
    { printf '{"dashboard":'; cat "$FIXTURE"; printf ',"overwrite":true,"message":"bench seed"}'; } >"$TMP/large.json"
    LARGE_UID=$(api POST /api/dashboards/db -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary @"$TMP/large.json" | jq -er .uid) || die "could not create the large dashboard"
}

# ---------------------------------------------------------------------------------------------- load
# Routes measured, in the order they run within a round. "auth" ones carry the bearer token.
#   name|auth|path
route_table() {
    cat <<EOF
/livez (baseline)|no|/livez
/api/health|no|/api/health
/api/dashboards/home|yes|/api/dashboards/home
GET dashboard small|yes|/api/dashboards/uid/bench-0000
GET dashboard node-exporter-full|yes|/api/dashboards/uid/$LARGE_UID
GET dashboard node-exporter-full, gzip|gzip|/api/dashboards/uid/$LARGE_UID
/api/search (no query)|yes|/api/search
/api/search (no query), gzip|gzip|/api/search
/api/search?query=$SEARCH_QUERY|yes|/api/search?query=$SEARCH_QUERY
EOF
}

check_route() { # AUTH PATH -> prints "bytes hits" after checking a 200
    local auth=$1 path=$2 args=() body
    [[ $auth != no ]] && args=(-H "Authorization: Bearer $TOKEN")
    [[ $auth == gzip ]] && args+=(--compressed)
    api GET "$path" "${args[@]}" -o "$TMP/check.json" || die "GET $path did not answer 2xx"
    body=$(wc -c <"$TMP/check.json")
    if [[ $path == /api/search* ]]; then
        echo "$body $(jq length "$TMP/check.json")"
    else
        echo "$body -"
    fi
}

# The PostgreSQL backends serving the scratch database (empty for SQLite), to charge their CPU to the run.
db_backend_pids() {
    [[ -n ${CURRENT_DB:-} ]] || return 0
    timeout 10 psql "$PG_ADMIN_URL/postgres" -Atqc \
        "SELECT pid FROM pg_stat_activity WHERE datname = '$CURRENT_DB' AND backend_type = 'client backend'" || true
}

run_wrk() { # AUTH PATH SECONDS -> "rps p50_us p99_us errors pharos_cpu_us_per_req db_cpu_us_per_req"
    local auth=$1 path=$2 secs=$3 args=() out line pg_pids c0 c1 d0 d1
    [[ $auth != no ]] && args=(-H "Authorization: Bearer $TOKEN")
    # "gzip" rows ask for a compressed answer, as browsers and python-requests do by default.
    [[ $auth == gzip ]] && args+=(-H "Accept-Encoding: gzip")
    check_deadline
    # When wrk stops, requests in flight are cancelled and the pool closes the database connections they
    # held, so the PostgreSQL backends are read a little before the end, over a known part of the run.
    mapfile -t pg_pids < <(db_backend_pids)
    local d_window; d_window=$(awk -v s="$secs" 'BEGIN { print (s > 1) ? s - 0.5 : s / 2 }')
    c0=$(cpu_ticks "$PID"); d0=$(cpu_ticks "${pg_pids[@]}")
    ( sleep "$d_window"; cpu_ticks "${pg_pids[@]}" >"$TMP/db_ticks" ) &
    local sampler=$!
    out=$(timeout -k 5 $(( secs + 60 )) wrk -c "$CONNECTIONS" -t "$THREADS" -d "${secs}s" --latency \
        -s "$BENCH_DIR/report.lua" "${args[@]}" "http://127.0.0.1:$PORT$path") || die "wrk failed on $path"
    c1=$(cpu_ticks "$PID")
    wait "$sampler" || true
    d1=$(cat "$TMP/db_ticks" 2>/dev/null || echo "$d0")
    line=$(grep '^BENCH ' <<<"$out" | tail -1)
    [[ -n $line ]] || die "no report from wrk on $path"
    awk -v c=$(( c1 - c0 )) -v d=$(( d1 - d0 )) -v w="$d_window" -v hz="$CLK_TCK" '{
        n = ($2 > 0) ? $2 : 1; rps = $2 / ($3 / 1e6)
        printf "%.1f %d %d %d %.1f %.1f\n", rps, $5, $6, $7 + $8 + $9 + $10 + $11,
            c * 1e6 / hz / n, (rps > 0) ? d * 1e6 / hz / (rps * w) : 0 }' <<<"$line"
}

RESULTS=$TMP/results   # backend|route|round|rps|p50_us|p99_us|errors|pharos_cpu_us|db_cpu_us
INFO=$TMP/info         # backend|key|value
: >"$RESULTS"; : >"$INFO"

bench_backend() {
    local backend=$1 url log name auth path round r
    log=$TMP/$backend.log
    CURRENT_DB=
    case $backend in
        sqlite) mkdir -p "$TMP/sqlite"; url="sqlite://$TMP/sqlite/pharos.db" ;;
        postgres)
            local db="pharos_bench_$$_$RANDOM"
            timeout 20 psql "$PG_ADMIN_URL/postgres" -Atqc "CREATE DATABASE \"$db\"" >/dev/null ||
                die "could not create database $db"
            PG_DBS+=("$db")
            CURRENT_DB=$db
            url="$PG_ADMIN_URL/$db" ;;
        *) die "unknown backend $backend" ;;
    esac
    wait_quiet
    note "$backend: starting pharos on an empty database"
    start_server "$url" "$log"
    local pid=$PID
    echo "$backend|first_ready_ms|$READY_MS" >>"$INFO"
    echo "$backend|startup_ms_logged|$(last_startup_ms "$log")" >>"$INFO"
    sleep "$IDLE_WAIT"
    echo "$backend|rss_idle_kib|$(rss_kib "$pid")" >>"$INFO"
    echo "$backend|commit|$(api GET /api/health | jq -r .commit)" >>"$INFO"

    note "$backend: seeding $SEED small dashboards and node-exporter-full through the API"
    local t0=$SECONDS
    setup_token
    seed
    echo "$backend|seed_s|$(( SECONDS - t0 ))" >>"$INFO"
    sleep 1
    echo "$backend|rss_before_load_kib|$(rss_kib "$pid")" >>"$INFO"

    while IFS='|' read -r name auth path; do
        r=$(check_route "$auth" "$path")
        read -r bytes hits <<<"$r"
        echo "$backend|bytes:$name|$bytes" >>"$INFO"
        echo "$backend|hits:$name|$hits" >>"$INFO"
        if (( WARMUP_S > 0 )); then
            note "$backend: warm-up $name"
            run_wrk "$auth" "$path" "$WARMUP_S" >/dev/null
        fi
    done < <(route_table)

    wait_quiet
    echo "$backend|busy_before|$BUSY" >>"$INFO"
    for (( round = 1; round <= ROUNDS; round++ )); do
        while IFS='|' read -r name auth path; do
            note "$backend: round $round/$ROUNDS $name"
            r=$(run_wrk "$auth" "$path" "$DURATION_S")
            echo "$backend|$name|$round|${r// /|}" >>"$RESULTS"
        done < <(route_table)
    done

    sleep 2
    echo "$backend|rss_after_load_kib|$(rss_kib "$pid")" >>"$INFO"
    echo "$backend|rss_peak_kib|$(rss_kib "$pid" VmHWM)" >>"$INFO"
    echo "$backend|log_lines|$(wc -l <"$log")" >>"$INFO"
    stop_server "$pid"
}

# ---------------------------------------------------------------------------------------------- start-up
bench_startup() {
    local url="sqlite://$TMP/startup/pharos.db" log=$TMP/startup.log i
    mkdir -p "$TMP/startup"
    wait_quiet
    STARTUP_BUSY=$BUSY
    note "sqlite: start-to-ready, first start on an empty database, then $STARTS restarts"
    start_server "$url" "$log"
    STARTUP_FIRST=$READY_MS
    STARTUP_FIRST_LOGGED=$(last_startup_ms "$log")
    stop_server "$PID"
    : >"$TMP/startup.ms"; : >"$TMP/startup.logged"
    for (( i = 0; i < STARTS; i++ )); do
        start_server "$url" "$log"
        echo "$READY_MS" >>"$TMP/startup.ms"
        last_startup_ms "$log" >>"$TMP/startup.logged"
        stop_server "$PID"
    done
}

# ---------------------------------------------------------------------------------------------- run
bench_startup
for backend in $BACKENDS; do bench_backend "$backend"; done

# ---------------------------------------------------------------------------------------------- report
info() { awk -F'|' -v b="$1" -v k="$2" '$1 == b && $2 == k { v = $3 } END { print v }' "$INFO"; }
ms() { awk -v u="$1" 'BEGIN { if (u < 1000) printf "%.2f ms", u / 1000; else printf "%.1f ms", u / 1000 }'; }

BACKEND_LIST=$BACKENDS
FIRST_BACKEND=${BACKEND_LIST%% *}
echo
echo "## Pharos API benchmark"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); pharos commit $(info "$FIRST_BACKEND" commit); binary $BIN"
echo "- machine: $(nproc) CPUs ($(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
echo "- wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }') on the same machine, sharing the CPUs with pharos (and PostgreSQL): -c $CONNECTIONS -t $THREADS -d $DURATION --latency, warm-up $WARMUP per route, $ROUNDS round(s), routes interleaved"
if [[ " $BACKENDS " == *" postgres "* ]]; then
    echo "- PostgreSQL $(psql "$PG_ADMIN_URL/postgres" -Atqc 'SHOW server_version' 2>/dev/null) on 127.0.0.1; SQLite is the one built into the binary"
fi
echo "- data: $SEED small dashboards (~$(small_dashboard 1 | wc -c) bytes each) + node-exporter-full ($(wc -c <"$FIXTURE") bytes), created through the API; server log level $BENCH_LOG_LEVEL, JSON lines to a file"
echo
echo "- CPU use by other programs just before each backend's runs (3 s, benchmark idle): $(for b in $BACKENDS; do printf '%s %s%%; ' "$b" "$(info "$b" busy_before)"; done)"
echo
echo "Medians over the rounds. \"vs /livez\" is the route's req/s as a share of /livez's req/s on the same backend in"
echo "the same run. \"CPU/req\" is the CPU time (user + system) the pharos process, and for PostgreSQL the"
echo "server backends of its database, spent per answered request during the run."
echo
echo "| route | backend | response | req/s | p50 | p99 | vs /livez | pharos CPU/req | PostgreSQL CPU/req | errors |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
declare -A BASE_RPS
for backend in $BACKENDS; do
    while IFS='|' read -r name auth path; do
        rps=$(awk -F'|' -v b="$backend" -v n="$name" '$1 == b && $2 == n { print $4 }' "$RESULTS" | median)
        p50=$(awk -F'|' -v b="$backend" -v n="$name" '$1 == b && $2 == n { print $5 }' "$RESULTS" | median)
        p99=$(awk -F'|' -v b="$backend" -v n="$name" '$1 == b && $2 == n { print $6 }' "$RESULTS" | median)
        errs=$(awk -F'|' -v b="$backend" -v n="$name" '$1 == b && $2 == n { s += $7 } END { print s + 0 }' "$RESULTS")
        cpu=$(awk -F'|' -v b="$backend" -v n="$name" '$1 == b && $2 == n { print $8 }' "$RESULTS" | median)
        dbcpu=$(awk -F'|' -v b="$backend" -v n="$name" '$1 == b && $2 == n { print $9 }' "$RESULTS" | median)
        cpu=$(awk -v v="$cpu" 'BEGIN { printf "%.0f µs", v }')
        if [[ $backend == postgres ]]; then dbcpu=$(awk -v v="$dbcpu" 'BEGIN { printf "%.0f µs", v }'); else dbcpu=-; fi
        [[ $name == "/livez (baseline)" ]] && BASE_RPS[$backend]=$rps
        bytes=$(info "$backend" "bytes:$name")
        hits=$(info "$backend" "hits:$name")
        size=$(awk -v b="$bytes" 'BEGIN { if (b >= 10240) printf "%.0f KB", b / 1024; else printf "%d B", b }')
        [[ $hits != - && -n $hits ]] && size="$size, $hits hits"
        ratio=$(awk -v r="$rps" -v b="${BASE_RPS[$backend]}" 'BEGIN { printf "%.0f %%", 100 * r / b }')
        echo "$backend|$name|$rps" >>"$TMP/medians"
        printf '| %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$name" "$backend" "$size" "$rps" \
            "$(ms "$p50")" "$(ms "$p99")" "$ratio" "$cpu" "$dbcpu" "$errs"
    done < <(route_table)
done

echo
echo "| memory (VmRSS) | $(for b in $BACKENDS; do printf '%s | ' "$b"; done)"
echo "|---|$(for b in $BACKENDS; do printf -- '---:|'; done)"
for row in "idle, ${IDLE_WAIT}s after ready|rss_idle_kib" "after seeding, before load|rss_before_load_kib" \
           "2s after the load|rss_after_load_kib" "peak (VmHWM)|rss_peak_kib"; do
    printf '| %s | ' "${row%%|*}"
    for b in $BACKENDS; do printf '%s MiB | ' "$(mib "$(info "$b" "${row##*|}")")"; done
    echo
done

STARTUP_MEDIAN=$(median <"$TMP/startup.ms")
echo
echo "Start-to-ready on SQLite (process spawn to the first /readyz 200, polled every ~2 ms; the server's own"
echo "startup_ms from its ready log line in brackets):"
echo
echo "- other programs' CPU use just before: ${STARTUP_BUSY}%"
echo "- first start, empty database (migrations + admin user): $STARTUP_FIRST ms [$STARTUP_FIRST_LOGGED ms]"
echo "- median of $STARTS starts on the migrated database: $STARTUP_MEDIAN ms [$(median <"$TMP/startup.logged") ms]" \
     "(all: $(sort -n "$TMP/startup.ms" | tr '\n' ' ')ms)"
for b in $BACKENDS; do
    echo "- $b load server, first start on an empty database: $(info "$b" first_ready_ms) ms [$(info "$b" startup_ms_logged) ms]; seeding took $(info "$b" seed_s) s"
done

# ---------------------------------------------------------------------------------------------- targets
verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = (dir == "ge") ? v >= t : v <= t; print ok ? "PASS" : "MISS" }'; }
echo
echo "Targets (issue 2):"
echo
for b in $BACKENDS; do
    base=${BASE_RPS[$b]}
    for name in "GET dashboard small" "/api/search (no query)" "/api/search (no query), gzip" "/api/search?query=$SEARCH_QUERY"; do
        rps=$(awk -F'|' -v b="$b" -v n="$name" '$1 == b && $2 == n { print $3 }' "$TMP/medians")
        pct=$(awk -v r="$rps" -v b="$base" 'BEGIN { printf "%.0f", 100 * r / b }')
        echo "- $(verdict "$pct" 50 ge) $b: $name at $pct % of /livez (target >= 50 %)"
    done
    idle=$(info "$b" rss_idle_kib)
    echo "- $(verdict "$idle" $(( 30 * 1024 )) le) $b: idle RSS after start $(mib "$idle") MiB (target <= 30 MiB)"
done
echo "- $(verdict "$STARTUP_MEDIAN" 300 le) sqlite: start-to-ready $STARTUP_MEDIAN ms median (target <= 300 ms); first start on an empty database $STARTUP_FIRST ms"
note "total time ${SECONDS}s"
