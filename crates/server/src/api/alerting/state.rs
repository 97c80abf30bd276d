//! Read-only alert state: Grafana's Prometheus-style rule list with each rule's state and alerts
//! (`GET /api/prometheus/grafana/api/v1/rules`) and the state history
//! (`GET /api/v1/rules/history`), both from what the scheduler persists (instances and
//! transitions).
//!
//! Simplified against Grafana: evaluation duration is not persisted, so `evaluationTime` is 0 and
//! `lastEvaluation` is the newest instance's; a rule with no instance yet is `inactive` with health
//! `unknown`; `lastError` is the first error an instance carries; Alerting, NoData and Error
//! instances all make a rule `firing` (they all notify). The history answers one data frame like
//! Grafana's (fields `time`, `line`, `labels`), oldest first within the newest `limit`.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use pharos_alerting::duration::parse_duration;
use pharos_alerting::model::AlertRule;
use pharos_store::{AlertInstance, AlertStateHistoryQuery};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::rfc3339;
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What Grafana writes for a time that never happened (Go's zero time).
const NEVER: &str = "0001-01-01T00:00:00Z";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/prometheus/grafana/api/v1/rules", get(rules))
        .route("/api/v1/rules/history", get(history))
}

#[derive(Deserialize)]
struct RulesQuery {
    folder_uid: Option<String>,
    rule_group: Option<String>,
    rule_uid: Option<String>,
}

/// One alert of a rule in Grafana's shape, from a stored instance.
fn alert_json(instance: &AlertInstance) -> (Value, Option<String>, i64) {
    let data: Value = serde_json::from_str(&instance.data).unwrap_or(Value::Null);
    let labels: Value = serde_json::from_str(&instance.labels).unwrap_or(json!({}));
    let since = data["since"].as_i64();
    let value = data["value"].as_f64().map(go_exponent).unwrap_or_default();
    let error = data["error"].as_str().map(str::to_string);
    let last = data["lastEvaluatedAt"]
        .as_i64()
        .unwrap_or(instance.updated_at);
    let active = instance.state != "Normal";
    let alert = json!({
        "labels": labels,
        "annotations": data.get("annotations").cloned().unwrap_or(json!({})),
        "state": instance.state,
        "activeAt": match since { Some(ms) if active => rfc3339(ms), _ => NEVER.to_string() },
        "value": value,
    });
    (alert, error, last)
}

