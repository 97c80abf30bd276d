//! `/api/dashboards/...`: save, get, delete, home, tags, versions, restore and import.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use pharos_store::{
    Dashboard, Provisioned, ProvisionedKind, SaveDashboard, SavedDashboard, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{app_url, rfc3339};
use crate::auth::{Editor, Identity, Viewer};
use crate::error::{ApiError, ApiResult, StoreContext};
use crate::idempotency::RequestKey;
use crate::json::{EncodedBody, JsonBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/dashboards/db", post(save))
        .route(
            "/api/dashboards/uid/{uid}",
            get(get_by_uid).delete(delete_by_uid),
        )
        .route("/api/dashboards/home", get(home))
        .route("/api/dashboards/tags", get(tags))
        .route("/api/dashboards/uid/{uid}/versions", get(versions))
        .route("/api/dashboards/uid/{uid}/versions/{version}", get(version))
        .route("/api/dashboards/uid/{uid}/restore", post(restore))
        .route("/api/dashboards/import", post(import))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaveRequest {
    dashboard: Value,
    #[serde(flatten)]
    target: SaveTarget,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SaveResponse {
    id: i64,
    uid: String,
    url: String,
    status: &'static str,
    version: i64,
    slug: String,
    folder_uid: String,
}

fn dashboard_object(value: Value) -> ApiResult<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request("dashboard must be a JSON object")),
    }
}

/// Resolves `folderUid`, or the legacy `folderId`, to a folder uid (`None` for General).
async fn folder_target(
    state: &AppState,
    org_id: i64,
    folder_uid: Option<String>,
    folder_id: Option<i64>,
) -> ApiResult<Option<String>> {
    if let Some(uid) = folder_uid.filter(|u| !u.is_empty()) {
        return Ok(Some(uid));
    }
    match folder_id.filter(|id| *id > 0) {
        None => Ok(None),
        Some(id) => match state.store.folder_by_id(org_id, id).await {
            Ok(folder) => Ok(Some(folder.uid)),
            Err(StoreError::NotFound) => Err(ApiError::bad_request("Folder not found")),
            Err(e) => Err(e.into()),
        },
    }
}

fn save_error(err: StoreError) -> ApiError {
    ApiError::from_store(err, "Dashboard")
}

/// The provisioning marker of a dashboard, if it came from a provisioning file.
async fn provisioned(state: &AppState, org_id: i64, uid: &str) -> ApiResult<Option<Provisioned>> {
    Ok(state
        .store
        .provisioned(org_id, ProvisionedKind::Dashboard, uid)
        .await?)
}

/// Grafana refuses API saves of a provisioned dashboard unless its provider has `allowUiUpdates`.
async fn check_savable(state: &AppState, org_id: i64, uid: &str) -> ApiResult<()> {
    match provisioned(state, org_id, uid).await? {
        Some(p) if !p.allow_updates => {
            Err(ApiError::bad_request("Cannot save provisioned dashboard"))
        }
        _ => Ok(()),
    }
}

/// The uid a save body targets: its `uid`, else the uid of the dashboard its `id` names.
async fn target_uid(
    state: &AppState,
    org_id: i64,
    dashboard: &Map<String, Value>,
) -> ApiResult<Option<String>> {
    if let Some(uid) = dashboard
        .get("uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    {
        return Ok(Some(uid.to_string()));
    }
    match dashboard
        .get("id")
        .and_then(Value::as_i64)
        .filter(|id| *id > 0)
    {
        None => Ok(None),
        Some(id) => match state.store.dashboard_by_id(org_id, id).await {
            Ok(d) => Ok(Some(d.uid)),
            // The save itself answers for an unknown id.
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        },
    }
}

fn save_response(state: &AppState, saved: SavedDashboard) -> SaveResponse {
    SaveResponse {
        url: app_url(state, &format!("/d/{}/{}", saved.uid, saved.slug)),
        id: saved.id,
        uid: saved.uid,
        status: "success",
        version: saved.version,
        slug: saved.slug,
        folder_uid: saved.folder_uid.unwrap_or_default(),
    }
}

/// `POST /api/dashboards/db`
async fn save(
    State(state): State<AppState>,
    Editor(who): Editor,
    request_key: Option<Extension<RequestKey>>,
    JsonBody(req): JsonBody<SaveRequest>,
) -> ApiResult<Json<SaveResponse>> {
    let dashboard = dashboard_object(req.dashboard)?;
    let saved = save_as(&state, &who, dashboard, req.target, request_key).await?;
    Ok(Json(save_response(&state, saved)))
}

