//! InfluxDB 1.x through InfluxQL, as Grafana's `influxdb` datasource queries it: the same query
//! text (raw, or built from the query editor's fields), the same macros, the same request
//! (`/query` with `db`, `epoch=ms`, `rp`, GET or POST) and the same frames and series names, so an
//! imported dashboard shows what it showed in Grafana.
//!
//! Settings read from the datasource: the database (`jsonData.dbName`, else `database`),
//! `jsonData.httpMode` (`GET` by default, or `POST`), `jsonData.timeInterval` (the lowest
//! `$__interval`), `jsonData.version` (only InfluxQL is spoken), and the credentials: basic auth
//! when `basicAuth` is on (the [`Upstream`] adds it), else `user` with `secureJsonData.password`
//! sent as basic auth, as Grafana does.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::frame::{Field, FieldValues, Frame};
use crate::interval;
use crate::model::{DataSource, QueryError, QueryItem, TimeRange};
use crate::source::{BoxFuture, Prepared, Source, Upstream};
use crate::variables::VariableOption;

/// The InfluxQL source. Stateless: everything it needs comes with each call.
pub struct InfluxDb;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HttpMode {
    Get,
    Post,
}

/// Grafana's `resultFormat`: how series become frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResultFormat {
    /// One frame per series and value column.
    TimeSeries,
    /// One frame for all series: time, the tags, the value columns.
    Table,
    /// Time series frames that ask to be shown as logs.
    Logs,
}

impl ResultFormat {
    fn parse(query: &QueryItem) -> ResultFormat {
        match query.str("resultFormat").or(query.str("format")) {
            Some("table") => ResultFormat::Table,
            Some("logs") => ResultFormat::Logs,
            _ => ResultFormat::TimeSeries,
        }
    }

    /// Grafana's `preferredVisualisationType` for the frames.
    fn visualisation(self) -> &'static str {
        match self {
            ResultFormat::TimeSeries => "graph",
            ResultFormat::Table => "table",
            ResultFormat::Logs => "logs",
        }
    }
}

/// The decided request and how to turn its answer into frames.
#[derive(Debug)]
struct Plan {
    db: String,
    /// Sent as `rp` when set and not Grafana's placeholder `default`.
    retention_policy: Option<String>,
    mode: HttpMode,
    /// The final InfluxQL, macros replaced.
    query: String,
    alias: Option<String>,
    format: ResultFormat,
    interval_ms: i64,
}

impl Source for InfluxDb {
    fn prepare(
        &self,
        ds: &DataSource,
        query: &QueryItem,
        range: TimeRange,
    ) -> Result<Prepared, QueryError> {
        check_version(ds)?;
        let mode = http_mode(ds)?;
        let interval_ms = query_interval(ds, query, range)?;
        let text = interpolate(&query_text(query)?, range, interval_ms);
        let plan = Plan {
            db: database(ds).to_string(),
            retention_policy: query
                .str("policy")
                .map(str::trim)
                .filter(|p| !p.is_empty() && *p != "default")
                .map(str::to_string),
            mode,
            alias: query
                .str("alias")
                .filter(|a| !a.is_empty())
                .map(str::to_string),
            format: ResultFormat::parse(query),
            interval_ms,
            query: text,
        };
        // The key holds everything that shapes the frames, not only the request: two panels
        // asking the same InfluxQL with different aliases must not share named frames.
        let key = format!(
            "influx|{}",
            json!([
                plan.db,
                plan.retention_policy,
                format!("{:?}", plan.mode),
                format!("{:?}", plan.format),
                plan.alias,
                plan.interval_ms,
                plan.query,
            ])
        );
        // `now()` in the text makes the answer move while the key stays the same.
        let cacheable = !plan.query.to_ascii_lowercase().contains("now()");
        Ok(Prepared {
            key,
            range,
            step_ms: interval_ms,
            cacheable,
            plan: Box::new(plan),
        })
    }

