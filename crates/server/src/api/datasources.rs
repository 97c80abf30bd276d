//! `/api/datasources/...`: Grafana's datasource API (list, get, create, update, delete by uid,
//! name or legacy id), the "Save & test" health check and the datasource proxy.
//!
//! `secureJsonData` is encrypted before it reaches the store and never returned:
//! `secureJsonFields` names the fields that are set. On update, secure fields that are not sent
//! are kept, fields sent replace the stored ones, and a field sent empty is cleared.
//!
//! The proxy forwards only an allow-list of read endpoints (Prometheus' query, series, label and
//! metadata API; InfluxDB's `GET /query`, which InfluxDB limits to SELECT and SHOW, and `/ping`),
//! with the datasource's own credentials injected and nothing of the caller's (cookies,
//! `Authorization`) passed on.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pharos_datasource::{DataSource, QueryError};
use pharos_store::{
    DataSourceRef, DataSourceSettings, DataSourceUpdate, NewDataSource, StoreError,
    StoredDataSource,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::app_url;
use crate::auth::{OrgAdmin, Viewer};
use crate::datasources as resolver;
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::secrets::Secrets;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/datasources", get(list).post(create))
        .route(
            "/api/datasources/uid/{uid}",
            get(get_by_uid).put(update_by_uid).delete(delete_by_uid),
        )
        .route(
            "/api/datasources/name/{name}",
            get(get_by_name).delete(delete_by_name),
        )
        .route(
            "/api/datasources/{id}",
            get(get_by_id).put(update_by_id).delete(delete_by_id),
        )
        .route("/api/datasources/id/{name}", get(id_by_name))
        .route("/api/datasources/uid/{uid}/health", get(health_by_uid))
        .route("/api/datasources/{id}/health", get(health_by_id))
        .route(
            "/api/datasources/proxy/uid/{uid}/{*path}",
            get(proxy_by_uid).post(proxy_by_uid),
        )
        .route(
            "/api/datasources/proxy/{id}/{*path}",
            get(proxy_by_id).post(proxy_by_id),
        )
}

// ------------------------------------------------------------------ shapes

/// Grafana's display name of a plugin id (`typeName` in listings).
fn type_name(kind: &str) -> &str {
    match kind {
        "prometheus" => "Prometheus",
        "influxdb" => "InfluxDB",
        "grafana-testdata-datasource" | "testdata" => "TestData",
        other => other,
    }
}

fn json_data(d: &StoredDataSource) -> Value {
    match serde_json::from_str::<Value>(&d.json_data) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    }
}

/// The full object of `GET /api/datasources/uid/:uid` (and of create/update answers).
fn full_json(d: &StoredDataSource) -> Value {
    let secure_fields: Map<String, Value> = d
        .secure_json_data
        .keys()
        .map(|k| (k.clone(), Value::Bool(true)))
        .collect();
    json!({
        "id": d.id,
        "uid": d.uid,
        "orgId": d.org_id,
        "name": d.name,
        "type": d.kind,
        "typeLogoUrl": "",
        "access": d.access,
        "url": d.url,
        "user": d.user,
        "database": d.database,
        "basicAuth": d.basic_auth,
        "basicAuthUser": d.basic_auth_user,
        "withCredentials": d.with_credentials,
        "isDefault": d.is_default,
        "jsonData": json_data(d),
        "secureJsonFields": secure_fields,
        "version": d.version,
        "readOnly": d.read_only,
    })
}

/// One item of `GET /api/datasources`.
fn list_item(d: &StoredDataSource) -> Value {
    json!({
        "id": d.id,
        "uid": d.uid,
        "orgId": d.org_id,
        "name": d.name,
        "type": d.kind,
        "typeName": type_name(&d.kind),
        "typeLogoUrl": "",
        "access": d.access,
        "url": d.url,
        "user": d.user,
        "database": d.database,
        "basicAuth": d.basic_auth,
        "isDefault": d.is_default,
        "jsonData": json_data(d),
        "readOnly": d.read_only,
    })
}

fn not_found() -> ApiError {
    ApiError::not_found("Data source not found")
}

fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::NotFound => not_found(),
        StoreError::VersionMismatch => ApiError::conflict(
            "Datasource has already been updated by someone else. Please reload and try again",
        ),
        other => ApiError::from_store(other, "Data source"),
    }
}

