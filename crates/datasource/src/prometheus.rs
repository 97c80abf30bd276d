//! Prometheus: range and instant queries over its HTTP API, with Grafana's step calculation,
//! built-in variables, time alignment and legend formatting.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::frame::{Field, FieldValues, Frame};
use crate::interval::{self, PrometheusStepInput};
use crate::model::{DataSource, QueryError, QueryItem, TimeRange};
use crate::source::{BoxFuture, Prepared, Source, Upstream};
use crate::variables::{self, PrometheusVariableQuery, VariableOption};

pub struct Prometheus;

/// What a Prometheus query will ask, decided by `prepare`.
#[derive(Debug, Clone, PartialEq)]
pub struct PromPlan {
    /// The expression with the built-in variables substituted.
    pub expr: String,
    /// Aligned start and end, epoch ms.
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
    pub range: bool,
    pub instant: bool,
    pub legend: Option<String>,
    pub table: bool,
    pub post: bool,
}

impl Source for Prometheus {
    fn prepare(
        &self,
        ds: &DataSource,
        query: &QueryItem,
        range: TimeRange,
    ) -> Result<Prepared, QueryError> {
        let plan = plan(ds, query, range)?;
        let key = format!(
            "prom\u{1f}{}{}{}{}\u{1f}{}\u{1f}{}",
            u8::from(plan.range),
            u8::from(plan.instant),
            u8::from(plan.table),
            u8::from(plan.post),
            plan.legend.as_deref().unwrap_or("\u{0}"),
            plan.expr
        );
        Ok(Prepared {
            key,
            range: TimeRange {
                from_ms: plan.start_ms,
                to_ms: plan.end_ms,
            },
            step_ms: plan.step_ms,
            cacheable: true,
            plan: Box::new(plan),
        })
    }

    fn execute<'a>(
        &'a self,
        upstream: &'a Upstream,
        _ds: &'a DataSource,
        prepared: &'a Prepared,
    ) -> BoxFuture<'a, Result<Vec<Frame>, QueryError>> {
        Box::pin(async move {
            let plan: &PromPlan = prepared.plan()?;
            if plan.expr.trim().is_empty() {
                return Ok(Vec::new());
            }
            let mut frames = Vec::new();
            if plan.range {
                let body = request(
                    upstream,
                    plan.post,
                    "api/v1/query_range",
                    &[
                        ("query", plan.expr.clone()),
                        ("start", seconds(plan.start_ms)),
                        ("end", seconds(plan.end_ms)),
                        ("step", seconds(plan.step_ms)),
                    ],
                )
                .await?;
                frames.extend(to_frames(&body, plan)?);
            }
            if plan.instant {
                let body = request(
                    upstream,
                    plan.post,
                    "api/v1/query",
                    &[("query", plan.expr.clone()), ("time", seconds(plan.end_ms))],
                )
                .await?;
                frames.extend(to_frames(&body, plan)?);
            }
            Ok(frames)
        })
    }

    fn variable_options<'a>(
        &'a self,
        upstream: &'a Upstream,
        ds: &'a DataSource,
        query: &'a str,
        range: TimeRange,
    ) -> BoxFuture<'a, Result<Vec<VariableOption>, QueryError>> {
        Box::pin(async move {
            let parsed = PrometheusVariableQuery::parse(query).map_err(QueryError::BadQuery)?;
            let values = variable_values(upstream, http_method_is_post(ds), &parsed, range).await?;
            Ok(values.into_iter().map(VariableOption::from_value).collect())
        })
    }

    fn health<'a>(
        &'a self,
        upstream: &'a Upstream,
        ds: &'a DataSource,
    ) -> BoxFuture<'a, Result<String, QueryError>> {
        Box::pin(async move {
            let post = http_method_is_post(ds);
            let body = request(upstream, post, "api/v1/query", &[("query", "1+1".into())]).await?;
            parse_answer(&body)?;
            Ok("Successfully queried the Prometheus API.".into())
        })
    }
}