    fn execute<'a>(
        &'a self,
        upstream: &'a Upstream,
        ds: &'a DataSource,
        prepared: &'a Prepared,
    ) -> BoxFuture<'a, Result<Vec<Frame>, QueryError>> {
        Box::pin(async move {
            let plan = prepared.plan::<Plan>()?;
            let series = run(upstream, ds, plan).await?;
            Ok(match plan.format {
                ResultFormat::Table => table_frames(&series, plan),
                ResultFormat::TimeSeries | ResultFormat::Logs => series_frames(&series, plan),
            })
        })
    }

    /// A variable's options are the values of the answer's last column, for every series
    /// (`SHOW TAG VALUES ...` answers key and value; `SHOW MEASUREMENTS` answers names).
    fn variable_options<'a>(
        &'a self,
        upstream: &'a Upstream,
        ds: &'a DataSource,
        query: &'a str,
        range: TimeRange,
    ) -> BoxFuture<'a, Result<Vec<VariableOption>, QueryError>> {
        Box::pin(async move {
            check_version(ds)?;
            let plan = Plan {
                db: database(ds).to_string(),
                retention_policy: None,
                mode: http_mode(ds)?,
                query: interpolate(query, range, 1000),
                alias: None,
                format: ResultFormat::Table,
                interval_ms: 1000,
            };
            let series = run(upstream, ds, &plan).await?;
            let mut options = Vec::new();
            for s in &series {
                for row in &s.values {
                    match row.last() {
                        Some(Value::String(text)) => {
                            options.push(VariableOption::from_value(text.clone()))
                        }
                        Some(Value::Number(n)) => {
                            options.push(VariableOption::from_value(n.to_string()))
                        }
                        Some(Value::Bool(b)) => {
                            options.push(VariableOption::from_value(b.to_string()))
                        }
                        _ => {}
                    }
                }
            }
            Ok(options)
        })
    }

    fn health<'a>(
        &'a self,
        upstream: &'a Upstream,
        ds: &'a DataSource,
    ) -> BoxFuture<'a, Result<String, QueryError>> {
        Box::pin(async move {
            check_version(ds)?;
            let plan = Plan {
                db: database(ds).to_string(),
                retention_policy: None,
                mode: http_mode(ds)?,
                query: "SHOW MEASUREMENTS".into(),
                alias: None,
                format: ResultFormat::TimeSeries,
                interval_ms: 1,
            };
            let series = run(upstream, ds, &plan).await.map_err(|e| match e {
                QueryError::BadQuery(m) => {
                    QueryError::BadQuery(format!("error reading InfluxDB: {m}"))
                }
                other => other,
            })?;
            let count: usize = series.iter().map(|s| s.values.len()).sum();
            Ok(format!("datasource is working. {count} measurements found"))
        })
    }
}

/// Grafana reads the database from `jsonData.dbName` first; older datasources keep it in the
/// `database` column.
fn database(ds: &DataSource) -> &str {
    ds.json_str("dbName").unwrap_or(ds.database.as_str()).trim()
}

/// Flux and SQL datasources share the `influxdb` type in Grafana; only InfluxQL is spoken here.
fn check_version(ds: &DataSource) -> Result<(), QueryError> {
    match ds.json_str("version") {
        None => Ok(()),
        Some(v) if v.eq_ignore_ascii_case("influxql") => Ok(()),
        Some(v) => Err(QueryError::BadQuery(format!(
            "InfluxDB datasources with the {v} query language are not supported; use InfluxQL"
        ))),
    }
}

fn http_mode(ds: &DataSource) -> Result<HttpMode, QueryError> {
    match ds.json_str("httpMode").map(str::trim) {
        None | Some("GET") => Ok(HttpMode::Get),
        Some("POST") => Ok(HttpMode::Post),
        Some(_) => Err(QueryError::BadQuery(
            "'httpMode' should be either 'GET' or 'POST'".into(),
        )),
    }
}

/// `$__interval` in milliseconds: Grafana's interval calculation over the range and the point
/// budget, never below the minimum (the query's `interval`, else its `intervalMs`, else the
/// datasource's `timeInterval`, else 1 ms).
fn query_interval(ds: &DataSource, query: &QueryItem, range: TimeRange) -> Result<i64, QueryError> {
    let own = query
        .str("interval")
        .filter(|s| !interval::is_variable_interval(s));
    let min = interval::min_interval(ds.json_str("timeInterval"), own, query.interval_ms, 1)
        .map_err(QueryError::BadQuery)?;
    Ok(interval::calculate(range, min, query.max_data_points).max(1))
}

/// The query's InfluxQL before macros: the raw text in raw mode, else built from the editor's
/// fields. A query without `rawQuery` but with text and no builder fields (as API clients send
/// it) is taken as raw.
fn query_text(query: &QueryItem) -> Result<String, QueryError> {
    let raw = query.str("query").map(str::trim).unwrap_or("");
    let builder_fields = query.model.contains_key("measurement");
    match query.bool("rawQuery") {
        Some(true) if raw.is_empty() => Err(QueryError::BadQuery("the query is empty".into())),
        Some(true) => Ok(raw.to_string()),
        _ if !builder_fields && !raw.is_empty() => Ok(raw.to_string()),
        _ => build_query(&query.model),
    }
}