/// Tells a uid clash from a name clash for the 409 message.
async fn conflict(state: &AppState, org_id: i64, uid: Option<&str>, own_id: i64) -> ApiError {
    let uid_taken = match uid.map(str::trim).filter(|u| !u.is_empty()) {
        Some(uid) => state
            .store
            .datasource(org_id, &DataSourceRef::Uid(uid.to_string()))
            .await
            .is_ok_and(|d| d.id != own_id),
        None => false,
    };
    if uid_taken {
        ApiError::conflict("data source with the same uid already exists")
    } else {
        ApiError::conflict("data source with the same name already exists")
    }
}

// ------------------------------------------------------------------ input

/// The body of `POST /api/datasources` and `PUT /api/datasources/...`. Fields Grafana's own
/// answers carry (`id`, `orgId`, `typeLogoUrl`, `readOnly`, ...) are accepted and ignored, so a
/// GET answer can be sent back as a PUT.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DataSourceBody {
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    access: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    database: String,
    #[serde(default)]
    basic_auth: bool,
    #[serde(default)]
    basic_auth_user: String,
    #[serde(default)]
    with_credentials: bool,
    #[serde(default)]
    is_default: bool,
    #[serde(default)]
    json_data: Option<Value>,
    #[serde(default)]
    secure_json_data: Option<BTreeMap<String, Option<String>>>,
    uid: Option<String>,
    version: Option<i64>,
    /// Legacy plaintext fields: taken as `secureJsonData.password` / `.basicAuthPassword`.
    password: Option<String>,
    basic_auth_password: Option<String>,
}

/// The plugin ids Pharos may know, to name the supported ones in a refusal.
const KNOWN_KINDS: [&str; 4] = [
    "prometheus",
    "influxdb",
    "grafana-testdata-datasource",
    "testdata",
];

fn check_kind(state: &AppState, kind: &str) -> ApiResult<()> {
    if state.engine.supports(kind) {
        return Ok(());
    }
    let supported: Vec<&str> = KNOWN_KINDS
        .into_iter()
        .filter(|k| state.engine.supports(k))
        .collect();
    Err(ApiError::bad_request(format!(
        "Pharos cannot query data sources of type {kind:?}; supported types: {}",
        supported.join(", ")
    )))
}

/// A Prometheus or InfluxDB URL must be an absolute http(s) URL. An empty one is allowed (Grafana's
/// UI creates a datasource first and fills in its URL after); health checks then say what is
/// missing.
fn check_url(kind: &str, url: &str) -> ApiResult<()> {
    if !matches!(kind, "prometheus" | "influxdb") || url.trim().is_empty() {
        return Ok(());
    }
    match url::Url::parse(url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "Invalid URL {url:?}: a {kind} data source needs an http:// or https:// URL"
        ))),
    }
}

impl DataSourceBody {
    /// Checks the body and turns it into store settings; `existing` fills `type` when a PUT
    /// leaves it out.
    fn settings(
        &self,
        state: &AppState,
        existing: Option<&StoredDataSource>,
    ) -> ApiResult<DataSourceSettings> {
        let kind = match (self.kind.trim(), existing) {
            ("", Some(d)) => d.kind.clone(),
            ("", None) => return Err(ApiError::bad_request("Type is required")),
            (k, _) => k.to_string(),
        };
        if self.name.trim().is_empty() {
            return Err(ApiError::bad_request("Name is required"));
        }
        check_kind(state, &kind)?;
        check_url(&kind, &self.url)?;
        let access = match self.access.trim() {
            "" => "proxy",
            a @ ("proxy" | "direct") => a,
            other => {
                return Err(ApiError::bad_request(format!(
                    "Invalid access {other:?}: use \"proxy\" or \"direct\""
                )))
            }
        };
        let json_data = match &self.json_data {
            None | Some(Value::Null) => "{}".to_string(),
            Some(v @ Value::Object(_)) => v.to_string(),
            Some(_) => return Err(ApiError::bad_request("jsonData must be a JSON object")),
        };
        Ok(DataSourceSettings {
            name: self.name.trim().to_string(),
            kind,
            access: access.to_string(),
            url: self.url.trim().to_string(),
            user: self.user.clone(),
            database: self.database.clone(),
            basic_auth: self.basic_auth,
            basic_auth_user: self.basic_auth_user.clone(),
            with_credentials: self.with_credentials,
            is_default: self.is_default,
            json_data,
            read_only: existing.is_some_and(|d| d.read_only),
        })
    }

