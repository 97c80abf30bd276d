//! Alert rules and rule groups in the JSON shape of Grafana's alerting provisioning API
//! (`/api/v1/provisioning/alert-rules`, `/api/v1/provisioning/folder/{folderUid}/rule-groups/{group}`).
//!
//! These structs only carry the JSON: a rule is checked and turned into something that can run by
//! [`crate::compile::compile_rule`]. Fields Pharos does not interpret yet (`notification_settings`,
//! `record`, `keep_firing_for`, ...) are kept in `extra`, and every query's `model` is kept whole,
//! so a rule read and written back loses nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The datasource uid Grafana gives server-side expressions.
pub const EXPRESSION_DATASOURCE_UID: &str = "__expr__";
/// The older numeric id some exported rules still carry for expressions.
pub const LEGACY_EXPRESSION_DATASOURCE_UID: &str = "-100";

/// One alert rule (`ProvisionedAlertRule`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Empty or absent on create: the server assigns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(rename = "orgID", default)]
    pub org_id: i64,
    #[serde(rename = "folderUID", default)]
    pub folder_uid: String,
    #[serde(default)]
    pub rule_group: String,
    #[serde(default)]
    pub title: String,
    /// The refId whose result decides the state of each instance.
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub data: Vec<AlertQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    #[serde(default)]
    pub no_data_state: NoDataState,
    #[serde(default)]
    pub exec_err_state: ExecErrState,
    /// The pending period, as written (`5m`, `1h30m`, `5m0s`); checked by validation.
    #[serde(rename = "for", default = "zero_duration")]
    pub for_duration: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    #[serde(default)]
    pub is_paused: bool,
    /// Every other field, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn zero_duration() -> String {
    "0s".to_string()
}

/// One entry of a rule's `data`: a datasource query or an expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertQuery {
    pub ref_id: String,
    #[serde(default)]
    pub query_type: String,
    #[serde(default)]
    pub relative_time_range: RelativeTimeRange,
    #[serde(rename = "datasourceUid", default)]
    pub datasource_uid: String,
    /// The query or expression model, kept whole (unknown fields included).
    #[serde(default)]
    pub model: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AlertQuery {
    /// Whether this entry is a server-side expression rather than a datasource query.
    pub fn is_expression(&self) -> bool {
        self.datasource_uid == EXPRESSION_DATASOURCE_UID
            || self.datasource_uid == LEGACY_EXPRESSION_DATASOURCE_UID
    }
}

/// The range a query covers, in seconds before the evaluation time (`from: 600, to: 0` is the
/// last ten minutes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelativeTimeRange {
    #[serde(default)]
    pub from: i64,
    #[serde(default)]
    pub to: i64,
}

/// What an instance becomes when the condition has no data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoDataState {
    #[default]
    NoData,
    Alerting,
    #[serde(rename = "OK")]
    Ok,
    /// Keep the state the instance had (Grafana 11.5+).
    KeepLast,
}

/// What an instance becomes when the evaluation fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecErrState {
    #[default]
    Error,
    Alerting,
    #[serde(rename = "OK")]
    Ok,
    /// Keep the state the instance had (Grafana 11.5+).
    KeepLast,
}