/// Replaces Grafana's InfluxQL macros: `$timeFilter` (the range as epoch milliseconds),
/// `$__interval`/`$interval` (formatted like `20s`), `$__interval_ms`, and the range ends
/// `$__from`/`$__to` (epoch milliseconds, as Grafana's global variables).
fn interpolate(text: &str, range: TimeRange, interval_ms: i64) -> String {
    let time_filter = format!("time >= {}ms and time <= {}ms", range.from_ms, range.to_ms);
    let interval = interval::format_interval(interval_ms);
    let ms = interval_ms.to_string();
    let from = range.from_ms.to_string();
    let to = range.to_ms.to_string();
    // Longer names first, so `$__interval` does not eat the front of `$__interval_ms`.
    [
        ("$timeFilter", time_filter.as_str()),
        ("${__interval_ms}", &ms),
        ("$__interval_ms", &ms),
        ("${__interval}", &interval),
        ("$__interval", &interval),
        ("$interval", &interval),
        ("${__from}", &from),
        ("$__from", &from),
        ("${__to}", &to),
        ("$__to", &to),
    ]
    .iter()
    .fold(text.to_string(), |acc, (name, value)| {
        if acc.contains(name) {
            acc.replace(name, value)
        } else {
            acc
        }
    })
}

/// Sends the plan's query and returns every series of every statement, or the error InfluxDB
/// gave.
async fn run(upstream: &Upstream, ds: &DataSource, plan: &Plan) -> Result<Vec<Series>, QueryError> {
    let url = upstream.url("query")?;
    let mut params: Vec<(&str, &str)> = vec![("epoch", "ms")];
    if !plan.db.is_empty() {
        params.push(("db", &plan.db));
    }
    if let Some(rp) = &plan.retention_policy {
        params.push(("rp", rp));
    }
    let q = [("q", plan.query.as_str())];
    let mut request = match plan.mode {
        HttpMode::Get => upstream.client.get(url).query(&params).query(&q),
        HttpMode::Post => upstream.client.post(url).query(&params).form(&q),
    };
    // Grafana sends the datasource's user and password as basic auth unless basic auth proper
    // is configured (which the upstream's headers already carry).
    if !ds.basic_auth && !ds.user.is_empty() {
        request = request.basic_auth(&ds.user, ds.secret("password"));
    }
    let (status, body) = upstream.send(request).await?;
    parse_answer(status, &body)
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    results: Vec<StatementResult>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct StatementResult {
    #[serde(default)]
    series: Vec<Series>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize, Debug)]
struct Series {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    columns: Vec<String>,
    #[serde(default)]
    values: Vec<Vec<Value>>,
}

