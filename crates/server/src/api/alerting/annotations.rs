//! `GET /api/annotations`: Grafana's annotation list, for the one kind of annotation Pharos has:
//! alert state changes. A rule is linked to a panel by Grafana's annotations `__dashboardUid__`
//! and `__panelId__`; each transition in its state history is one annotation on that panel
//! (`time` = `timeEnd` = when it happened, `newState`/`prevState`, `text` the instance's labels
//! and the values that decided it).
//!
//! Pharos has no manual (user-drawn) annotations yet, so `type=annotation` answers an empty list;
//! without `type`, or with `type=alert`, the alert annotations are answered.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use pharos_alerting::model::AlertRule;
use pharos_store::AlertStateHistoryQuery;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/annotations", get(list))
}

/// Grafana's linking annotations on a rule.
const DASHBOARD_UID_ANNOTATION: &str = "__dashboardUid__";
const PANEL_ID_ANNOTATION: &str = "__panelId__";

/// Grafana's default and Pharos' ceiling for `limit`.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 5000;

#[derive(Deserialize)]
struct AnnotationQuery {
    from: Option<String>,
    to: Option<String>,
    #[serde(rename = "dashboardUID")]
    dashboard_uid: Option<String>,
    #[serde(rename = "panelId")]
    panel_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    limit: Option<String>,
}

fn integer(name: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => r
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("{name} must be an integer, got {r:?}"))),
    }
}

/// A rule's link to a panel, from its annotations.
struct Link {
    dashboard_uid: String,
    panel_id: Option<i64>,
}

fn link(rule: &AlertRule) -> Link {
    Link {
        dashboard_uid: rule
            .annotations
            .get(DASHBOARD_UID_ANNOTATION)
            .cloned()
            .unwrap_or_default(),
        panel_id: rule
            .annotations
            .get(PANEL_ID_ANNOTATION)
            .and_then(|p| p.trim().parse().ok()),
    }
}

/// `GET /api/annotations?from=&to=&dashboardUID=&panelId=&type=alert&limit=`, newest first.
async fn list(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Query(q): Query<AnnotationQuery>,
) -> ApiResult<Json<Value>> {
    let from = integer("from", q.from.as_deref())?;
    let to = integer("to", q.to.as_deref())?;
    let panel_id = integer("panelId", q.panel_id.as_deref())?;
    let limit = match integer("limit", q.limit.as_deref())? {
        None => DEFAULT_LIMIT,
        Some(l) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )))
        }
    };
    match q.kind.as_deref().map(str::trim) {
        None | Some("") | Some("alert") => {}
        // Manual annotations: Pharos has none yet.
        Some("annotation") => return Ok(Json(json!([]))),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "type must be alert or annotation, got {other:?}"
            )))
        }
    }
    let dashboard_uid = q.dashboard_uid.filter(|d| !d.trim().is_empty());

    let rules = state
        .store
        .alert_rules(who.org_id, None, None)
        .await
        .map_err(|e| ApiError::from_store(e, "Alert rule"))?;
    let mut annotations: Vec<(i64, i64, Value)> = Vec::new();
    for stored in &rules {
        let Ok(rule) = serde_json::from_str::<AlertRule>(&stored.data) else {
            continue;
        };
        let link = link(&rule);
        if dashboard_uid
            .as_ref()
            .is_some_and(|d| *d != link.dashboard_uid)
            || panel_id.is_some_and(|p| Some(p) != link.panel_id)
        {
            continue;
        }
        let history = state
            .store
            .alert_state_history(
                who.org_id,
                &AlertStateHistoryQuery {
                    rule_uid: Some(stored.uid.clone()),
                    fingerprint: None,
                    from,
                    to,
                    limit,
                },
            )
            .await
            .map_err(|e| ApiError::from_store(e, "State history"))?;
        for t in history {
            let labels: BTreeMap<String, String> =
                serde_json::from_str(&t.labels).unwrap_or_default();
            let values: Value = serde_json::from_str(&t.values).unwrap_or(json!({}));
            let annotation = json!({
                "id": t.id,
                "alertId": 0,
                "alertName": stored.title,
                "dashboardUID": link.dashboard_uid,
                "panelId": link.panel_id.unwrap_or(0),
                "time": t.at,
                "timeEnd": t.at,
                "newState": t.to_state,
                "prevState": t.from_state,
                "text": text(&labels, &values),
                "tags": [],
                "data": {
                    "ruleUID": stored.uid,
                    "fingerprint": t.fingerprint,
                    "labels": labels,
                    "values": values,
                },
            });
            annotations.push((t.at, t.id, annotation));
        }
    }
    annotations.sort_by_key(|a| std::cmp::Reverse((a.0, a.1)));
    annotations.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Json(Value::Array(
        annotations.into_iter().map(|(_, _, a)| a).collect(),
    )))
}

/// Grafana's text of an alert annotation: the instance's labels, then the values that decided
/// the change (`{alertname=CPU, host=a} - B=5, C=1`).
fn text(labels: &BTreeMap<String, String>, values: &Value) -> String {
    let labels = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let values = match values {
        Value::Object(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    if values.is_empty() {
        format!("{{{labels}}}")
    } else {
        format!("{{{labels}}} - {values}")
    }
}