    /// The secure fields sent: field → value (empty or null means "clear"), the legacy
    /// top-level `password` and `basicAuthPassword` included.
    fn secure_sent(&self) -> ApiResult<BTreeMap<String, String>> {
        let mut sent: BTreeMap<String, String> = self
            .secure_json_data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
            .collect();
        for (field, legacy) in [
            ("password", &self.password),
            ("basicAuthPassword", &self.basic_auth_password),
        ] {
            if let Some(value) = legacy.as_ref().filter(|v| !v.is_empty()) {
                sent.entry(field.to_string())
                    .or_insert_with(|| value.clone());
            }
        }
        if let Some(bad) = sent.keys().find(|k| k.trim().is_empty() || k.len() > 100) {
            return Err(ApiError::bad_request(format!(
                "Invalid secureJsonData field name {bad:?}"
            )));
        }
        Ok(sent)
    }
}

fn encrypt(secrets: &Secrets, field: &str, value: &str) -> ApiResult<String> {
    secrets.encrypt(field, value).map_err(|e| {
        tracing::error!(error = %e, "encrypting a datasource secret failed");
        ApiError::internal()
    })
}

// ------------------------------------------------------------------ CRUD

/// `GET /api/datasources`
async fn list(State(state): State<AppState>, OrgAdmin(who): OrgAdmin) -> ApiResult<Json<Value>> {
    let all = state
        .store
        .list_datasources(who.org_id)
        .await
        .map_err(store_error)?;
    Ok(Json(Value::Array(all.iter().map(list_item).collect())))
}

async fn fetch(state: &AppState, org_id: i64, at: DataSourceRef) -> ApiResult<StoredDataSource> {
    state
        .store
        .datasource(org_id, &at)
        .await
        .map_err(store_error)
}

/// `GET /api/datasources/uid/:uid`
async fn get_by_uid(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = fetch(&state, who.org_id, DataSourceRef::Uid(uid)).await?;
    Ok(Json(full_json(&d)))
}

/// `GET /api/datasources/name/:name`
async fn get_by_name(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = fetch(&state, who.org_id, DataSourceRef::Name(name)).await?;
    Ok(Json(full_json(&d)))
}

/// `GET /api/datasources/:id` (legacy)
async fn get_by_id(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let d = fetch(&state, who.org_id, DataSourceRef::Id(id)).await?;
    Ok(Json(full_json(&d)))
}

/// `GET /api/datasources/id/:name` → `{"id": N}`
async fn id_by_name(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = fetch(&state, who.org_id, DataSourceRef::Name(name)).await?;
    Ok(Json(json!({"id": d.id})))
}

/// `POST /api/datasources`
async fn create(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    JsonBody(body): JsonBody<DataSourceBody>,
) -> ApiResult<Json<Value>> {
    let settings = body.settings(&state, None)?;
    let secrets = Secrets::from_config(&state.config);
    let mut secure = BTreeMap::new();
    for (field, value) in body.secure_sent()? {
        if !value.is_empty() {
            let sealed = encrypt(&secrets, &field, &value)?;
            secure.insert(field, sealed);
        }
    }
    let new = NewDataSource {
        uid: body.uid.clone(),
        settings,
        secure_json_data: secure,
    };
    match state.store.create_datasource(who.org_id, new).await {
        Ok(d) => {
            tracing::info!(datasource = %d.uid, kind = %d.kind, by = %who.login, "datasource added");
            Ok(Json(json!({
                "datasource": full_json(&d),
                "id": d.id,
                "message": "Datasource added",
                "name": d.name,
            })))
        }
        Err(StoreError::AlreadyExists) => {
            Err(conflict(&state, who.org_id, body.uid.as_deref(), 0).await)
        }
        Err(e) => Err(store_error(e)),
    }
}