impl Series {
    fn tags(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.tags.as_ref().unwrap_or(&EMPTY)
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// InfluxDB's answer as series, or its error: a query InfluxDB rejects (HTTP 400, or an error in
/// the answer such as an unknown database) is the user's to fix; anything else is the source's.
fn parse_answer(status: reqwest::StatusCode, body: &[u8]) -> Result<Vec<Series>, QueryError> {
    let parsed = serde_json::from_slice::<Answer>(body);
    if !status.is_success() {
        let message = match &parsed {
            Ok(Answer {
                error: Some(error), ..
            }) => error.clone(),
            _ => String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(300)
                .collect(),
        };
        return Err(if status == reqwest::StatusCode::BAD_REQUEST {
            QueryError::BadQuery(message)
        } else {
            QueryError::Upstream(format!("InfluxDB answered HTTP {status}: {message}"))
        });
    }
    let answer = parsed.map_err(|e| {
        QueryError::Upstream(format!(
            "InfluxDB's answer is not the JSON it should be: {e}"
        ))
    })?;
    if let Some(error) = answer.error {
        return Err(QueryError::BadQuery(error));
    }
    let mut series = Vec::new();
    for result in answer.results {
        if let Some(error) = result.error {
            return Err(QueryError::BadQuery(error));
        }
        series.extend(result.series);
    }
    Ok(series)
}

fn meta(plan: &Plan) -> Value {
    json!({
        "executedQueryString": plan.query,
        "preferredVisualisationType": plan.format.visualisation(),
    })
}

/// Time series: one frame per series and value column, `Time` and `Value` with the series' tags
/// as labels. Series without a time column (`SHOW ...` statements) become one string column.
fn series_frames(series: &[Series], plan: &Plan) -> Vec<Frame> {
    let mut frames = Vec::new();
    for s in series {
        let Some(time_col) = s.column("time") else {
            frames.push(listing_frame(s, plan));
            continue;
        };
        // Rows without a millisecond timestamp are dropped, as Grafana drops them.
        let rows: Vec<(i64, &Vec<Value>)> = s
            .values
            .iter()
            .filter_map(|row| Some((row.get(time_col)?.as_i64()?, row)))
            .collect();
        let times: Vec<i64> = rows.iter().map(|(t, _)| *t).collect();
        for (col, column) in s.columns.iter().enumerate() {
            if col == time_col {
                continue;
            }
            let cells: Vec<Option<&Value>> = rows.iter().map(|(_, row)| row.get(col)).collect();
            let name = series_name(plan, &s.name, column, s.tags());
            let mut value = Field::new("Value", column_values(&cells))
                .with_config("displayNameFromDS", Value::String(name.clone()));
            if !s.tags().is_empty() {
                value = value.with_labels(s.tags().clone());
            }
            frames.push(Frame {
                name: Some(name),
                meta: Some(meta(plan)),
                fields: vec![Field::new("Time", FieldValues::Time(times.clone())), value],
            });
        }
    }
    frames
}

/// The answer of a `SHOW ...` statement: its names as one string field (the `value` column of
/// `SHOW TAG VALUES`, else the first column).
fn listing_frame(s: &Series, plan: &Plan) -> Frame {
    let col = if plan.query.to_ascii_uppercase().contains("SHOW TAG VALUES") {
        s.column("value").unwrap_or(1)
    } else {
        0
    };
    let values = s
        .values
        .iter()
        .map(|row| match row.get(col) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(other) => Some(other.to_string()),
        })
        .collect();
    Frame {
        name: Some(s.name.clone()),
        meta: Some(meta(plan)),
        fields: vec![Field::new("Value", FieldValues::String(values))],
    }
}

/// Table: one frame holding every series' rows: the first column (time), one column per tag of
/// the first series, then the value columns, each named as InfluxDB names it.
fn table_frames(series: &[Series], plan: &Plan) -> Vec<Frame> {
    let Some(first) = series.first() else {
        return Vec::new();
    };
    let columns = &first.columns;
    let has_time = columns.first().is_some_and(|c| c == "time");
    // Every row of every series, with its timestamp when the table starts with time.
    let rows: Vec<(&Series, &Vec<Value>)> = series
        .iter()
        .flat_map(|s| s.values.iter().map(move |row| (s, row)))
        .filter(|(s, row)| {
            !has_time
                || s.column("time")
                    .and_then(|c| row.get(c)?.as_i64())
                    .is_some()
        })
        .collect();
    let cells = |column: &str| -> Vec<Option<&Value>> {
        rows.iter()
            .map(|(s, row)| s.column(column).and_then(|c| row.get(c)))
            .collect()
    };
    let value_field = |column: &str| {
        Field::new(column, column_values(&cells(column)))
            .with_config("displayNameFromDS", Value::String(column.to_string()))
    };

    let mut fields = Vec::new();
    if has_time {
        let times = cells("time")
            .iter()
            .filter_map(|v| v.and_then(Value::as_i64))
            .collect();
        fields.push(Field::new("Time", FieldValues::Time(times)));
    } else if let Some(column) = columns.first() {
        fields.push(value_field(column));
    }
    for key in first.tags().keys() {
        let values = rows
            .iter()
            .map(|(s, _)| s.tags().get(key).cloned())
            .collect();
        fields.push(
            Field::new(key.as_str(), FieldValues::String(values))
                .with_config("displayNameFromDS", Value::String(key.clone())),
        );
    }
    for column in columns.iter().skip(1) {
        fields.push(value_field(column));
    }
    vec![Frame {
        name: Some(first.name.clone()),
        meta: Some(meta(plan)),
        fields,
    }]
}

/// One column's cells as a field: numbers (integers too) as `f64`, or strings, or booleans, by
/// the column's first non-null value; nulls, and cells of another type, stay `None`.
fn column_values(cells: &[Option<&Value>]) -> FieldValues {
    let first = cells.iter().flatten().find(|v| !v.is_null());
    match first {
        Some(Value::String(_)) => FieldValues::String(
            cells
                .iter()
                .map(|v| v.and_then(Value::as_str).map(str::to_string))
                .collect(),
        ),
        Some(Value::Bool(_)) => {
            FieldValues::Bool(cells.iter().map(|v| v.and_then(Value::as_bool)).collect())
        }
        _ => FieldValues::Number(cells.iter().map(|v| v.and_then(Value::as_f64)).collect()),
    }
}

/// A series' display name: the alias pattern when set, else Grafana's
/// `measurement.column { tag: value, ... }`.
fn series_name(
    plan: &Plan,
    measurement: &str,
    column: &str,
    tags: &BTreeMap<String, String>,
) -> String {
    if let Some(alias) = &plan.alias {
        return apply_alias(alias, measurement, column, tags, plan.interval_ms);
    }
    let mut name = format!("{measurement}.{column}");
    if !tags.is_empty() {
        let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        name.push_str(&format!(" {{ {} }}", tags.join(", ")));
    }
    name
}

/// Grafana's alias patterns, as `$name` or `[[name]]`: `m`/`measurement`, `col`, `tag_<key>`,
/// `<n>` (the n-th dot-separated part of the measurement), `__interval`, `__interval_ms`.
/// Anything else is left as written.
fn apply_alias(
    alias: &str,
    measurement: &str,
    column: &str,
    tags: &BTreeMap<String, String>,
    interval_ms: i64,
) -> String {
    static PATTERN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\$(\w+)|\[\[([\s\S]+?)\]\]").expect("alias pattern"));
    PATTERN
        .replace_all(alias, |caps: &regex::Captures| {
            let whole = caps[0].to_string();
            let name = caps
                .get(1)
                .or(caps.get(2))
                .map_or("", |m| m.as_str())
                .trim_start_matches('$');
            match name {
                "m" | "measurement" => return measurement.to_string(),
                "col" => return column.to_string(),
                "__interval" => return interval::format_interval(interval_ms),
                "__interval_ms" => return interval_ms.to_string(),
                _ => {}
            }
            if let Ok(n) = name.parse::<usize>() {
                if let Some(part) = measurement.split('.').nth(n) {
                    return part.to_string();
                }
            }
            name.strip_prefix("tag_")
                .and_then(|key| tags.get(key))
                .cloned()
                .unwrap_or(whole)
        })
        .into_owned()
}

// ---- The query builder: InfluxQL from the editor's fields, as Grafana renders it. ----

/// One editor part: `{"type": "mean", "params": []}`.
struct Part {
    kind: String,
    params: Vec<String>,
}

impl Part {
    fn parse(value: &Value) -> Result<Part, QueryError> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| QueryError::BadQuery(format!("query part without a type: {value}")))?;
        let params = match value.get("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|p| match p {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(QueryError::BadQuery(format!(
                        "invalid parameter {other} of query part {kind}"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(QueryError::BadQuery(format!(
                    "invalid parameters {other} of query part {kind}"
                )))
            }
        };
        Ok(Part {
            kind: kind.to_string(),
            params,
        })
    }

    fn first_param(&self) -> Result<&str, QueryError> {
        self.params.first().map(String::as_str).ok_or_else(|| {
            QueryError::BadQuery(format!("query part {} needs a parameter", self.kind))
        })
    }

    /// Renders this part around `inner` (the expression built so far, empty in GROUP BY).
    fn render(&self, inner: &str) -> Result<String, QueryError> {
        const FUNCTIONS: &[&str] = &[
            "spread",
            "count",
            "distinct",
            "integral",
            "mean",
            "median",
            "sum",
            "mode",
            "cumulative_sum",
            "non_negative_difference",
            "holt_winters",
            "holt_winters_with_fit",
            "derivative",
            "non_negative_derivative",
            "difference",
            "moving_average",
            "stddev",
            "time",
            "fill",
            "elapsed",
            "bottom",
            "first",
            "last",
            "max",
            "min",
            "percentile",
            "top",
        ];
        match self.kind.as_str() {
            "field" | "tag" => Ok(render_key(self.first_param()?)),
            "math" => Ok(format!("{inner} {}", self.first_param()?)),
            "alias" => Ok(format!("{inner} AS {}", quote_ident(self.first_param()?))),
            kind if FUNCTIONS.contains(&kind) => {
                let mut args: Vec<&str> = Vec::new();
                if !inner.is_empty() {
                    args.push(inner);
                }
                for p in &self.params {
                    // `time(auto)` groups by the calculated interval.
                    args.push(if kind == "time" && p == "auto" {
                        "$__interval"
                    } else {
                        p
                    });
                }
                Ok(format!("{kind}({})", args.join(", ")))
            }
            kind => Err(QueryError::BadQuery(format!(
                "unknown query part {kind:?} in the query builder"
            ))),
        }
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

fn quote_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A field or tag key, quoted, keeping a `::tag`/`::field` type suffix outside the quotes.
fn render_key(key: &str) -> String {
    if key == "*" {
        return "*".into();
    }
    for suffix in ["::tag", "::field"] {
        if let Some(name) = key.strip_suffix(suffix) {
            return format!("{}{suffix}", quote_ident(name));
        }
    }
    quote_ident(key)
}

/// `/^value$/` (how a single-valued template variable arrives in a regex) as the bare value
/// between `wrapper`s; anything else unchanged.
fn remove_regex_wrappers(value: &str, wrapper: &str) -> String {
    match value.strip_prefix("/^").and_then(|v| v.strip_suffix("$/")) {
        Some(inner) => format!("{wrapper}{inner}{wrapper}"),
        None => value.to_string(),
    }
}

fn is_regex(value: &str) -> bool {
    value.len() >= 2 && value.starts_with('/') && value.ends_with('/')
}

/// The WHERE conditions of the editor's tag filters.
fn render_tags(tags: &[Value]) -> Result<Vec<String>, QueryError> {
    static NUMBER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(-?\d+)(\.\d+)?$").expect("number pattern"));
    let mut conditions = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        let text = |k: &str| tag.get(k).and_then(Value::as_str).unwrap_or("");
        let key = text("key");
        let value = text("value");
        if key.is_empty() {
            return Err(QueryError::BadQuery(format!(
                "tag filter without a key: {tag}"
            )));
        }
        let mut operator = match text("operator") {
            "" if is_regex(value) => "=~",
            "" => "=",
            op => op,
        };
        let value = match operator {
            "=~" | "!~" => value.to_string(),
            "<" | ">" | ">=" | "<=" => remove_regex_wrappers(value, "'"),
            "Is" | "Is Not" => {
                operator = if operator == "Is" { "=" } else { "!=" };
                let lower = value.to_ascii_lowercase();
                if key.ends_with("::tag") {
                    quote_string(value)
                } else if lower == "true" || lower == "false" {
                    lower
                } else if NUMBER.is_match(value) {
                    value.to_string()
                } else {
                    quote_string(value)
                }
            }
            _ => quote_string(&remove_regex_wrappers(value, "")),
        };
        let prefix = match (i, text("condition")) {
            (0, _) => String::new(),
            (_, "") => "AND ".into(),
            (_, condition) => format!("{condition} "),
        };
        conditions.push(format!("{prefix}{} {operator} {value}", render_key(key)));
    }
    Ok(conditions)
}

