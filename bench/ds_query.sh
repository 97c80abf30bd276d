#!/usr/bin/env bash
# Latency /api/ds/query adds over a direct Prometheus query_range (10 series x 1,000 points), and
# the frame encoding throughput for 100 series x 10,000 points. Needs prometheus and
# prometheus-node-exporter (scripts/install-deps installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p pharos-server --bench ds_query
cargo bench -p pharos-datasource --bench frames