fn http_method_is_post(ds: &DataSource) -> bool {
    // Grafana's default has been POST since 8.x; GET is for servers that refuse POST.
    !ds.json_str("httpMethod")
        .is_some_and(|m| m.eq_ignore_ascii_case("GET"))
}

/// Decides the upstream request(s) of one query, as Grafana's Prometheus backend does.
pub fn plan(ds: &DataSource, query: &QueryItem, range: TimeRange) -> Result<PromPlan, QueryError> {
    let scrape = ds.json_str("timeInterval");
    let query_interval = query.str("interval").filter(|s| !s.trim().is_empty());
    let step_ms = interval::prometheus_step(
        range,
        &PrometheusStepInput {
            query_interval,
            interval_ms: query.interval_ms,
            interval_factor: query.f64("intervalFactor").unwrap_or(1.0) as i64,
            max_data_points: query.max_data_points,
            scrape_interval: scrape,
        },
    )
    .map_err(|e| QueryError::BadQuery(format!("query {}: {e}", query.ref_id)))?
    .max(1);
    // Grafana's safe interval is rounded to a "nice" value, which can still leave more than
    // 11,000 points (10 years → 6 h steps → 14,600 points) and Prometheus then refuses the query.
    // Widen such steps just enough to fit.
    let max_points = interval::PROMETHEUS_SAFE_RESOLUTION;
    let step_ms = if range.duration_ms() / step_ms > max_points {
        (range.duration_ms() + max_points - 1) / max_points
    } else {
        step_ms
    };

    // Grafana's request defaults `intervalMs` to one second when the client sent none.
    let request_interval_ms = if query.interval_ms > 0 {
        query.interval_ms
    } else {
        1000
    };
    let expr = interpolate_builtins(
        query.str("expr").unwrap_or(""),
        &Builtins {
            step_ms,
            request_interval_ms,
            query_interval,
            scrape_interval: scrape,
            range,
        },
    );
    let offset = query.f64("utcOffsetSec").unwrap_or(0.0) as i64;
    let instant = query.bool("instant").unwrap_or(false);
    // A query that names neither is a range query; one that names both runs both.
    let range_query = query.bool("range").unwrap_or(!instant);
    let legend = query
        .str("legendFormat")
        .filter(|l| !l.is_empty() && *l != "__auto")
        .map(str::to_string);
    Ok(PromPlan {
        expr,
        start_ms: interval::align(range.from_ms, step_ms, offset),
        end_ms: interval::align(range.to_ms, step_ms, offset),
        step_ms,
        range: range_query,
        instant,
        legend,
        table: query.str("format") == Some("table"),
        post: http_method_is_post(ds),
    })
}

/// The values behind Grafana's built-in variables for one query.
pub struct Builtins<'a> {
    /// The calculated step: `$__interval`.
    pub step_ms: i64,
    /// The request's `intervalMs` (default 1 s): the base of `$__rate_interval`.
    pub request_interval_ms: i64,
    /// The query's own `interval` ("min step"), if any.
    pub query_interval: Option<&'a str>,
    /// The datasource's scrape interval (`jsonData.timeInterval`).
    pub scrape_interval: Option<&'a str>,
    pub range: TimeRange,
}