async fn update(
    state: AppState,
    org_id: i64,
    at: DataSourceRef,
    body: DataSourceBody,
) -> ApiResult<Json<Value>> {
    let current = fetch(&state, org_id, at).await?;
    if current.read_only {
        return Err(ApiError::forbidden(
            "Cannot update read-only data source (it is provisioned)",
        ));
    }
    let settings = body.settings(&state, Some(&current))?;
    let secrets = Secrets::from_config(&state.config);
    let mut secure_changes = BTreeMap::new();
    for (field, value) in body.secure_sent()? {
        let change = if value.is_empty() {
            None
        } else {
            Some(encrypt(&secrets, &field, &value)?)
        };
        secure_changes.insert(field, change);
    }
    let change = DataSourceUpdate {
        uid: body.uid.clone(),
        settings,
        secure_changes,
        version: body.version,
    };
    match state
        .store
        .update_datasource(org_id, &DataSourceRef::Id(current.id), change)
        .await
    {
        Ok(d) => Ok(Json(json!({
            "datasource": full_json(&d),
            "id": d.id,
            "message": "Datasource updated",
            "name": d.name,
        }))),
        Err(StoreError::AlreadyExists) => {
            Err(conflict(&state, org_id, body.uid.as_deref(), current.id).await)
        }
        Err(e) => Err(store_error(e)),
    }
}

/// `PUT /api/datasources/uid/:uid`
async fn update_by_uid(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody<DataSourceBody>,
) -> ApiResult<Json<Value>> {
    update(state, who.org_id, DataSourceRef::Uid(uid), body).await
}

/// `PUT /api/datasources/:id` (legacy)
async fn update_by_id(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<DataSourceBody>,
) -> ApiResult<Json<Value>> {
    update(state, who.org_id, DataSourceRef::Id(id), body).await
}

async fn delete(state: &AppState, org_id: i64, at: DataSourceRef) -> ApiResult<StoredDataSource> {
    let current = fetch(state, org_id, at).await?;
    if current.read_only {
        return Err(ApiError::forbidden(
            "Cannot delete read-only data source (it is provisioned)",
        ));
    }
    state
        .store
        .delete_datasource(org_id, &DataSourceRef::Id(current.id))
        .await
        .map_err(store_error)
}

/// `DELETE /api/datasources/uid/:uid`
async fn delete_by_uid(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = delete(&state, who.org_id, DataSourceRef::Uid(uid)).await?;
    Ok(Json(json!({"message": "Data source deleted", "id": d.id})))
}

/// `DELETE /api/datasources/name/:name`
async fn delete_by_name(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = delete(&state, who.org_id, DataSourceRef::Name(name)).await?;
    Ok(Json(json!({"message": "Data source deleted", "id": d.id})))
}

/// `DELETE /api/datasources/:id` (legacy)
async fn delete_by_id(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    delete(&state, who.org_id, DataSourceRef::Id(id)).await?;
    Ok(Json(json!({"message": "Data source deleted"})))
}

// ------------------------------------------------------------------ health

async fn health(state: &AppState, ds: Option<DataSource>) -> ApiResult<Response> {
    let ds = ds.ok_or_else(not_found)?;
    Ok(match state.engine.health(&ds).await {
        Ok(message) => Json(json!({"status": "OK", "message": message})).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": "ERROR", "message": e.to_string()})),
        )
            .into_response(),
    })
}

/// `GET /api/datasources/uid/:uid/health`: 200 `{"status":"OK"}` or 400 `{"status":"ERROR"}`.
async fn health_by_uid(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(uid): Path<String>,
) -> ApiResult<Response> {
    let ds = resolver::by_uid(&state, who.org_id, &uid).await?;
    health(&state, ds).await
}

/// `GET /api/datasources/:id/health` (legacy)
async fn health_by_id(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let ds = resolver::by_id(&state, who.org_id, id).await?;
    health(&state, ds).await
}

// ------------------------------------------------------------------ proxy

/// The largest answer the proxy passes on.
const MAX_PROXY_BODY: usize = 50 * 1024 * 1024;

const PROMETHEUS_PATHS: &str = "api/v1/query, api/v1/query_range, api/v1/series, api/v1/labels, \
     api/v1/label/<name>/values, api/v1/metadata, api/v1/query_exemplars, api/v1/status/buildinfo";

/// A label name as it may appear in `api/v1/label/<name>/values` (UTF-8 names arrive escaped as
/// `U__...`, which fits too).
fn is_label_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'))
}

