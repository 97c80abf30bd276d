//! The HTTP API: one router tree. Each resource module exposes `router()`; this module merges them,
//! so every route and (through its handler's extractor) its guard can be read in one place.

pub mod alerting;
mod backup;
mod cluster;
mod compat;
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

pub use health::watch_database;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::session;
use crate::error::ApiError;
use crate::state::AppState;
use crate::telemetry;
use crate::web;

pub fn router(state: AppState) -> Router {
    let body_limit = usize::try_from(state.config.raw.server.max_body_bytes).unwrap_or(usize::MAX);
    let web_dir = &state.config.raw.server.web_dir;
    let web = crate::web::WebUi::new((!web_dir.is_empty()).then(|| web_dir.into()));
    Router::new()
        .merge(health::router())
        .merge(cluster::router())
        .merge(backup::router())
        .merge(alerting::router())
        .merge(dashboards::router())
        .merge(datasources::router())
        .merge(query::router())
        .merge(folders::router())
        .merge(frontend::router())
        .merge(search::router())
        .merge(users::router())
        .merge(orgs::router())
        .merge(service_accounts::router())
        .merge(compat::router())
        // GET /login is the web UI's login page; POST /login is the API.
        .route("/login", get(web::page).post(session::login))
        .route("/logout", get(session::logout))
        .route("/metrics", get(telemetry::metrics_handler))
        .route("/", get(web::page))
        .route("/assets/{*path}", get(web::asset))
        // Unknown API paths answer JSON 404; other GETs are pages of the web UI.
        .fallback(web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(web))
        // Inside authentication: idempotency keys are scoped to the caller.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::deduplicate,
        ))
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

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}

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