/// Substitutes `$__interval`, `$__interval_ms`, `$__rate_interval`, `$__rate_interval_ms`,
/// `$__range`, `$__range_s`, `$__range_ms`, `$__from`, `$__to` (each also as `${...}`), with
/// Grafana's values and formats (`$__interval` as `1m`, `$__rate_interval` as Go writes durations).
pub fn interpolate_builtins(expr: &str, b: &Builtins) -> String {
    if !expr.contains('$') {
        return expr.to_string();
    }
    let range_ms = b.range.duration_ms();
    let range_s = (range_ms as f64 / 1000.0).round() as i64;
    let rate_interval_ms = match b.query_interval.map(str::trim) {
        Some("$__rate_interval") | Some("${__rate_interval}") => b.step_ms,
        other => {
            let min_step = match other {
                Some("$__interval") | Some("${__interval}") => {
                    Some(interval::go_duration(b.step_ms))
                }
                Some(s) => Some(s.to_string()),
                None => None,
            };
            let scrape = min_step.as_deref().or(b.scrape_interval);
            interval::rate_interval(b.request_interval_ms, scrape)
        }
    };
    // Longer names first, so `$__interval` does not eat the front of `$__interval_ms`.
    let values: [(&str, String); 9] = [
        ("__interval_ms", b.step_ms.to_string()),
        ("__interval", interval::format_interval(b.step_ms)),
        ("__rate_interval_ms", rate_interval_ms.to_string()),
        ("__rate_interval", interval::go_duration(rate_interval_ms)),
        ("__range_ms", range_ms.to_string()),
        ("__range_s", range_s.to_string()),
        ("__range", format!("{range_s}s")),
        ("__from", b.range.from_ms.to_string()),
        ("__to", b.range.to_ms.to_string()),
    ];
    let mut out = expr.to_string();
    for (name, value) in &values {
        out = out.replace(&format!("${{{name}}}"), value);
        out = out.replace(&format!("${name}"), value);
    }
    out
}

/// Runs a variable query against Prometheus' metadata and query APIs over `range`.
async fn variable_values(
    upstream: &Upstream,
    post: bool,
    query: &PrometheusVariableQuery,
    range: TimeRange,
) -> Result<Vec<String>, QueryError> {
    let window = [
        ("start", seconds(range.from_ms)),
        ("end", seconds(range.to_ms)),
    ];
    let with_window = |extra: Vec<(&'static str, String)>| {
        let mut params: Vec<(&str, String)> = window.to_vec();
        params.extend(extra);
        params
    };
    let data = |body: bytes::Bytes| -> Result<Value, QueryError> {
        let answer: Value = serde_json::from_slice(&body).map_err(|e| {
            QueryError::Upstream(format!("Prometheus sent an answer Pharos cannot read: {e}"))
        })?;
        if answer["status"] != "success" {
            return Err(QueryError::BadQuery(
                answer["error"]
                    .as_str()
                    .unwrap_or("Prometheus reported an error")
                    .to_string(),
            ));
        }
        Ok(answer["data"].clone())
    };
    let strings = |v: Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    match query {
        PrometheusVariableQuery::LabelNames { matching } => {
            let extra = matching
                .iter()
                .map(|m| ("match[]", variables::label_names_selector(m)))
                .collect();
            let body = request(upstream, post, "api/v1/labels", &with_window(extra)).await?;
            Ok(strings(data(body)?))
        }
        PrometheusVariableQuery::LabelValues { label, selector } => {
            let extra = selector.iter().map(|s| ("match[]", s.clone())).collect();
            // Label values are read with GET: the endpoint takes no form body.
            let path = format!("api/v1/label/{}/values", label.trim());
            let body = request(upstream, false, &path, &with_window(extra)).await?;
            Ok(strings(data(body)?))
        }
        PrometheusVariableQuery::Metrics { pattern } => {
            let body = request(upstream, false, "api/v1/label/__name__/values", &window).await?;
            variables::filter_metric_names(&strings(data(body)?), pattern)
                .map_err(QueryError::BadQuery)
        }
        PrometheusVariableQuery::QueryResult { expr } => {
            let params = [("query", expr.clone()), ("time", seconds(range.to_ms))];
            let body = request(upstream, post, "api/v1/query", &params).await?;
            variables::query_result_texts(&data(body)?).map_err(QueryError::BadQuery)
        }
        PrometheusVariableQuery::Series { selector } => {
            let extra = vec![("match[]", selector.clone())];
            let body = request(upstream, post, "api/v1/series", &with_window(extra)).await?;
            Ok(variables::series_texts(&data(body)?))
        }
    }
}

/// Prometheus takes times and steps as (fractional) seconds.
fn seconds(ms: i64) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
    }
}

