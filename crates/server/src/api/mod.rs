//! The HTTP API: one router tree. Each resource module exposes `router()`; this module merges them,
//! so every route and (through its handler's extractor) its guard can be read in one place.

mod dashboards;
mod datasources;
mod folders;
mod frontend;
mod health;
mod orgs;
mod query;
mod search;
mod service_accounts;
mod users;

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::session;
use crate::error::ApiError;
use crate::state::AppState;
use crate::telemetry;

pub fn router(state: AppState) -> Router {
    let body_limit = usize::try_from(state.config.raw.server.max_body_bytes).unwrap_or(usize::MAX);
    Router::new()
        .merge(health::router())
        .merge(dashboards::router())
        .merge(datasources::router())
        .merge(query::router())
        .merge(folders::router())
        .merge(frontend::router())
        .merge(search::router())
        .merge(users::router())
        .merge(orgs::router())
        .merge(service_accounts::router())
        .route("/login", post(session::login))
        .route("/logout", get(session::logout))
        .route("/metrics", get(telemetry::metrics_handler))
        .route("/", get(landing_page))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::middleware::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::cache::invalidate_after_writes,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(telemetry::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            telemetry::observe_requests,
        ))
        .with_state(state)
}

async fn fallback(method: Method, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") || uri.path() == "/api" || method != Method::GET {
        ApiError::not_found("Not found").into_response()
    } else {
        // The web UI arrives with its own issue; until then the server answers API clients only.
        (StatusCode::NOT_FOUND, axum::response::Html(LANDING)).into_response()
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}

async fn landing_page() -> axum::response::Html<&'static str> {
    axum::response::Html(LANDING)
}

const LANDING: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Pharos</title></head>\
<body><h1>Pharos</h1><p>The Grafana-compatible HTTP API is served here (see <code>/api/health</code>). \
The web UI is not built yet.</p></body></html>";

/// RFC 3339 in UTC, as Grafana's API writes times.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// Prefixes a path with the sub-path of `root_url` (Pharos served under `/grafana/`, say).
pub fn app_url(state: &AppState, path: &str) -> String {
    let base = state.config.root_url.path().trim_end_matches('/');
    format!("{base}{path}")
}

/// `?query=&page=&perpage=` of Grafana's paged user and service-account listings.
#[derive(serde::Deserialize)]
pub struct PagedSearch {
    pub query: Option<String>,
    pub page: Option<i64>,
    pub perpage: Option<i64>,
}

/// `?page=&perpage=` (and `limit`) as Grafana reads them: 1-based page, bounded page size.
pub fn paging(page: Option<i64>, per_page: Option<i64>, default: i64, max: i64) -> (i64, i64, i64) {
    let per_page = per_page.filter(|p| *p > 0).unwrap_or(default).min(max);
    let page = page.filter(|p| *p > 0).unwrap_or(1);
    (page, per_page, (page - 1).saturating_mul(per_page))
}
