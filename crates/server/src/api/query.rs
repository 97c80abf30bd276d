//! `POST /api/ds/query`: Grafana's query request in, Grafana's data-frame response out. Each query
//! resolves its datasource (by uid, name, id, a `${variable}`, or the org default), and all queries
//! of a request run concurrently through the engine, each under the query timeout; a failing query
//! marks only its own result.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use pharos_datasource::{CacheOutcome, DataSource, QueryError, QueryItem, QueryOutcome};
use pharos_store::now_ms;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::Viewer;
use crate::datasources;
use crate::error::{ApiError, ApiResult};
use crate::json::{accepts_gzip, JsonBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/ds/query", post(query))
        .route("/api/ds/variable-options", post(variable_options))
}

/// The request body, as Grafana's frontend and API clients send it.
#[derive(Deserialize)]
struct QueryRequest {
    #[serde(default)]
    from: Option<Value>,
    #[serde(default)]
    to: Option<Value>,
    #[serde(default)]
    queries: Vec<Map<String, Value>>,
    /// Pharos' addition: dashboard variables to interpolate server-side (`$var`, `${var:csv}`,
    /// datasource variables in `datasource.uid`). A value is a string or a list of strings.
    #[serde(default)]
    variables: Option<Map<String, Value>>,
}

/// Grafana's default when a request names no range.
const DEFAULT_FROM: &str = "now-6h";
const DEFAULT_TO: &str = "now";
/// Most queries one request may carry (a dashboard sends one request per panel).
const MAX_QUERIES: usize = 100;

fn time_text(v: &Option<Value>, default: &str) -> Result<String, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(default.to_string()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(default.to_string()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(ApiError::bad_request(format!(
            "from/to must be a string such as \"now-6h\" or epoch milliseconds, got {other}"
        ))),
    }
}

/// One query after its datasource has been resolved.
struct Resolved {
    ref_id: String,
    datasource: Arc<DataSource>,
    item: QueryItem,
}

async fn query(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    headers: HeaderMap,
    JsonBody(request): JsonBody<QueryRequest>,
) -> ApiResult<Response> {
    if request.queries.is_empty() {
        return Err(ApiError::bad_request("the request has no queries"));
    }
    if request.queries.len() > MAX_QUERIES {
        return Err(ApiError::bad_request(format!(
            "a request may carry at most {MAX_QUERIES} queries"
        )));
    }
    let now = now_ms();
    let from = time_text(&request.from, DEFAULT_FROM)?;
    let to = time_text(&request.to, DEFAULT_TO)?;
    let range = pharos_datasource::time_range::parse_range(&from, &to, now)
        .map_err(ApiError::bad_request)?;
    let variables =
        variables_from_json(request.variables.as_ref()).map_err(ApiError::bad_request)?;

    let mut resolved = Vec::with_capacity(request.queries.len());
    for (index, model) in request.queries.into_iter().enumerate() {
        resolved.push(resolve(&state, who.org_id, index, model, &variables).await?);
    }
    if let Some(dup) = duplicate_ref_id(&resolved) {
        return Err(ApiError::bad_request(format!(
            "two queries have refId {dup:?}: refIds must be unique within a request"
        )));
    }

    let no_cache = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|d| matches!(d.trim(), "no-cache" | "no-store"))
        });
    let runs = resolved.iter().map(|q| {
        let engine = &state.engine;
        async move {
            engine
                .query(&q.datasource, &q.item, range, now, no_cache)
                .await
        }
    });
    let outcomes = futures_util::future::join_all(runs).await;

    let failed = outcomes.iter().any(Result::is_err);
    let cache = summarize_cache(&outcomes);
    let body = serde_json::to_vec(&Results {
        queries: &resolved,
        outcomes: &outcomes,
    })
    .map_err(|e| {
        tracing::error!(error = %e, "encoding query results");
        ApiError::internal()
    })?;
    let status = if failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(encode(status, body, &headers, cache))
}

/// `POST /api/ds/variable-options` (Pharos' own): the options of a query variable, resolved on
/// the server so the UI and API clients need no per-source code. Grafana's frontend does this in
/// the browser through the datasource proxy; the rules (query functions, regex, sort) are the same.
#[derive(Deserialize)]
struct VariableRequest {
    #[serde(default)]
    datasource: Option<Value>,
    query: Value,
    #[serde(default)]
    regex: String,
    #[serde(default)]
    sort: Value,
    #[serde(default)]
    from: Option<Value>,
    #[serde(default)]
    to: Option<Value>,
    #[serde(default)]
    variables: Option<Map<String, Value>>,
}

#[derive(Serialize)]
struct VariableOptions {
    options: Vec<pharos_datasource::variables::VariableOption>,
}

