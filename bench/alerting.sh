#!/usr/bin/env bash
# How many alert rules (each one PromQL query over 10 series, 10 s interval) one replica evaluates
# on time, and the evaluation lag at that load: steps of 100 to 10,000 rules, 30 s measured each,
# until a step falls behind (<99% on time or lag p99 >= 10 s). Starts its own exporter of 10
# series, a Prometheus scraping it, and one Pharos (release build) on a fresh database of the
# PostgreSQL server at PHAROS_TEST_POSTGRES_URL (default: the local one).
# Needs prometheus and psql (scripts/install-deps). Method and results: docs/benchmarks.md.
#
#   bench/alerting.sh
#   PHAROS_BENCH_ALERTING_STEPS=100,1000 bench/alerting.sh     # chosen steps only
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pharos-server --bin pharos
cargo bench -p pharos-server --bench alerting
