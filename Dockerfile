# syntax=docker/dockerfile:1
# Pharos in a container: the web UI built with Node, the release binary (which embeds the UI) built
# with Rust, and a small Debian runtime running it as a non-root user.
#
#   docker build -t pharos .
#   docker run -p 3000:3000 -v pharos-data:/var/lib/pharos pharos
#
# For several replicas see deploy/compose/compose.yaml and deploy/kubernetes/. tests/deploy/run.sh
# checks this file's structure (stages, user, HEALTHCHECK on /livez); no container engine runs in
# the tests.

# --- 1. the web UI -> /src/web/dist ------------------------------------------------------------------
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# --- 2. the release binary, embedding web/dist ---------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates/ crates/
COPY --from=web /src/web/dist web/dist
# No .git in the build context: /api/health reports commit "unknown".
RUN cargo build --release --locked --bin pharos \
    && install -m 0755 target/release/pharos /usr/local/bin/pharos

# --- 3. runtime --------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: HTTPS datasources. curl: the HEALTHCHECK below (pharos has no probe command).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 pharos \
    && useradd --system --uid 10001 --gid pharos --home-dir /var/lib/pharos --shell /usr/sbin/nologin pharos \
    && mkdir -p /var/lib/pharos /etc/pharos/provisioning \
    && chown pharos:pharos /var/lib/pharos
COPY --from=build /usr/local/bin/pharos /usr/local/bin/pharos

# The working directory holds the default SQLite database (data/pharos.db) for a single node (with
# PostgreSQL, PHAROS_DATABASE_URL, nothing is written here) and the default provisioning folder
# (provisioning/). No PHAROS_* variable is set here on purpose: environment variables override the
# settings file, so any set in the image would silently beat a mounted pharos.toml. The defaults
# already listen on 0.0.0.0:3000; deploy/kubernetes and deploy/compose point paths.provisioning at
# /etc/pharos/provisioning.
WORKDIR /var/lib/pharos
VOLUME ["/var/lib/pharos"]
EXPOSE 3000
USER 10001:10001

# Liveness only (the process answers): readiness (/readyz) is the balancer's business, and a
# database outage must not get every container restarted. Assumes the port above.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["curl", "--fail", "--silent", "--max-time", "2", "--output", "/dev/null", "http://127.0.0.1:3000/livez"]

# SIGTERM starts Pharos' drain: /readyz turns 503, it serves for server.drain_period, then finishes
# requests in flight for up to server.shutdown_timeout. Give `docker stop` longer than both
# (docker stop --time 45; compose.yaml sets stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pharos"]
CMD ["serve"]