async fn variable_options(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    JsonBody(request): JsonBody<VariableRequest>,
) -> ApiResult<axum::Json<VariableOptions>> {
    let range = pharos_datasource::time_range::parse_range(
        &time_text(&request.from, DEFAULT_FROM)?,
        &time_text(&request.to, DEFAULT_TO)?,
        now_ms(),
    )
    .map_err(ApiError::bad_request)?;
    let variables =
        variables_from_json(request.variables.as_ref()).map_err(ApiError::bad_request)?;
    let text = match &request.query {
        Value::String(s) => s.clone(),
        Value::Object(o) => match o.get("query") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(ApiError::bad_request(
                    "query must be a string or {\"query\": \"...\"}",
                ))
            }
        },
        _ => {
            return Err(ApiError::bad_request(
                "query must be a string or {\"query\": \"...\"}",
            ))
        }
    };
    let mut model = Map::new();
    if let Some(ds) = request.datasource {
        model.insert("datasource".into(), ds);
    }
    let datasource = resolve_datasource(&state, who.org_id, &model, &variables).await?;
    let text = pharos_datasource::template::interpolate(
        &text,
        &variables,
        default_format(&datasource.kind),
    );
    let sort = pharos_datasource::variables::VariableSort::from_json(&request.sort);
    let options = state
        .engine
        .variable_options(&datasource, &text, &request.regex, sort, range)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY),
                e.to_string(),
            )
        })?;
    Ok(axum::Json(VariableOptions { options }))
}

/// `X-Cache` for the whole answer: HIT when every query came from the cache (or shared a request
/// in flight), BYPASS when the client skipped it, MISS otherwise.
fn summarize_cache(outcomes: &[QueryOutcome]) -> &'static str {
    let mut all_hit = true;
    for outcome in outcomes {
        match outcome {
            Ok((_, CacheOutcome::Hit | CacheOutcome::Coalesced)) => {}
            Ok((_, CacheOutcome::Bypass)) => return "BYPASS",
            _ => all_hit = false,
        }
    }
    if all_hit {
        "HIT"
    } else {
        "MISS"
    }
}

/// Answers in gzip when the client accepts it and the body is big enough to gain from it.
fn encode(status: StatusCode, body: Vec<u8>, headers: &HeaderMap, cache: &'static str) -> Response {
    let cache = (
        header::HeaderName::from_static("x-cache"),
        HeaderValue::from_static(cache),
    );
    if body.len() > 8 * 1024 && accepts_gzip(headers) {
        if let Some(gzip) = crate::json::gzip(&body, flate2::Compression::fast()) {
            return (
                status,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
                    (header::VARY, HeaderValue::from_static("Accept-Encoding")),
                    cache,
                ],
                gzip,
            )
                .into_response();
        }
    }
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::VARY, HeaderValue::from_static("Accept-Encoding")),
            cache,
        ],
        body,
    )
        .into_response()
}

fn duplicate_ref_id(queries: &[Resolved]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    queries
        .iter()
        .map(|q| q.ref_id.as_str())
        .find(|id| !seen.insert(*id))
}

/// The datasource a query names, with its variables interpolated.
async fn resolve(
    state: &AppState,
    org_id: i64,
    index: usize,
    mut model: Map<String, Value>,
    variables: &pharos_datasource::template::Variables,
) -> ApiResult<Resolved> {
    let ref_id = match model.get("refId") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        // Grafana names unnamed queries A, B, C... by position.
        _ => ref_id_for(index),
    };
    let datasource = resolve_datasource(state, org_id, &model, variables).await?;
    if !variables.is_empty() {
        let format = default_format(&datasource.kind);
        for (key, value) in model.iter_mut() {
            if key == "refId" || key == "datasource" {
                continue;
            }
            if let Value::String(text) = value {
                if text.contains('$') || text.contains("[[") {
                    *text = pharos_datasource::template::interpolate(text, variables, format);
                }
            }
        }
    }
    let int = |key: &str| {
        model
            .get(key)
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
            .map(|f| f as i64)
            .unwrap_or(0)
    };
    let item = QueryItem {
        ref_id: ref_id.clone(),
        interval_ms: int("intervalMs"),
        max_data_points: int("maxDataPoints"),
        model,
    };
    Ok(Resolved {
        ref_id,
        datasource,
        item,
    })
}

fn ref_id_for(index: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if index < letters.len() {
        (letters[index] as char).to_string()
    } else {
        format!("Q{index}")
    }
}

/// Grafana's special datasource uids that name no real source.
const MIXED: &str = "-- Mixed --";

