#!/usr/bin/env bash
# Validates the deploy kit offline: deploy/kubernetes (kubernetes-validate), deploy/haproxy (haproxy -c
# and a short run against stand-in replicas), deploy/keepalived (keepalived --config-test),
# deploy/prometheus (promtool check config / check rules / test rules), deploy/dashboards,
# deploy/compose and the Dockerfile (parsed and cross-checked: same haproxy.cfg, same probes). One
# line per check, then "deploy checks: N passed, M failed"; exit status 1 if any failed.
#
# Needs haproxy, keepalived, promtool (Debian's prometheus) and python3-venv, which
# scripts/install-deps installs. The PyPI packages of requirements.txt go into a virtualenv.
#
# Environment:
#   PHAROS_BIN               the binary that loads the ConfigMap's pharos.toml (`pharos migrate`) and
#                            serves the compose provisioning files, on scratch SQLite files
#                            (default target/debug/pharos; not built here)
#   PHAROS_DEPLOY_TEST_VENV  the virtualenv (default: target/deploy-test-venv)
#   PYTHON                   the interpreter that makes it (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${PHAROS_DEPLOY_TEST_VENV:-$root/target/deploy-test-venv}"
python="${PYTHON:-python3}"

say() { printf '[deploy] %s\n' "$*"; }

# The virtualenv: made once, remade when requirements.txt or the interpreter changes.
# shellcheck source=../../scripts/lib/venv.sh
source "$root/scripts/lib/venv.sh"
ensure_venv "$venv" "$python" "$here/requirements.txt"

export PHAROS_BIN="${PHAROS_BIN:-$root/target/debug/pharos}"
exec "$venv/bin/python" "$here/check.py" --root "$root" --kubernetes-validate "$venv/bin/kubernetes-validate"