/// Whether the proxy may forward `method path` (the raw path after the datasource) to a source of
/// `kind`; `Err` says what may be.
fn allowed(kind: &str, method: &Method, path: &str) -> Result<(), String> {
    let segments: Vec<&str> = path.split('/').collect();
    let read = *method == Method::GET || *method == Method::HEAD;
    match kind {
        "prometheus" => {
            let ok = match segments.as_slice() {
                ["api", "v1", "query" | "query_range" | "series" | "labels" | "metadata" | "query_exemplars"] => {
                    true
                }
                ["api", "v1", "status", "buildinfo"] => true,
                ["api", "v1", "label", name, "values"] => is_label_segment(name),
                _ => false,
            };
            if ok && (read || *method == Method::POST) {
                Ok(())
            } else {
                Err(format!(
                    "The data source proxy forwards only these read endpoints of a Prometheus \
                     data source: {PROMETHEUS_PATHS}"
                ))
            }
        }
        "influxdb" => {
            if read && matches!(segments.as_slice(), ["query"] | ["ping"]) {
                Ok(())
            } else {
                Err(
                    "The data source proxy forwards only GET query and ping to an InfluxDB \
                     data source"
                        .into(),
                )
            }
        }
        other => Err(format!(
            "The data source proxy serves Prometheus and InfluxDB data sources, not {other:?}"
        )),
    }
}

enum ProxyFailure {
    Query(QueryError),
    TooLarge,
}

/// Forwards one allowed request to the datasource and copies back status, content type and body.
async fn forward(
    state: &AppState,
    ds: Option<DataSource>,
    method: Method,
    path: &str,
    query: Option<&str>,
    body: Bytes,
) -> ApiResult<Response> {
    let ds = ds.ok_or_else(not_found)?;
    allowed(&ds.kind, &method, path).map_err(ApiError::forbidden)?;
    let upstream = state
        .engine
        .upstream(&ds)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut url = upstream
        .url(path)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    url.set_query(query);
    // A new request: nothing of the caller's (cookies, Authorization, other headers) goes along.
    let mut request = upstream
        .client
        .request(method.clone(), url)
        .headers(upstream.headers.clone());
    if ds.kind == "influxdb" && !ds.basic_auth && !ds.user.is_empty() {
        // InfluxDB's user and password travel as basic auth unless basic auth proper is on.
        request = request.basic_auth(&ds.user, ds.secret("password"));
    }
    if method == Method::POST {
        request = request
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
    }
    let timeout = state.config.query_timeout;
    let exchange = async {
        let mut response = request
            .send()
            .await
            .map_err(|e| ProxyFailure::Query(pharos_datasource::source::upstream_error(e)))?;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_PROXY_BODY as u64)
        {
            return Err(ProxyFailure::TooLarge);
        }
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ProxyFailure::Query(pharos_datasource::source::upstream_error(e)))?
        {
            if bytes.len() + chunk.len() > MAX_PROXY_BODY {
                return Err(ProxyFailure::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, content_type, bytes))
    };
    let (status, content_type, bytes) = match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(ProxyFailure::TooLarge)) => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!(
                    "The data source's answer is larger than {} MB",
                    MAX_PROXY_BODY / (1024 * 1024)
                ),
            ))
        }
        Ok(Err(ProxyFailure::Query(e))) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY);
            return Err(ApiError::new(status, e.to_string()));
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "Data source {:?} did not answer within {} s (the query timeout)",
                    ds.name,
                    timeout.as_secs_f64()
                ),
            ))
        }
    };
    // As Grafana does: a source's 401 would look like the caller's session ending to a browser.
    let status = if status == StatusCode::UNAUTHORIZED {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        content_type.unwrap_or_else(|| HeaderValue::from_static("application/octet-stream")),
    );
    Ok(response)
}

/// The raw (still percent-encoded) path after `prefix` and one more segment (the datasource's
/// uid or id), so the allow-list sees exactly what is forwarded.
fn path_after<'a>(uri: &'a Uri, prefix: &str) -> &'a str {
    uri.path()
        .strip_prefix(prefix)
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, path)| path)
        .unwrap_or_default()
}