/// Grafana's InfluxQL from the query editor: `SELECT <selects> FROM <policy>.<measurement>
/// WHERE <tags> AND $timeFilter GROUP BY <parts> [ORDER BY time ..] [limit ..] [slimit ..]
/// [tz(..)]`.
fn build_query(model: &Map<String, Value>) -> Result<String, QueryError> {
    let text = |k: &str| -> String {
        match model.get(k) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let array = |k: &str| -> &[Value] {
        model
            .get(k)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    };

    let measurement = text("measurement");
    if measurement.is_empty() {
        return Err(QueryError::BadQuery(
            "the query has no measurement (query builder) and no raw query".into(),
        ));
    }
    let mut selects = Vec::new();
    for select in array("select") {
        let mut expr = String::new();
        for part in select.as_array().map_or(&[][..], Vec::as_slice) {
            expr = Part::parse(part)?.render(&expr)?;
        }
        selects.push(expr);
    }
    if selects.is_empty() {
        return Err(QueryError::BadQuery("the query selects no field".into()));
    }

    let mut q = format!("SELECT {}", selects.join(", "));
    let policy = text("policy");
    let policy = if policy.is_empty() || policy == "default" {
        String::new()
    } else {
        format!("{}.", quote_ident(&policy))
    };
    let measurement = if is_regex(&measurement) {
        measurement
    } else {
        quote_ident(&measurement)
    };
    q.push_str(&format!(" FROM {policy}{measurement} WHERE "));
    let conditions = render_tags(array("tags"))?;
    match conditions.len() {
        0 => {}
        1 => q.push_str(&format!("{} AND ", conditions[0])),
        _ => q.push_str(&format!("({}) AND ", conditions.join(" "))),
    }
    q.push_str("$timeFilter");
    for (i, group) in array("groupBy").iter().enumerate() {
        let part = Part::parse(group)?;
        q.push_str(match i {
            0 => " GROUP BY ",
            _ if part.kind == "fill" => " ",
            _ => ", ",
        });
        q.push_str(&part.render("")?);
    }
    let order = text("orderByTime");
    if !order.is_empty() {
        q.push_str(&format!(" ORDER BY time {order}"));
    }
    let limit = text("limit");
    if !limit.is_empty() {
        q.push_str(&format!(" limit {limit}"));
    }
    let slimit = text("slimit");
    if !slimit.is_empty() {
        q.push_str(&format!(" slimit {slimit}"));
    }
    let tz = text("tz");
    if !tz.is_empty() {
        q.push_str(&format!(" tz({})", quote_string(&tz)));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(model: Value) -> QueryItem {
        QueryItem {
            ref_id: "A".into(),
            interval_ms: 0,
            max_data_points: 0,
            model: model.as_object().cloned().unwrap(),
        }
    }

    fn plan_of(p: &Prepared) -> &Plan {
        p.plan::<Plan>().unwrap()
    }

    const RANGE: TimeRange = TimeRange {
        from_ms: 1_700_000_000_000,
        to_ms: 1_700_003_600_000,
    };

    #[test]
    fn raw_query_macros_follow_grafana() {
        let ds = DataSource {
            database: "metrics".into(),
            ..Default::default()
        };
        let mut q = item(json!({
            "rawQuery": true,
            "query": "SELECT mean(v) FROM cpu WHERE $timeFilter AND time > ${__from}ms \
                      GROUP BY time($__interval) fill(null) -- $__interval_ms $interval",
        }));
        q.max_data_points = 100;
        q.interval_ms = 1000;
        let p = InfluxDb.prepare(&ds, &q, RANGE).unwrap();
        // 1 h / 100 points = 36 s, rounded to 30 s.
        assert_eq!(
            plan_of(&p).query,
            "SELECT mean(v) FROM cpu WHERE time >= 1700000000000ms and time <= 1700003600000ms \
             AND time > 1700000000000ms GROUP BY time(30s) fill(null) -- 30000 30s"
        );
        assert_eq!(p.step_ms, 30_000);
        assert!(p.cacheable);
        assert_eq!(plan_of(&p).db, "metrics");
        assert!(p.key.starts_with("influx|"));
    }

    #[test]
    fn minimum_interval_from_query_then_datasource() {
        let mut ds = DataSource {
            json_data: json!({"timeInterval": "1m", "dbName": "other"}),
            database: "metrics".into(),
            ..Default::default()
        };
        let q = item(json!({"query": "SELECT 1 GROUP BY time($__interval)", "rawQuery": true}));
        let p = InfluxDb.prepare(&ds, &q, RANGE).unwrap();
        assert_eq!(p.step_ms, 60_000);
        assert_eq!(plan_of(&p).db, "other");
        let q = item(json!({"query": "x", "rawQuery": true, "interval": "5m"}));
        assert_eq!(InfluxDb.prepare(&ds, &q, RANGE).unwrap().step_ms, 300_000);
        ds.json_data = json!({});
        // No minimum: 1 h / 1500 points = 2.4 s, rounded to 2 s.
        let q = item(json!({"query": "x", "rawQuery": true}));
        assert_eq!(InfluxDb.prepare(&ds, &q, RANGE).unwrap().step_ms, 2_000);
    }

    #[test]
    fn settings_are_checked() {
        let q = item(json!({"query": "SELECT 1", "rawQuery": true}));
        let ds = DataSource {
            json_data: json!({"httpMode": "PUT"}),
            ..Default::default()
        };
        assert!(matches!(
            InfluxDb.prepare(&ds, &q, RANGE),
            Err(QueryError::BadQuery(_))
        ));
        let ds = DataSource {
            json_data: json!({"version": "Flux"}),
            ..Default::default()
        };
        assert!(matches!(
            InfluxDb.prepare(&ds, &q, RANGE),
            Err(QueryError::BadQuery(m)) if m.contains("Flux")
        ));
        let empty = item(json!({"query": " ", "rawQuery": true}));
        assert!(InfluxDb
            .prepare(&DataSource::default(), &empty, RANGE)
            .is_err());
        let now =
            item(json!({"query": "SELECT v FROM cpu WHERE time > now() - 1h", "rawQuery": true}));
        assert!(
            !InfluxDb
                .prepare(&DataSource::default(), &now, RANGE)
                .unwrap()
                .cacheable
        );
    }

    #[test]
    fn builder_renders_grafana_influxql() {
        let q = item(json!({
            "policy": "default",
            "measurement": "cpu",
            "select": [
                [{"type": "field", "params": ["usage"]}, {"type": "mean", "params": []},
                 {"type": "math", "params": ["* 100"]}, {"type": "alias", "params": ["pct"]}],
                [{"type": "field", "params": ["count"]}, {"type": "percentile", "params": [95]}]
            ],
            "tags": [
                {"key": "host", "operator": "=", "value": "a"},
                {"key": "region", "value": "/^e.*/", "condition": "OR"},
                {"key": "dc::tag", "operator": "=", "value": "/^x$/"}
            ],
            "groupBy": [
                {"type": "time", "params": ["auto"]},
                {"type": "tag", "params": ["host"]},
                {"type": "fill", "params": ["null"]}
            ],
            "orderByTime": "DESC",
            "limit": "10",
            "tz": "Europe/Paris"
        }));
        assert_eq!(
            build_query(&q.model).unwrap(),
            "SELECT mean(\"usage\") * 100 AS \"pct\", percentile(\"count\", 95) FROM \"cpu\" \
             WHERE (\"host\" = 'a' OR \"region\" =~ /^e.*/ AND \"dc\"::tag = 'x') AND $timeFilter \
             GROUP BY time($__interval), \"host\" fill(null) ORDER BY time DESC limit 10 \
             tz('Europe/Paris')"
        );
        let q = item(json!({
            "policy": "week", "measurement": "/^cpu.*/",
            "select": [[{"type": "field", "params": ["*"]}]]
        }));
        assert_eq!(
            build_query(&q.model).unwrap(),
            "SELECT * FROM \"week\"./^cpu.*/ WHERE $timeFilter"
        );
        let q = item(json!({"measurement": "cpu", "select": [[{"type": "bogus", "params": []}]]}));
        assert!(build_query(&q.model).is_err());
    }

    fn plan(alias: Option<&str>, format: ResultFormat) -> Plan {
        Plan {
            db: "db".into(),
            retention_policy: None,
            mode: HttpMode::Get,
            query: "SELECT ...".into(),
            alias: alias.map(str::to_string),
            format,
            interval_ms: 60_000,
        }
    }

    const ANSWER: &str = r#"{"results":[{"statement_id":0,"series":[
        {"name":"cpu","tags":{"host":"a","region":"eu"},"columns":["time","mean","max"],
         "values":[[1000,1.5,3],[2000,null,null],["bad",9,9],[3000,2,4]]},
        {"name":"cpu","tags":{"host":"b","region":"eu"},"columns":["time","mean","max"],
         "values":[[1000,7,8]]}]}]}"#;

    #[test]
    fn series_become_frames_named_like_grafana() {
        let series = parse_answer(reqwest::StatusCode::OK, ANSWER.as_bytes()).unwrap();
        let frames = series_frames(&series, &plan(None, ResultFormat::TimeSeries));
        assert_eq!(frames.len(), 4);
        let f = &frames[0];
        assert_eq!(f.name.as_deref(), Some("cpu.mean { host: a, region: eu }"));
        assert_eq!(
            f.fields[0].values,
            FieldValues::Time(vec![1000, 2000, 3000])
        );
        assert_eq!(
            f.fields[1].values,
            FieldValues::Number(vec![Some(1.5), None, Some(2.0)])
        );
        assert_eq!(f.fields[1].labels.as_ref().unwrap()["host"], "a");
        assert_eq!(
            frames[1].name.as_deref(),
            Some("cpu.max { host: a, region: eu }")
        );
        assert_eq!(
            frames[1].fields[1].values,
            FieldValues::Number(vec![Some(3.0), None, Some(4.0)])
        );

        let aliased = series_frames(
            &series,
            &plan(
                Some("$m $col [[tag_host]] $tag_nope $0 $__interval"),
                ResultFormat::TimeSeries,
            ),
        );
        assert_eq!(
            aliased[3].name.as_deref(),
            Some("cpu max b $tag_nope cpu 1m")
        );
        assert_eq!(
            aliased[3].fields[1].config.as_ref().unwrap()["displayNameFromDS"],
            "cpu max b $tag_nope cpu 1m"
        );
    }

    #[test]
    fn table_format_is_one_frame_with_tag_columns() {
        let series = parse_answer(reqwest::StatusCode::OK, ANSWER.as_bytes()).unwrap();
        let frames = table_frames(&series, &plan(None, ResultFormat::Table));
        assert_eq!(frames.len(), 1);
        let names: Vec<&str> = frames[0].fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Time", "host", "region", "mean", "max"]);
        assert_eq!(
            frames[0].fields[0].values,
            FieldValues::Time(vec![1000, 2000, 3000, 1000])
        );
        assert_eq!(
            frames[0].fields[1].values,
            FieldValues::String(vec![
                Some("a".into()),
                Some("a".into()),
                Some("a".into()),
                Some("b".into())
            ])
        );
        assert_eq!(
            frames[0].fields[3].values,
            FieldValues::Number(vec![Some(1.5), None, Some(2.0), Some(7.0)])
        );
    }

    #[test]
    fn influx_errors_are_classified() {
        let e = parse_answer(
            reqwest::StatusCode::BAD_REQUEST,
            br#"{"error":"error parsing query: found EOF"}"#,
        )
        .err()
        .unwrap();
        assert_eq!(
            e,
            QueryError::BadQuery("error parsing query: found EOF".into())
        );
        let e = parse_answer(
            reqwest::StatusCode::OK,
            br#"{"results":[{"statement_id":0,"error":"database not found: x"}]}"#,
        )
        .err()
        .unwrap();
        assert_eq!(e, QueryError::BadQuery("database not found: x".into()));
        let e = parse_answer(
            reqwest::StatusCode::UNAUTHORIZED,
            br#"{"error":"authorization failed"}"#,
        )
        .err()
        .unwrap();
        assert!(matches!(e, QueryError::Upstream(m) if m.contains("authorization failed")));
        assert!(matches!(
            parse_answer(reqwest::StatusCode::OK, b"<html>"),
            Err(QueryError::Upstream(_))
        ));
    }

    #[test]
    fn listings_and_strings() {
        let answer = r#"{"results":[{"series":[{"name":"measurements","columns":["name"],
            "values":[["cpu"],["mem"]]}]}]}"#;
        let series = parse_answer(reqwest::StatusCode::OK, answer.as_bytes()).unwrap();
        let frames = series_frames(&series, &plan(None, ResultFormat::TimeSeries));
        assert_eq!(
            frames[0].fields[0].values,
            FieldValues::String(vec![Some("cpu".into()), Some("mem".into())])
        );
        let cells = [Some(&Value::Null), Some(&json!("up")), None];
        assert_eq!(
            column_values(&cells),
            FieldValues::String(vec![None, Some("up".into()), None])
        );
    }
}