async fn resolve_datasource(
    state: &AppState,
    org_id: i64,
    model: &Map<String, Value>,
    variables: &pharos_datasource::template::Variables,
) -> ApiResult<Arc<DataSource>> {
    let (kind, reference) = match model.get("datasource") {
        Some(Value::Object(ds)) => (
            ds.get("type").and_then(Value::as_str).map(str::to_string),
            ds.get("uid").and_then(Value::as_str).map(str::to_string),
        ),
        Some(Value::String(name)) => (None, Some(name.clone())),
        _ => (None, None),
    };
    if kind.as_deref() == Some("__expr__") || reference.as_deref() == Some("__expr__") {
        return Err(ApiError::bad_request(
            "server-side expressions (__expr__) are not supported yet",
        ));
    }
    let reference = reference
        .map(|r| {
            if r.contains('$') || r.contains("[[") {
                pharos_datasource::template::interpolate(
                    &r,
                    variables,
                    pharos_datasource::template::DefaultFormat::Glob,
                )
            } else {
                r
            }
        })
        .filter(|r| !r.is_empty() && r != MIXED && r != "default");
    let kind = kind.filter(|k| k != "datasource" && !k.contains('$'));

    let found = match &reference {
        // A datasource variable nobody set: Grafana picks the default of the variable's type.
        Some(r) if r.contains('$') || r.contains("[[") => {
            datasources::default_for(state, org_id, kind.as_deref()).await?
        }
        Some(r) => match datasources::by_uid(state, org_id, r).await? {
            Some(ds) => Some(ds),
            None => datasources::by_name(state, org_id, r).await?,
        },
        None => match model.get("datasourceId").and_then(Value::as_i64) {
            Some(id) => datasources::by_id(state, org_id, id).await?,
            None => datasources::default_for(state, org_id, kind.as_deref()).await?,
        },
    };
    found.map(Arc::new).ok_or_else(|| {
        ApiError::not_found(match &reference {
            Some(r) => format!("Data source not found: {r}"),
            None => "Data source not found: the request names none and the org has no default"
                .to_string(),
        })
    })
}

/// `{"results": {refId: {"status", "frames", "error"?}}}` in request order.
struct Results<'a> {
    queries: &'a [Resolved],
    outcomes: &'a [QueryOutcome],
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut outer = s.serialize_map(Some(1))?;
        outer.serialize_entry("results", &ResultMap(self))?;
        outer.end()
    }
}

struct ResultMap<'a>(&'a Results<'a>);

impl Serialize for ResultMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.queries.len()))?;
        for (query, outcome) in self.0.queries.iter().zip(self.0.outcomes) {
            map.serialize_entry(&query.ref_id, &OneResult { query, outcome })?;
        }
        map.end()
    }
}

struct OneResult<'a> {
    query: &'a Resolved,
    outcome: &'a QueryOutcome,
}

impl Serialize for OneResult<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match self.outcome {
            Ok((frames, _)) => {
                map.serialize_entry("status", &200)?;
                let encoded: Vec<_> = frames
                    .iter()
                    .map(|f| f.encode(&self.query.ref_id))
                    .collect();
                map.serialize_entry("frames", &encoded)?;
            }
            Err(e) => {
                map.serialize_entry("error", &e.to_string())?;
                // Grafana marks whose fault it was: the source's or the request's.
                let source = match e {
                    QueryError::BadQuery(_) | QueryError::NotFound(_) => "plugin",
                    QueryError::Upstream(_) | QueryError::Timeout(_) => "downstream",
                };
                map.serialize_entry("errorSource", source)?;
                map.serialize_entry("status", &e.status())?;
                map.serialize_entry("frames", &[(); 0])?;
            }
        }
        map.end()
    }
}

/// The request's `variables` as the template engine takes them: a string is one value, a list of
/// strings a multi-value selection, `"$__all"` (or `["$__all"]`) the All option with the given
/// `allValue`-less expansion left to the client (Pharos has no option list here).
fn variables_from_json(
    json: Option<&Map<String, Value>>,
) -> Result<pharos_datasource::template::Variables, String> {
    use pharos_datasource::template::VariableValue;
    let mut out = pharos_datasource::template::Variables::new();
    for (name, value) in json.into_iter().flatten() {
        let value = match value {
            Value::String(s) => VariableValue::single(s.clone()),
            Value::Number(n) => VariableValue::single(n.to_string()),
            Value::Bool(b) => VariableValue::single(b.to_string()),
            Value::Array(items) => {
                let values = items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        other => Err(format!(
                            "variable {name:?}: values must be strings or numbers, got {other}"
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                VariableValue::multi(values)
            }
            other => {
                return Err(format!(
                    "variable {name:?}: expected a string or a list of strings, got {other}"
                ))
            }
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// How a datasource kind writes variables by default (Prometheus and InfluxQL regex-escape
/// multi-value selections into `(a|b)`).
fn default_format(kind: &str) -> pharos_datasource::template::DefaultFormat {
    use pharos_datasource::template::DefaultFormat;
    match kind {
        "prometheus" => DefaultFormat::Prometheus,
        "influxdb" => DefaultFormat::InfluxQl,
        _ => DefaultFormat::Glob,
    }
}