/// `GET`/`POST /api/datasources/proxy/uid/:uid/*`
async fn proxy_by_uid(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path((uid, _)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> ApiResult<Response> {
    let ds = resolver::by_uid(&state, who.org_id, &uid).await?;
    let path = path_after(&uri, "/api/datasources/proxy/uid/");
    forward(&state, ds, method, path, uri.query(), body).await
}

/// `GET`/`POST /api/datasources/proxy/:id/*` (legacy)
async fn proxy_by_id(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path((id, _)): Path<(i64, String)>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> ApiResult<Response> {
    let ds = resolver::by_id(&state, who.org_id, id).await?;
    let path = path_after(&uri, "/api/datasources/proxy/");
    forward(&state, ds, method, path, uri.query(), body).await
}

/// The `datasources` map and `defaultDatasource` of `/api/frontend/settings`, as Grafana's boot
/// data carries them: keyed by name, with the proxy URL the UI reaches each through.
pub async fn frontend_settings(state: &AppState, org_id: i64) -> ApiResult<(Value, String)> {
    let all = resolver::org(state, org_id).await?;
    let mut map = Map::new();
    let mut default_name = String::new();
    for entry in &all.items {
        let d = &entry.stored;
        if d.is_default {
            default_name = d.name.clone();
        }
        let mut item = json!({
            "id": d.id,
            "uid": d.uid,
            "type": d.kind,
            "name": d.name,
            "meta": {
                "id": d.kind,
                "type": "datasource",
                "name": type_name(&d.kind),
                "builtIn": false,
                "mixed": false,
                "metrics": true,
                "backend": true,
            },
            "url": app_url(state, &format!("/api/datasources/proxy/uid/{}", d.uid)),
            "isDefault": d.is_default,
            "access": d.access,
            "jsonData": json_data(d),
            "readOnly": d.read_only,
        });
        if !d.database.is_empty() {
            item["database"] = Value::String(d.database.clone());
        }
        map.insert(d.name.clone(), item);
    }
    map.insert(
        "-- Mixed --".into(),
        json!({
            "type": "datasource",
            "name": "-- Mixed --",
            "uid": "-- Mixed --",
            "meta": {
                "id": "mixed",
                "type": "datasource",
                "name": "-- Mixed --",
                "builtIn": true,
                "mixed": true,
                "metrics": true,
            },
            "isDefault": false,
            "jsonData": {},
            "readOnly": true,
        }),
    );
    Ok((Value::Object(map), default_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_allows_only_read_endpoints() {
        let get = Method::GET;
        let post = Method::POST;
        for path in [
            "api/v1/query",
            "api/v1/query_range",
            "api/v1/series",
            "api/v1/labels",
            "api/v1/label/__name__/values",
            "api/v1/label/job/values",
            "api/v1/metadata",
            "api/v1/query_exemplars",
            "api/v1/status/buildinfo",
        ] {
            assert!(allowed("prometheus", &get, path).is_ok(), "{path}");
            assert!(allowed("prometheus", &post, path).is_ok(), "{path}");
        }
        for path in [
            "api/v1/admin/tsdb/delete_series",
            "api/v1/admin/tsdb/snapshot",
            "-/quit",
            "api/v1/write",
            "api/v1/label/../../admin/values",
            "api/v1/label/%2e%2e/values",
            "api/v1/label/../values",
            "api/v1/query/",
            "api/v1/status/config",
            "api/v1/targets",
            "",
        ] {
            assert!(allowed("prometheus", &get, path).is_err(), "{path}");
        }
        assert!(allowed("prometheus", &Method::DELETE, "api/v1/query").is_err());
        assert!(allowed("influxdb", &get, "query").is_ok());
        assert!(allowed("influxdb", &get, "ping").is_ok());
        assert!(allowed("influxdb", &post, "query").is_err());
        assert!(allowed("influxdb", &get, "write").is_err());
        assert!(allowed("grafana-testdata-datasource", &get, "query").is_err());
    }

    #[test]
    fn urls_are_checked_for_http_sources() {
        assert!(check_url("prometheus", "http://127.0.0.1:9090").is_ok());
        assert!(check_url("influxdb", "https://influx.example.com/x").is_ok());
        assert!(check_url("prometheus", "").is_ok());
        assert!(check_url("prometheus", "ftp://x").is_err());
        assert!(check_url("prometheus", "localhost:9090").is_err());
        assert!(check_url("prometheus", "not a url").is_err());
        assert!(check_url("grafana-testdata-datasource", "whatever").is_ok());
    }

    #[test]
    fn the_forwarded_path_is_taken_raw() {
        let uri: Uri = "/api/datasources/proxy/uid/p1/api/v1/label/%2e%2e/values?x=1"
            .parse()
            .unwrap();
        assert_eq!(
            path_after(&uri, "/api/datasources/proxy/uid/"),
            "api/v1/label/%2e%2e/values"
        );
        let uri: Uri = "/api/datasources/proxy/3/api/v1/query".parse().unwrap();
        assert_eq!(path_after(&uri, "/api/datasources/proxy/"), "api/v1/query");
    }
}