/// Where and how a save or an import lands: the fields both request bodies share.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaveTarget {
    folder_uid: Option<String>,
    /// Legacy: the folder's numeric id (0 is General).
    folder_id: Option<i64>,
    #[serde(default)]
    overwrite: bool,
    #[serde(default)]
    message: String,
}

/// The one save path of `POST /api/dashboards/db` and `POST /api/dashboards/import`.
async fn save_as(
    state: &AppState,
    who: &Identity,
    dashboard: Map<String, Value>,
    target: SaveTarget,
    request_key: Option<Extension<RequestKey>>,
) -> ApiResult<SavedDashboard> {
    if let Some(uid) = target_uid(state, who.org_id, &dashboard).await? {
        check_savable(state, who.org_id, &uid).await?;
    }
    let folder_uid = folder_target(state, who.org_id, target.folder_uid, target.folder_id).await?;
    state
        .store
        .save_dashboard(SaveDashboard {
            org_id: who.org_id,
            dashboard,
            folder_uid,
            overwrite: target.overwrite,
            message: target.message,
            actor: who.actor().to_string(),
            restored_from: 0,
            request_key: request_key.map(|Extension(RequestKey(key))| key),
        })
        .await
        .map_err(save_error)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(rename = "type")]
    kind: &'static str,
    can_save: bool,
    can_edit: bool,
    can_admin: bool,
    can_star: bool,
    can_delete: bool,
    slug: String,
    url: String,
    expires: &'static str,
    created: String,
    updated: String,
    updated_by: String,
    created_by: String,
    version: i64,
    has_acl: bool,
    is_folder: bool,
    is_starred: bool,
    folder_id: i64,
    folder_uid: String,
    folder_title: String,
    folder_url: String,
    provisioned: bool,
    provisioned_external_id: String,
}

/// `provisioned` is Grafana's: true for a provisioned dashboard the API may not save (one whose
/// provider allows UI updates is not flagged); the external id is the file's relative path.
fn meta(
    state: &AppState,
    who: &Identity,
    d: &Dashboard,
    is_starred: bool,
    provisioning: Option<&Provisioned>,
) -> Meta {
    let editor = who.has_role(pharos_store::Role::Editor);
    Meta {
        kind: "db",
        can_save: editor,
        can_edit: editor,
        can_admin: who.has_role(pharos_store::Role::Admin),
        can_star: who.user_id().is_some(),
        can_delete: editor,
        slug: d.slug.clone(),
        url: app_url(state, &format!("/d/{}/{}", d.uid, d.slug)),
        expires: "0001-01-01T00:00:00Z",
        created: rfc3339(d.created),
        updated: rfc3339(d.updated),
        updated_by: d.updated_by.clone(),
        created_by: d.created_by.clone(),
        version: d.version,
        has_acl: false,
        is_folder: false,
        is_starred,
        folder_id: d.folder_id.unwrap_or(0),
        folder_uid: d.folder_uid.clone().unwrap_or_default(),
        folder_title: d.folder_title.clone().unwrap_or_else(|| "General".into()),
        folder_url: match (&d.folder_uid, &d.folder_title) {
            (Some(uid), Some(title)) => app_url(
                state,
                &format!("/dashboards/f/{uid}/{}", pharos_store::slugify(title)),
            ),
            _ => String::new(),
        },
        provisioned: provisioning.is_some_and(|p| !p.allow_updates),
        provisioned_external_id: provisioning.map(|p| p.origin.clone()).unwrap_or_default(),
    }
}

