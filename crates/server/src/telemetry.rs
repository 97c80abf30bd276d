//! Logs and metrics: one log line per request (id, route, status, duration), and `/metrics` in the
//! Prometheus text format. Labels are bounded: the route template, never the raw path.

use std::sync::atomic::AtomicI64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use rand::RngCore;
use tracing::Instrument;

use crate::state::AppState;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("PHAROS_COMMIT");
/// The Grafana HTTP API level Pharos answers as, reported in `/api/health` `version` so clients
/// that branch on Grafana's version pick the modern code paths; Pharos' own version follows `-pharos.`.
pub const GRAFANA_API_VERSION: &str = "11.0.0";

pub fn reported_version() -> String {
    format!("{GRAFANA_API_VERSION}-pharos.{VERSION}")
}

/// Starts the global subscriber: text or JSON lines on stderr.
pub fn init_logging(format: &str, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LeaseLabels {
    lease: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The alerting scheduler's metrics (it reports through `SchedulerMetrics`).
pub struct AlertingMetrics {
    evaluations: Counter,
    failures: Counter,
    duration: Histogram,
    instances: Family<StateLabels, Gauge>,
    notifications: Family<OutcomeLabels, Counter>,
}

impl AlertingMetrics {
    /// Registers `pharos_alerting_*` in `registry`.
    pub fn register(registry: &mut Registry) -> AlertingMetrics {
        let m = AlertingMetrics {
            evaluations: Counter::default(),
            failures: Counter::default(),
            duration: Histogram::new([
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            instances: Family::default(),
            notifications: Family::default(),
        };
        registry.register(
            "alerting_evaluations",
            "Alert rule evaluations on this replica (the alerting lease holder)",
            m.evaluations.clone(),
        );
        registry.register(
            "alerting_evaluation_failures",
            "Alert rule evaluations whose query or expression failed",
            m.failures.clone(),
        );
        registry.register_with_unit(
            "alerting_evaluation_duration",
            "Time from a rule's queries starting to its state step",
            prometheus_client::registry::Unit::Seconds,
            m.duration.clone(),
        );
        registry.register(
            "alerting_instances",
            "Alert instances by state, as the lease holder knows them",
            m.instances.clone(),
        );
        registry.register(
            "alerting_notifications",
            "Notification attempts by outcome (delivered, retry, failed: given up)",
            m.notifications.clone(),
        );
        m
    }
}

impl pharos_alerting::scheduler::SchedulerMetrics for AlertingMetrics {
    fn evaluation(&self, duration: std::time::Duration, failed: bool) {
        self.evaluations.inc();
        if failed {
            self.failures.inc();
        }
        self.duration.observe(duration.as_secs_f64());
    }

    fn instances(&self, by_state: &std::collections::BTreeMap<&'static str, u64>) {
        for (state, n) in by_state {
            self.instances
                .get_or_create(&StateLabels { state })
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }

    fn notification(&self, outcome: &'static str) {
        self.notifications
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    commit: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    in_flight: Gauge,
    pool: Family<PoolLabels, Gauge>,
    cluster_members: Gauge,
    lease_holder: Family<LeaseLabels, Gauge>,
    /// 1 when the last database check (a health or readiness probe, or the periodic ping)
    /// succeeded, else 0.
    pub database_up: Gauge,
    /// Changes the change feed brought from the database (any replica's writes).
    pub changes_applied: Counter,
}

impl Metrics {
    /// The server's metrics, added to `registry` (which other parts, such as the query engine,
    /// have already registered theirs in: `/metrics` encodes one registry).
    pub fn new(mut registry: Registry, pool_max: u32) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer HTTP requests, by route template and method",
            prometheus_client::registry::Unit::Seconds,
            durations.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being answered now",
            in_flight.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (idle, in_use)",
            pool.clone(),
        );
        let max: Gauge<i64, AtomicI64> = Gauge::default();
        max.set(i64::from(pool_max));
        registry.register(
            "db_pool_max_connections",
            "Most connections the pool may open",
            max.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: VERSION.into(),
                commit: COMMIT.into(),
            })
            .set(1);
        registry.register(
            "build_info",
            "Always 1; labels say which build is running",
            build,
        );
        let cluster_members = Gauge::default();
        registry.register(
            "cluster_members",
            "Live cluster members (heartbeat within cluster.member_timeout) as this replica sees them",
            cluster_members.clone(),
        );
        let lease_holder = Family::<LeaseLabels, Gauge>::default();
        registry.register(
            "lease_holder",
            "1 while this replica holds the lease, else 0",
            lease_holder.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "1 when this replica's last database check succeeded (health and readiness probes, and a ping every cluster.heartbeat_interval), else 0",
            database_up.clone(),
        );
        let changes_applied = Counter::default();
        registry.register(
            "changes_applied",
            "Changes read from the change feed (writes by any replica) and applied to this replica's caches",
            changes_applied.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            in_flight,
            pool,
            cluster_members,
            lease_holder,
            database_up,
            changes_applied,
        }
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                route: route.to_string(),
                method: method.to_string(),
            })
            .observe(seconds);
    }

    fn encode(&self, pool_size: u32, pool_idle: usize) -> String {
        let idle = pool_idle as i64;
        self.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        self.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(i64::from(pool_size) - idle);
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// `GET /metrics`.
pub async fn metrics_handler(State(state): State<AppState>) -> Response {
    let (size, idle) = state.store.pool_stats();
    let cluster = &state.cluster;
    state
        .metrics
        .cluster_members
        .set(cluster.membership.live_members());
    for lease in cluster.leases() {
        state
            .metrics
            .lease_holder
            .get_or_create(&LeaseLabels {
                lease: lease.name().to_string(),
            })
            .set(i64::from(lease.is_held()));
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.encode(size, idle),
    )
        .into_response()
}

fn request_id(req: &Request) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            rand::thread_rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        })
}

/// Outermost middleware: request id, in-flight gauge, metrics and the request's log line.
pub async fn observe_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let span = tracing::info_span!("request", id = %id);
    state.metrics.in_flight.inc();
    let mut response = next.run(req).instrument(span.clone()).await;
    state.metrics.in_flight.dec();
    let status = response.status();
    let seconds = started.elapsed().as_secs_f64();
    state
        .metrics
        .observe(&route, &method, status.as_u16(), seconds);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let ms = seconds * 1000.0;
    if status.is_server_error() {
        tracing::warn!(parent: &span, %method, %route, %path, status = status.as_u16(), ms, "request");
    } else if route != "/metrics" && route != "/livez" && route != "/readyz" {
        tracing::info!(parent: &span, %method, %route, %path, status = status.as_u16(), ms, "request");
    }
    response
}

/// Turns a panic in a handler into a JSON 500 (and a log line) instead of a dropped connection.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    crate::error::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        .into_response()
}
