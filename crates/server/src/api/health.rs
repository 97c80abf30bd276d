//! Liveness, readiness and Grafana's `/api/health`. None needs credentials.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;
use crate::telemetry::{reported_version, COMMIT, VERSION};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
}

/// How long a health check waits for the database before calling it failing.
const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Pings the database and records the outcome in `pharos_database_up`.
pub(crate) async fn database_ok(state: &AppState) -> bool {
    let ok = matches!(
        tokio::time::timeout(DB_CHECK_TIMEOUT, state.store.ping()).await,
        Ok(Ok(()))
    );
    state.metrics.database_up.set(i64::from(ok));
    ok
}

/// Checks the database every `interval` for as long as the process runs, so
/// `pharos_database_up` is current even where nothing probes the replica.
pub async fn watch_database(state: AppState, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        database_ok(&state).await;
    }
}

/// `GET /api/health`: Grafana's shape; 503 with `"database": "failing"` when the database is down.
async fn health(State(state): State<AppState>) -> Response {
    let ok = database_ok(&state).await;
    let body = Json(json!({
        "commit": COMMIT,
        "database": if ok { "ok" } else { "failing" },
        "version": reported_version(),
        "pharosVersion": VERSION,
    }));
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body).into_response()
}

/// `GET /livez`: the process is up and serving. It names the replica (its member id), so another
/// replica probing an address can tell a restarted process from the one it looks for.
async fn livez(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "replica": state.cluster.membership.id()}))
}

/// `GET /readyz`: the database answers, every migration is applied and the replica is not draining.
async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_draining() {
        return not_ready("draining");
    }
    if !database_ok(&state).await {
        return not_ready("database unreachable");
    }
    if !state.migrations_ok.load(Ordering::Relaxed) {
        match state.store.migrations_current().await {
            Ok(true) => state.migrations_ok.store(true, Ordering::Relaxed),
            _ => return not_ready("migrations not applied"),
        }
    }
    Json(json!({"status": "ok"})).into_response()
}

fn not_ready(reason: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "not ready", "message": reason})),
    )
        .into_response()
}