/// `GET /api/dashboards/uid/:uid`. The stored JSON is spliced into the response as it is: a large
/// dashboard is never parsed again on the read path.
async fn get_by_uid(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(uid): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let starred = match who.user_id() {
        Some(user_id) => crate::cache::starred_uids(&state, user_id, who.org_id)
            .await?
            .contains(&uid),
        None => false,
    };
    let viewer = (who.role, who.user_id().is_some(), starred);
    let answer = crate::cache::dashboard_answer(&state, who.org_id, &uid, viewer, async {
        let d = crate::cache::dashboard(&state, who.org_id, &uid).await?;
        let provisioning = provisioned(&state, who.org_id, &uid).await?;
        let meta = serde_json::to_string(&meta(&state, &who, &d, starred, provisioning.as_ref()))
            .map_err(|_| ApiError::internal())?;
        let mut body = String::with_capacity(d.data.len() + meta.len() + 32);
        body.push_str("{\"dashboard\":");
        body.push_str(&d.data);
        body.push_str(",\"meta\":");
        body.push_str(&meta);
        body.push('}');
        Ok(EncodedBody::new(body.into()))
    })
    .await?;
    Ok(answer.respond(&headers))
}

/// `DELETE /api/dashboards/uid/:uid`
async fn delete_by_uid(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    // Grafana refuses this whatever `allowUiUpdates` says: the file would bring it back.
    if provisioned(&state, who.org_id, &uid).await?.is_some() {
        return Err(ApiError::bad_request(
            "provisioned dashboard cannot be deleted",
        ));
    }
    let (id, title) = state
        .store
        .delete_dashboard(who.org_id, &uid)
        .await
        .or_api("Dashboard")?;
    Ok(Json(json!({
        "id": id,
        "uid": uid,
        "title": title,
        "message": format!("Dashboard {title} deleted"),
    })))
}

/// `GET /api/dashboards/home`: the built-in home dashboard (preferences arrive later).
async fn home(Viewer(_who): Viewer) -> Json<Value> {
    Json(json!({
        "dashboard": {
            "title": "Home",
            "uid": "",
            "version": 0,
            "schemaVersion": 39,
            "editable": false,
            "time": {"from": "now-6h", "to": "now"},
            "panels": [{
                "id": 1,
                "type": "dashlist",
                "title": "Dashboards",
                "gridPos": {"h": 12, "w": 24, "x": 0, "y": 0},
                "options": {"showStarred": true, "showRecentlyViewed": false, "showSearch": true, "maxItems": 30}
            }]
        },
        "meta": {
            "isHome": true,
            "canSave": false,
            "canEdit": false,
            "canStar": false,
            "slug": "",
            "expires": "0001-01-01T00:00:00Z",
            "created": "0001-01-01T00:00:00Z",
            "updated": "0001-01-01T00:00:00Z",
            "version": 0,
            "folderTitle": "General"
        }
    }))
}

/// `GET /api/dashboards/tags`
async fn tags(State(state): State<AppState>, Viewer(who): Viewer) -> ApiResult<Json<Value>> {
    let tags = state.store.dashboard_tags(who.org_id).await?;
    Ok(Json(Value::Array(
        tags.into_iter()
            .map(|t| json!({"term": t.term, "count": t.count}))
            .collect(),
    )))
}

#[derive(Deserialize)]
struct VersionsQuery {
    limit: Option<i64>,
    start: Option<i64>,
}