async fn request(
    upstream: &Upstream,
    post: bool,
    path: &str,
    params: &[(&str, String)],
) -> Result<bytes::Bytes, QueryError> {
    let url = upstream.url(path)?;
    let builder = if post {
        upstream.client.post(url).form(params)
    } else {
        upstream.client.get(url).query(params)
    };
    let (status, body) = upstream.send(builder).await?;
    if status.is_success() {
        return Ok(body);
    }
    // Prometheus explains failures in a JSON body: bad_data (400) and execution errors (422) are
    // the query's fault; anything else is the server's.
    let message = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&body);
            format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            )
        });
    if status.as_u16() == 400 || status.as_u16() == 422 {
        Err(QueryError::BadQuery(message))
    } else {
        Err(QueryError::Upstream(format!(
            "Prometheus answered HTTP {}: {message}",
            status.as_u16()
        )))
    }
}

#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(default, borrow)]
    error: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    data: Option<AnswerData<'a>>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum AnswerData<'a> {
    Matrix(#[serde(borrow)] Vec<MatrixSeries<'a>>),
    Vector(#[serde(borrow)] Vec<VectorSample<'a>>),
    Scalar(Sample),
    /// A string result carries no numbers to chart.
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct MatrixSeries<'a> {
    #[serde(borrow)]
    metric: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    #[serde(default)]
    values: Samples,
}

#[derive(Deserialize)]
struct VectorSample<'a> {
    #[serde(borrow)]
    metric: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    value: Sample,
}

/// A series' `[[time, "value"], ...]`, read straight into the two columns a frame needs: the hot
/// path of every query, so no intermediate pairs or strings are allocated.
#[derive(Default)]
struct Samples {
    times: Vec<i64>,
    values: Vec<Option<f64>>,
}

impl<'de> Deserialize<'de> for Samples {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Samples, D::Error> {
        struct Columns;
        impl<'de> serde::de::Visitor<'de> for Columns {
            type Value = Samples;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of [time, \"value\"] pairs")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Samples, A::Error> {
                let n = seq.size_hint().unwrap_or(0);
                let mut out = Samples {
                    times: Vec::with_capacity(n),
                    values: Vec::with_capacity(n),
                };
                while let Some(Sample(t, v)) = seq.next_element()? {
                    out.times.push(t);
                    out.values.push(v);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Columns)
    }
}

/// One `[time, "value"]`: time in epoch ms, the value parsed (`NaN`, `+Inf` included), None when
/// it is not a number.
struct Sample(i64, Option<f64>);

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sample, D::Error> {
        struct Pair;
        impl<'de> serde::de::Visitor<'de> for Pair {
            type Value = Sample;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a [time, \"value\"] pair")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Sample, A::Error> {
                use serde::de::Error;
                let time: Timestamp = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let value: SampleValue = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                Ok(Sample(time.0, value.0))
            }
        }
        d.deserialize_seq(Pair)
    }
}

/// Prometheus' time in (fractional) seconds as epoch ms; whole seconds take the integer path.
struct Timestamp(i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        struct Seconds;
        impl serde::de::Visitor<'_> for Seconds {
            type Value = Timestamp;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a time in seconds")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Timestamp, E> {
                Ok(Timestamp((v as i64).saturating_mul(1000)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v.saturating_mul(1000)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Timestamp, E> {
                Ok(Timestamp(sample_time(v)))
            }
        }
        d.deserialize_any(Seconds)
    }
}

/// A sample value as Prometheus writes it, a string.
struct SampleValue(Option<f64>);

impl<'de> Deserialize<'de> for SampleValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SampleValue, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = SampleValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sample value as a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<SampleValue, E> {
                Ok(SampleValue(sample_value(v)))
            }
        }
        d.deserialize_str(Text)
    }
}

fn parse_answer(body: &[u8]) -> Result<Answer<'_>, QueryError> {
    let answer: Answer = serde_json::from_slice(body).map_err(|e| {
        QueryError::Upstream(format!("Prometheus sent an answer Pharos cannot read: {e}"))
    })?;
    if answer.status != "success" {
        return Err(QueryError::BadQuery(
            answer
                .error
                .map(Cow::into_owned)
                .unwrap_or_else(|| "Prometheus reported an error".into()),
        ));
    }
    Ok(answer)
}