/// A rule group (`AlertRuleGroup`): rules of one folder evaluated together every `interval`
/// seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroup {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub folder_uid: String,
    /// Evaluation interval in seconds; a positive multiple of [`crate::BASE_INTERVAL_SECONDS`].
    pub interval: i64,
    #[serde(default)]
    pub rules: Vec<AlertRule>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A rule as Grafana 11's provisioning API answers it (fields as its documentation names them).
    pub(crate) fn grafana_rule_json() -> Value {
        json!({
            "id": 7,
            "uid": "cpu-high",
            "orgID": 1,
            "folderUID": "infra",
            "ruleGroup": "node",
            "title": "CPU high",
            "condition": "C",
            "data": [
                {
                    "refId": "A",
                    "queryType": "",
                    "relativeTimeRange": {"from": 600, "to": 0},
                    "datasourceUid": "prom-1",
                    "model": {
                        "expr": "rate(node_cpu_seconds_total{mode!=\"idle\"}[5m])",
                        "intervalMs": 1000,
                        "maxDataPoints": 43200,
                        "refId": "A",
                        "legendFormat": "{{instance}}",
                        "someFutureField": {"nested": [1, 2, 3]}
                    }
                },
                {
                    "refId": "B",
                    "queryType": "",
                    "relativeTimeRange": {"from": 0, "to": 0},
                    "datasourceUid": "__expr__",
                    "model": {
                        "type": "reduce", "expression": "A", "reducer": "last",
                        "settings": {"mode": "dropNN"}, "refId": "B",
                        "datasource": {"type": "__expr__", "uid": "__expr__"}
                    }
                },
                {
                    "refId": "C",
                    "queryType": "",
                    "relativeTimeRange": {"from": 0, "to": 0},
                    "datasourceUid": "__expr__",
                    "model": {
                        "type": "threshold", "expression": "B", "refId": "C",
                        "conditions": [{"evaluator": {"type": "gt", "params": [0.8]}}]
                    }
                }
            ],
            "updated": "2024-05-01T10:00:00Z",
            "noDataState": "NoData",
            "execErrState": "Error",
            "for": "5m",
            "annotations": {"summary": "{{ $labels.instance }} is at {{ humanizePercentage $values.B.Value }}"},
            "labels": {"severity": "page"},
            "provenance": "api",
            "isPaused": false,
            "notification_settings": {"receiver": "ops"},
            "keep_firing_for": "0s"
        })
    }

    #[test]
    fn grafana_rule_round_trips() {
        let original = grafana_rule_json();
        let rule: AlertRule = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(rule.uid.as_deref(), Some("cpu-high"));
        assert_eq!(rule.folder_uid, "infra");
        assert_eq!(rule.for_duration, "5m");
        assert_eq!(rule.no_data_state, NoDataState::NoData);
        assert_eq!(rule.exec_err_state, ExecErrState::Error);
        assert_eq!(rule.data.len(), 3);
        assert!(!rule.data[0].is_expression());
        assert!(rule.data[1].is_expression());
        assert_eq!(
            rule.data[0].relative_time_range,
            RelativeTimeRange { from: 600, to: 0 }
        );
        assert_eq!(
            rule.extra["notification_settings"],
            json!({"receiver": "ops"})
        );
        assert_eq!(
            rule.data[0].model["someFutureField"],
            json!({"nested": [1, 2, 3]})
        );
        let back = serde_json::to_value(&rule).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn states_use_grafanas_words() {
        for (text, state) in [
            ("\"NoData\"", NoDataState::NoData),
            ("\"Alerting\"", NoDataState::Alerting),
            ("\"OK\"", NoDataState::Ok),
            ("\"KeepLast\"", NoDataState::KeepLast),
        ] {
            assert_eq!(serde_json::from_str::<NoDataState>(text).unwrap(), state);
            assert_eq!(serde_json::to_string(&state).unwrap(), text);
        }
        assert_eq!(
            serde_json::from_str::<ExecErrState>("\"OK\"").unwrap(),
            ExecErrState::Ok
        );
        let err = serde_json::from_str::<ExecErrState>("\"Sometimes\"").unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }

    #[test]
    fn minimal_rule_gets_defaults() {
        let rule: AlertRule = serde_json::from_value(json!({
            "title": "t", "condition": "A", "data": [], "folderUID": "f", "ruleGroup": "g"
        }))
        .unwrap();
        assert_eq!(rule.for_duration, "0s");
        assert_eq!(rule.no_data_state, NoDataState::NoData);
        assert_eq!(rule.exec_err_state, ExecErrState::Error);
        assert!(!rule.is_paused);
        assert!(rule.uid.is_none());
    }

    #[test]
    fn rule_group_round_trips() {
        let group = json!({
            "title": "node", "folderUid": "infra", "interval": 60,
            "rules": [grafana_rule_json()]
        });
        let parsed: RuleGroup = serde_json::from_value(group.clone()).unwrap();
        assert_eq!(parsed.interval, 60);
        assert_eq!(parsed.rules.len(), 1);
        assert_eq!(serde_json::to_value(&parsed).unwrap(), group);
    }
}