/// A number as Go's `strconv.FormatFloat(v, 'e', -1, 64)` writes it, as Prometheus' API
/// answers alert values: `5e+00`, `1.5e-03`.
fn go_exponent(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let text = format!("{v:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

/// `GET /api/prometheus/grafana/api/v1/rules` (`folder_uid`, `rule_group`, `rule_uid` filter).
async fn rules(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Query(q): Query<RulesQuery>,
) -> ApiResult<Json<Value>> {
    let groups = state
        .store
        .alert_rule_groups(Some(who.org_id))
        .await
        .map_err(|e| ApiError::from_store(e, "Rule group"))?;
    let mut instances: BTreeMap<String, Vec<AlertInstance>> = BTreeMap::new();
    for i in state
        .store
        .alert_instances_of_org(who.org_id)
        .await
        .map_err(|e| ApiError::from_store(e, "Alert instance"))?
    {
        instances.entry(i.rule_uid.clone()).or_default().push(i);
    }
    let mut folder_titles: BTreeMap<String, String> = BTreeMap::new();
    let mut totals: BTreeMap<&'static str, i64> = BTreeMap::new();
    let mut out = Vec::new();
    for group in &groups {
        if q.folder_uid
            .as_ref()
            .is_some_and(|f| *f != group.folder_uid)
            || q.rule_group.as_ref().is_some_and(|g| *g != group.name)
        {
            continue;
        }
        if !folder_titles.contains_key(&group.folder_uid) {
            let title = state
                .store
                .folder_by_uid(who.org_id, &group.folder_uid)
                .await
                .map(|f| f.title)
                .unwrap_or_default();
            folder_titles.insert(group.folder_uid.clone(), title);
        }
        let mut group_totals: BTreeMap<String, i64> = BTreeMap::new();
        let mut group_last = 0;
        let mut rules = Vec::new();
        for stored in &group.rules {
            if q.rule_uid.as_ref().is_some_and(|u| *u != stored.uid) {
                continue;
            }
            let rule: Option<AlertRule> = serde_json::from_str(&stored.data).ok();
            let mut alerts = Vec::new();
            let mut rule_totals: BTreeMap<String, i64> = BTreeMap::new();
            let (mut last, mut last_error) = (0, None::<String>);
            let (mut firing, mut pending, mut health) = (false, false, "ok");
            let mine = instances.get(&stored.uid).map(Vec::as_slice).unwrap_or(&[]);
            for instance in mine {
                let (alert, error, evaluated) = alert_json(instance);
                last = last.max(evaluated);
                if last_error.is_none() {
                    last_error = error;
                }
                match instance.state.as_str() {
                    "Alerting" => firing = true,
                    "Pending" => pending = true,
                    "NoData" => {
                        firing = true;
                        if health == "ok" {
                            health = "nodata";
                        }
                    }
                    "Error" => {
                        firing = true;
                        health = "error";
                    }
                    _ => {}
                }
                *rule_totals
                    .entry(instance.state.to_ascii_lowercase())
                    .or_default() += 1;
                alerts.push(alert);
            }
            if mine.is_empty() {
                health = "unknown";
            }
            let rule_state = if firing {
                "firing"
            } else if pending {
                "pending"
            } else {
                "inactive"
            };
            *totals.entry(rule_state).or_default() += 1;
            *group_totals.entry(rule_state.to_string()).or_default() += 1;
            group_last = group_last.max(last);
            let duration = rule
                .as_ref()
                .and_then(|r| parse_duration(&r.for_duration))
                .map_or(0, |d| d.as_secs());
            rules.push(json!({
                "state": rule_state,
                "name": stored.title,
                "uid": stored.uid,
                "folderUid": stored.folder_uid,
                "query": rule.as_ref().map(|r| serde_json::to_string(&r.data).unwrap_or_default()).unwrap_or_default(),
                "duration": duration,
                "labels": rule.as_ref().map(|r| json!(r.labels)).unwrap_or(json!({})),
                "annotations": rule.as_ref().map(|r| json!(r.annotations)).unwrap_or(json!({})),
                "alerts": alerts,
                "totals": rule_totals,
                "health": health,
                "lastError": last_error.unwrap_or_default(),
                "type": "alerting",
                "isPaused": rule.as_ref().is_some_and(|r| r.is_paused),
                "lastEvaluation": if last > 0 { rfc3339(last) } else { NEVER.to_string() },
                "evaluationTime": 0,
            }));
        }
        if rules.is_empty() {
            continue;
        }
        out.push(json!({
            "name": group.name,
            "file": folder_titles.get(&group.folder_uid).cloned().unwrap_or_default(),
            "folderUid": group.folder_uid,
            "rules": rules,
            "totals": group_totals,
            "interval": group.interval_seconds,
            "lastEvaluation": if group_last > 0 { rfc3339(group_last) } else { NEVER.to_string() },
            "evaluationTime": 0,
        }));
    }
    Ok(Json(json!({
        "status": "success",
        "data": {"groups": out, "totals": totals},
    })))
}

#[derive(Deserialize)]
struct HistoryQuery {
    #[serde(rename = "ruleUID")]
    rule_uid: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
}

/// A time bound: epoch seconds (Grafana's unit here) or epoch milliseconds (a number past
/// 10^11, which as seconds would be the year 5138).
fn time_bound(name: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let n: i64 = raw.parse().map_err(|_| {
        ApiError::bad_request(format!("{name} must be epoch seconds or milliseconds"))
    })?;
    Ok(Some(if n.abs() < 100_000_000_000 {
        n.saturating_mul(1000)
    } else {
        n
    }))
}

/// `GET /api/v1/rules/history?ruleUID=&from=&to=&limit=`: transitions as one data frame.
async fn history(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    let limit = match q.limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => 1000,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=5000).contains(n))
            .ok_or_else(|| ApiError::bad_request("limit must be between 1 and 5000"))?,
    };
    let query = AlertStateHistoryQuery {
        rule_uid: q.rule_uid.filter(|u| !u.is_empty()),
        fingerprint: None,
        from: time_bound("from", q.from.as_deref())?,
        to: time_bound("to", q.to.as_deref())?,
        limit,
    };
    let mut rows = state
        .store
        .alert_state_history(who.org_id, &query)
        .await
        .map_err(|e| ApiError::from_store(e, "State history"))?;
    rows.reverse();
    let (mut times, mut lines, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for t in &rows {
        let own_labels: Value = serde_json::from_str(&t.labels).unwrap_or(json!({}));
        let values: Value = serde_json::from_str(&t.values).unwrap_or(json!({}));
        times.push(json!(t.at));
        lines.push(json!({
            "schemaVersion": 1,
            "previous": t.from_state,
            "current": t.to_state,
            "values": values,
            "ruleUID": t.rule_uid,
            "fingerprint": t.fingerprint,
            "labels": own_labels,
        }));
        let mut stream = Map::new();
        stream.insert("ruleUID".into(), json!(t.rule_uid));
        stream.insert("orgID".into(), json!(t.org_id));
        labels.push(Value::Object(stream));
    }
    Ok(Json(json!({
        "schema": {"fields": [
            {"name": "time", "type": "time", "typeInfo": {"frame": "time.Time"}},
            {"name": "line", "type": "other", "typeInfo": {"frame": "json.RawMessage"}},
            {"name": "labels", "type": "other", "typeInfo": {"frame": "json.RawMessage"}},
        ]},
        "data": {"values": [times, lines, labels]},
    })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_are_written_as_go_writes_them() {
        assert_eq!(super::go_exponent(5.0), "5e+00");
        assert_eq!(super::go_exponent(0.0015), "1.5e-03");
        assert_eq!(super::go_exponent(-120.0), "-1.2e+02");
        assert_eq!(super::go_exponent(1e300), "1e+300");
        assert_eq!(super::go_exponent(f64::NAN), "NaN");
    }
}
