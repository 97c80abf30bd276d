//! Grafana's alerting HTTP API: the provisioning API (`/api/v1/provisioning/...`: alert rules and
//! rule groups, contact points, the notification policy tree), the Grafana Alertmanager's silence
//! and receiver-test routes (`/api/alertmanager/grafana/...`), and read-only state: the
//! Prometheus-style rule list with each rule's alerts (`/api/prometheus/grafana/api/v1/rules`)
//! and the state history (`/api/v1/rules/history`).
//!
//! Handlers stay thin: they check input with `pharos_alerting`'s validation (the same code the
//! scheduler runs), look up what the input refers to (folders, datasources, contact points), and
//! make one store call. Reads need Viewer, writes Editor (Grafana's `alert.rules:write`,
//! `alert.notifications:write`, `alert.silences:create`).

mod annotations;
mod contact_points;
mod eval;
mod policies;
mod rules;
mod silences;
mod state;

pub use contact_points::SECURE_PLACEHOLDER;
pub use policies::default_policy_tree;
pub use rules::{import_rule, Imported};

use axum::http::HeaderMap;
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(rules::router())
        .merge(contact_points::router())
        .merge(policies::router())
        .merge(silences::router())
        .merge(state::router())
        .merge(eval::router())
        .merge(annotations::router())
}

/// The header that saves a resource without provenance (editable in the UI), as in Grafana.
const DISABLE_PROVENANCE: &str = "x-disable-provenance";

/// The provenance a provisioning write records: `api`, or none when the request carries
/// `X-Disable-Provenance` (any value, as Grafana checks only that the header is present).
fn provenance(headers: &HeaderMap) -> String {
    if headers.contains_key(DISABLE_PROVENANCE) {
        String::new()
    } else {
        "api".to_string()
    }
}

/// Epoch milliseconds now.
fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
