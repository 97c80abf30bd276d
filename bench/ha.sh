#!/usr/bin/env bash
# Requests/s through HAProxy (deploy/haproxy/haproxy.cfg) with 3 replicas and with 1, the cost of the
# balancer, the time from kill -9 to HAProxy taking the replica out (under load and idle), and the
# errors wrk saw in each phase. Starts its own PostgreSQL, replicas and HAProxy on loopback (release
# build). Needs haproxy, wrk and the PostgreSQL server binaries (scripts/install-deps).
#
#   bench/ha.sh
#   BENCH_SECONDS=5 BENCH_KILLS=1 bench/ha.sh      # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p pharos-server --bench ha_haproxy