fn version_json(v: &pharos_store::VersionSummary) -> Map<String, Value> {
    let value = json!({
        "id": v.id,
        "dashboardId": v.dashboard_id,
        "uid": v.dashboard_uid,
        "parentVersion": v.parent_version,
        "restoredFrom": v.restored_from,
        "version": v.version,
        "created": rfc3339(v.created),
        "createdBy": v.created_by,
        "message": v.message,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `GET /api/dashboards/uid/:uid/versions?limit=&start=`
async fn versions(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(uid): Path<String>,
    Query(q): Query<VersionsQuery>,
) -> ApiResult<Json<Value>> {
    let limit = q.limit.filter(|l| *l > 0).unwrap_or(1000).min(1000);
    let start = q.start.filter(|s| *s > 0).unwrap_or(0);
    let versions = state
        .store
        .dashboard_versions(who.org_id, &uid, limit, start)
        .await
        .or_api("Dashboard")?;
    Ok(Json(json!({
        "continueToken": "",
        "versions": versions.iter().map(version_json).collect::<Vec<_>>(),
    })))
}

/// `GET /api/dashboards/uid/:uid/versions/:version`
async fn version(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path((uid, version)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let version: i64 = version
        .parse()
        .map_err(|_| ApiError::bad_request("version must be a number"))?;
    let v = state
        .store
        .dashboard_version(who.org_id, &uid, version)
        .await
        .or_api("Dashboard version")?;
    let data: Value = serde_json::from_str(&v.data).map_err(|_| ApiError::internal())?;
    let mut body = version_json(&v.summary);
    body.insert("data".into(), data);
    Ok(Json(Value::Object(body)))
}

#[derive(Deserialize)]
struct RestoreRequest {
    version: i64,
}

/// `POST /api/dashboards/uid/:uid/restore` `{"version": N}`
async fn restore(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(uid): Path<String>,
    request_key: Option<Extension<RequestKey>>,
    JsonBody(req): JsonBody<RestoreRequest>,
) -> ApiResult<Json<SaveResponse>> {
    check_savable(&state, who.org_id, &uid).await?;
    let request_key = request_key.map(|Extension(RequestKey(key))| key);
    let saved = state
        .store
        .restore_dashboard_version(
            who.org_id,
            &uid,
            req.version,
            who.actor(),
            request_key.as_deref(),
        )
        .await
        .or_api("Dashboard version")?;
    Ok(Json(save_response(&state, saved)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportRequest {
    dashboard: Value,
    #[serde(default)]
    inputs: Vec<ImportInput>,
    #[serde(flatten)]
    target: SaveTarget,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportInput {
    name: String,
    #[serde(default)]
    value: String,
}

/// Replaces `${NAME}` for every input in every string of the JSON (how Grafana fills `__inputs`).
fn fill_inputs(value: &mut Value, inputs: &[(String, String)]) {
    match value {
        Value::String(s) if s.contains("${") => {
            for (pattern, replacement) in inputs {
                if s.contains(pattern.as_str()) {
                    *s = s.replace(pattern.as_str(), replacement);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fill_inputs(v, inputs)),
        Value::Object(map) => map.values_mut().for_each(|v| fill_inputs(v, inputs)),
        _ => {}
    }
}

/// `POST /api/dashboards/import`: fills the `__inputs` the dashboard declares from `inputs`.
async fn import(
    State(state): State<AppState>,
    Editor(who): Editor,
    request_key: Option<Extension<RequestKey>>,
    JsonBody(req): JsonBody<ImportRequest>,
) -> ApiResult<Json<Value>> {
    let mut dashboard = dashboard_object(req.dashboard)?;
    let declared: Vec<String> = dashboard
        .get("__inputs")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut inputs = Vec::new();
    for name in &declared {
        let given = req
            .inputs
            .iter()
            .find(|i| &i.name == name)
            .filter(|i| !i.value.is_empty());
        let Some(given) = given else {
            return Err(ApiError::bad_request(format!(
                "Dashboard input missing: {name}"
            )));
        };
        inputs.push((format!("${{{name}}}"), given.value.clone()));
    }
    // `shift_remove` keeps the other keys in their order (`remove` would move the last key here).
    dashboard.shift_remove("__inputs");
    let mut value = Value::Object(dashboard);
    fill_inputs(&mut value, &inputs);
    let Value::Object(mut dashboard) = value else {
        return Err(ApiError::internal());
    };
    // An import creates or replaces by uid; the exported id belongs to another server. Nulled in
    // place, so the id the save writes keeps the key's position.
    if let Some(id) = dashboard.get_mut("id") {
        *id = Value::Null;
    }
    let saved = save_as(&state, &who, dashboard, req.target, request_key).await?;
    let url = app_url(&state, &format!("/d/{}/{}", saved.uid, saved.slug));
    Ok(Json(json!({
        "pluginId": "",
        "title": saved.title,
        "imported": true,
        "importedUri": format!("db/{}", saved.slug),
        "importedUrl": url,
        "slug": saved.slug,
        "dashboardId": saved.id,
        "folderId": saved.folder_id.unwrap_or(0),
        "folderUid": saved.folder_uid.clone().unwrap_or_default(),
        "uid": saved.uid,
        "importedRevision": saved.version,
        "revision": saved.version,
        "description": "",
        "path": "",
        "removed": false,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_fill_every_string() {
        let mut v = json!({"a": "${DS_PROM}", "b": [{"ds": {"uid": "${DS_PROM}"}}], "c": "x ${DS_PROM} y", "d": 1});
        fill_inputs(&mut v, &[("${DS_PROM}".into(), "prom1".into())]);
        assert_eq!(
            v,
            json!({"a": "prom1", "b": [{"ds": {"uid": "prom1"}}], "c": "x prom1 y", "d": 1})
        );
    }
}