fn sample_time(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

fn sample_value(v: &str) -> Option<f64> {
    v.parse().ok()
}

fn owned_labels(metric: BTreeMap<Cow<'_, str>, Cow<'_, str>>) -> BTreeMap<String, String> {
    metric
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// One series of an answer: labels, times, values.
type Series = (BTreeMap<String, String>, Vec<i64>, Vec<Option<f64>>);

/// Turns one Prometheus answer into frames: a frame per series (time series format), or one frame
/// with a column per label (table format).
pub fn to_frames(body: &[u8], plan: &PromPlan) -> Result<Vec<Frame>, QueryError> {
    let answer = parse_answer(body)?;
    let mut series: Vec<Series> = Vec::new();
    let result_type = match answer.data {
        None => return Ok(Vec::new()),
        Some(AnswerData::Matrix(list)) => {
            for s in list {
                series.push((owned_labels(s.metric), s.values.times, s.values.values));
            }
            "matrix"
        }
        Some(AnswerData::Vector(list)) => {
            for s in list {
                let Sample(t, v) = s.value;
                series.push((owned_labels(s.metric), vec![t], vec![v]));
            }
            "vector"
        }
        Some(AnswerData::Scalar(Sample(t, v))) => {
            series.push((BTreeMap::new(), vec![t], vec![v]));
            "scalar"
        }
        Some(AnswerData::String(..)) => return Ok(Vec::new()),
    };
    let executed = format!(
        "Expr: {}\nStep: {}",
        plan.expr,
        interval::go_duration(plan.step_ms)
    );
    if plan.table {
        return Ok(vec![table_frame(series, result_type, executed)]);
    }
    let frame_type = if result_type == "matrix" {
        "timeseries-multi"
    } else {
        "numeric-multi"
    };
    let meta = json!({
        "type": frame_type,
        "typeVersion": [0, 1],
        "custom": {"resultType": result_type},
        "executedQueryString": executed,
    });
    Ok(series
        .into_iter()
        .map(|(labels, times, values)| {
            let legend = plan.legend.as_deref().map(|l| format_legend(l, &labels));
            let mut value = Field::new("Value", FieldValues::Number(values)).with_labels(labels);
            if let Some(legend) = &legend {
                value = value.with_config("displayNameFromDS", json!(legend));
            }
            let mut time = Field::new("Time", FieldValues::Time(times));
            if result_type == "matrix" {
                time = time.with_config("interval", json!(plan.step_ms));
            }
            Frame {
                name: legend,
                meta: Some(meta.clone()),
                fields: vec![time, value],
            }
        })
        .collect())
}

/// Table format: Time, one column per label name (sorted), Value.
fn table_frame(series: Vec<Series>, result_type: &str, executed: String) -> Frame {
    let mut names: Vec<String> = series
        .iter()
        .flat_map(|(labels, _, _)| labels.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let mut times = Vec::new();
    let mut values = Vec::new();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    for (labels, ts, vs) in series {
        for (t, v) in ts.into_iter().zip(vs) {
            times.push(t);
            values.push(v);
            for (column, name) in columns.iter_mut().zip(&names) {
                column.push(labels.get(name).cloned());
            }
        }
    }
    let mut fields = vec![Field::new("Time", FieldValues::Time(times))];
    for (name, column) in names.into_iter().zip(columns) {
        fields.push(Field::new(name, FieldValues::String(column)));
    }
    fields.push(Field::new("Value", FieldValues::Number(values)));
    Frame {
        name: None,
        meta: Some(json!({
            "type": "numeric-long",
            "typeVersion": [0, 1],
            "custom": {"resultType": result_type},
            "executedQueryString": executed,
        })),
        fields,
    }
}

/// `{{label}}` (spaces allowed inside the braces) replaced by the series' label value, or by
/// nothing when the series lacks it, as Grafana's legend format does.
pub fn format_legend(format: &str, labels: &BTreeMap<String, String>) -> String {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| Regex::new(r"\{\{\s*(.+?)\s*\}\}").expect("valid regex"));
    pattern
        .replace_all(format, |caps: &regex::Captures| {
            labels.get(&caps[1]).cloned().unwrap_or_default()
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from_s: i64, to_s: i64) -> TimeRange {
        TimeRange {
            from_ms: from_s * 1000,
            to_ms: to_s * 1000,
        }
    }

    fn item(model: Value) -> QueryItem {
        QueryItem {
            ref_id: "A".into(),
            interval_ms: model["intervalMs"].as_i64().unwrap_or(0),
            max_data_points: model["maxDataPoints"].as_i64().unwrap_or(0),
            model: model.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn builtins_follow_grafana() {
        let b = Builtins {
            step_ms: 30_000,
            request_interval_ms: 30_000,
            query_interval: None,
            scrape_interval: Some("15s"),
            range: range(0, 3600),
        };
        assert_eq!(
            interpolate_builtins(
                "rate(x[$__rate_interval]) $__interval ${__interval_ms} $__range $__range_s $__range_ms",
                &b
            ),
            "rate(x[1m0s]) 30s 30000 3600s 3600 3600000"
        );
        // 4 × scrape wins over interval + scrape for short intervals.
        let b = Builtins {
            request_interval_ms: 1000,
            ..b
        };
        assert_eq!(interpolate_builtins("$__rate_interval", &b), "1m0s");
        let b = Builtins {
            request_interval_ms: 120_000,
            ..b
        };
        assert_eq!(interpolate_builtins("$__rate_interval_ms", &b), "135000");
        assert_eq!(interpolate_builtins("${__from}-$__to", &b), "0-3600000");
    }

    #[test]
    fn plan_aligns_range_to_step_and_caps_ten_years_at_safe_resolution() {
        let ds = DataSource::default();
        let p = plan(
            &ds,
            &item(json!({"expr": "up", "intervalMs": 15000, "maxDataPoints": 1000})),
            TimeRange {
                from_ms: 1_000_007,
                to_ms: 3_600_000 + 1_000_007,
            },
        )
        .unwrap();
        assert_eq!(p.step_ms, 15_000);
        assert_eq!(p.start_ms % 15_000, 0);
        assert_eq!(p.end_ms % 15_000, 0);
        assert!(p.start_ms <= 1_000_007 && p.end_ms <= 3_600_000 + 1_000_007);
        let ten_years = range(0, 10 * 365 * 86_400);
        let p = plan(
            &ds,
            &item(json!({"expr": "up", "intervalMs": 1, "maxDataPoints": 100000000})),
            ten_years,
        )
        .unwrap();
        assert!(
            ten_years.duration_ms() / p.step_ms <= interval::PROMETHEUS_SAFE_RESOLUTION,
            "step {} gives too many points",
            p.step_ms
        );
    }

    #[test]
    fn legend_format() {
        let labels: BTreeMap<String, String> = [("job".to_string(), "node".to_string())].into();
        assert_eq!(
            format_legend("{{job}} / {{ missing }}!", &labels),
            "node / !"
        );
    }

    #[test]
    fn matrix_answers_become_frames() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"a"},"values":[[1,"1"],[2,"NaN"],[3.5,"+Inf"]]}]}}"#;
        let p = PromPlan {
            expr: "up".into(),
            start_ms: 0,
            end_ms: 3000,
            step_ms: 1000,
            range: true,
            instant: false,
            legend: Some("{{job}}".into()),
            table: false,
            post: true,
        };
        let frames = to_frames(body, &p).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].name.as_deref(), Some("a"));
        assert_eq!(
            frames[0].fields[0].values,
            FieldValues::Time(vec![1000, 2000, 3500])
        );
        match &frames[0].fields[1].values {
            FieldValues::Number(v) => {
                assert_eq!(v[0], Some(1.0));
                assert!(v[1].unwrap().is_nan());
                assert_eq!(v[2], Some(f64::INFINITY));
            }
            other => panic!("{other:?}"),
        }
        let err = to_frames(br#"{"status":"error","error":"parse error"}"#, &p).unwrap_err();
        assert_eq!(err, QueryError::BadQuery("parse error".into()));
    }
}
