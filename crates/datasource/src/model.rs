//! The shapes the engine works on: a resolved datasource, one query of a request, a time range,
//! and the error a query can end in.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A datasource as the engine sees it: its settings with secrets already decrypted.
#[derive(Debug, Clone, Default)]
pub struct DataSource {
    pub id: i64,
    pub uid: String,
    pub name: String,
    /// Grafana's plugin id: `prometheus`, `influxdb`, `grafana-testdata-datasource` (or `testdata`).
    pub kind: String,
    pub url: String,
    pub database: String,
    pub user: String,
    pub basic_auth: bool,
    pub basic_auth_user: String,
    pub json_data: Value,
    /// Decrypted `secureJsonData` (`password`, `basicAuthPassword`, `httpHeaderValue1`, ...).
    pub secure: BTreeMap<String, String>,
    /// Changes whenever the datasource is updated, so cached results of the old settings are not
    /// served for the new ones.
    pub version: i64,
}

impl DataSource {
    /// A string setting from `jsonData`, if set and non-empty.
    pub fn json_str(&self, key: &str) -> Option<&str> {
        self.json_data
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn json_bool(&self, key: &str) -> bool {
        self.json_data
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn secret(&self, key: &str) -> Option<&str> {
        self.secure
            .get(key)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// A time range in epoch milliseconds, `from` inclusive, `to` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub from_ms: i64,
    pub to_ms: i64,
}

impl TimeRange {
    pub fn duration_ms(&self) -> i64 {
        self.to_ms - self.from_ms
    }
}

/// One entry of a request's `queries[]`, after the datasource has been resolved. `model` holds the
/// whole query object as sent (`expr`, `legendFormat`, `query`, `scenarioId`, ...), so each source
/// reads its own fields.
#[derive(Debug, Clone, Default)]
pub struct QueryItem {
    pub ref_id: String,
    /// The client's interval for this query (`intervalMs`), 0 when not sent.
    pub interval_ms: i64,
    /// The client's point budget (`maxDataPoints`), 0 when not sent.
    pub max_data_points: i64,
    pub model: Map<String, Value>,
}

impl QueryItem {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.model.get(key).and_then(Value::as_str)
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        self.model.get(key).and_then(Value::as_bool)
    }

    pub fn f64(&self, key: &str) -> Option<f64> {
        match self.model.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// Why one query failed. The status is what Grafana puts in `results[refId].status`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    /// The query itself is wrong (malformed PromQL, unknown scenario, missing field): 400.
    #[error("{0}")]
    BadQuery(String),
    /// The datasource is unknown: 404.
    #[error("{0}")]
    NotFound(String),
    /// The source could not be reached or answered with an error or garbage: 502.
    #[error("{0}")]
    Upstream(String),
    /// The source did not answer within the query timeout: 504.
    #[error("{0}")]
    Timeout(String),
}

impl QueryError {
    pub fn status(&self) -> u16 {
        match self {
            QueryError::BadQuery(_) => 400,
            QueryError::NotFound(_) => 404,
            QueryError::Upstream(_) => 502,
            QueryError::Timeout(_) => 504,
        }
    }
}
