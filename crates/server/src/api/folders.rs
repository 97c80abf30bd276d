//! `/api/folders`: one level of folders, as Grafana without nested folders.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use pharos_store::{Folder, Role, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{app_url, paging, rfc3339};
use crate::auth::{Editor, Identity, Viewer};
use crate::error::{ApiError, ApiResult, StoreContext};
use crate::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/folders", get(list).post(create))
        .route(
            "/api/folders/{uid}",
            get(get_one).put(update).delete(delete),
        )
        .route("/api/folders/id/{id}", get(get_by_id))
}

fn folder_json(state: &AppState, who: &Identity, f: &Folder) -> Value {
    let editor = who.has_role(Role::Editor);
    json!({
        "id": f.id,
        "uid": f.uid,
        "title": f.title,
        "url": app_url(state, &format!("/dashboards/f/{}/{}", f.uid, pharos_store::slugify(&f.title))),
        "hasAcl": false,
        "canSave": editor,
        "canEdit": editor,
        "canAdmin": who.has_role(Role::Admin),
        "canDelete": editor,
        "createdBy": f.created_by,
        "created": rfc3339(f.created),
        "updatedBy": f.updated_by,
        "updated": rfc3339(f.updated),
        "version": f.version,
        "parentUid": "",
    })
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
    page: Option<i64>,
}

/// `GET /api/folders?limit=&page=`
async fn list(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let (_, limit, offset) = paging(q.page, q.limit, 1000, 5000);
    let folders = state.store.list_folders(who.org_id, limit, offset).await?;
    Ok(Json(Value::Array(
        folders
            .iter()
            .map(|f| json!({"id": f.id, "uid": f.uid, "title": f.title}))
            .collect(),
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    uid: Option<String>,
    #[serde(default)]
    title: String,
    parent_uid: Option<String>,
}

/// Tells a uid clash from a title clash for the 409 message.
async fn conflict(state: &AppState, org_id: i64, uid: Option<&str>) -> ApiError {
    let uid_taken = match uid {
        Some(uid) if !uid.is_empty() => state.store.folder_by_uid(org_id, uid).await.is_ok(),
        _ => false,
    };
    if uid_taken {
        ApiError::conflict("A folder with the same uid already exists")
    } else {
        ApiError::conflict("A folder with the same name already exists")
    }
}

/// `POST /api/folders`
async fn create(
    State(state): State<AppState>,
    Editor(who): Editor,
    JsonBody(req): JsonBody<CreateRequest>,
) -> ApiResult<Json<Value>> {
    if req.parent_uid.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(ApiError::bad_request("Nested folders are not supported"));
    }
    match state
        .store
        .create_folder(who.org_id, req.uid.as_deref(), &req.title, who.actor())
        .await
    {
        Ok(folder) => Ok(Json(folder_json(&state, &who, &folder))),
        Err(StoreError::AlreadyExists) => {
            Err(conflict(&state, who.org_id, req.uid.as_deref()).await)
        }
        Err(e) => Err(ApiError::from_store(e, "Folder")),
    }
}

/// `GET /api/folders/:uid`
async fn get_one(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let folder = state
        .store
        .folder_by_uid(who.org_id, &uid)
        .await
        .or_api("Folder")?;
    Ok(Json(folder_json(&state, &who, &folder)))
}

/// `GET /api/folders/id/:id` (legacy)
async fn get_by_id(
    State(state): State<AppState>,
    Viewer(who): Viewer,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let folder = state
        .store
        .folder_by_id(who.org_id, id)
        .await
        .or_api("Folder")?;
    Ok(Json(folder_json(&state, &who, &folder)))
}

#[derive(Deserialize)]
struct UpdateRequest {
    title: Option<String>,
    uid: Option<String>,
    version: Option<i64>,
    #[serde(default)]
    overwrite: bool,
}

/// `PUT /api/folders/:uid` `{title, version, overwrite}`: 412 on a stale version, 409 on a taken name.
async fn update(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(uid): Path<String>,
    JsonBody(req): JsonBody<UpdateRequest>,
) -> ApiResult<Json<Value>> {
    let change = pharos_store::FolderUpdate {
        title: req.title,
        new_uid: req.uid.clone(),
        version: req.version,
        overwrite: req.overwrite,
    };
    match state
        .store
        .update_folder(who.org_id, &uid, change, who.actor())
        .await
    {
        Ok(folder) => Ok(Json(folder_json(&state, &who, &folder))),
        Err(StoreError::AlreadyExists) => {
            Err(conflict(&state, who.org_id, req.uid.as_deref().filter(|u| *u != uid)).await)
        }
        Err(e) => Err(ApiError::from_store(e, "Folder")),
    }
}

/// `DELETE /api/folders/:uid`: deletes the folder and the dashboards in it.
async fn delete(
    State(state): State<AppState>,
    Editor(who): Editor,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let folder = state
        .store
        .delete_folder(who.org_id, &uid)
        .await
        .or_api("Folder")?;
    Ok(Json(json!({
        "message": "Folder deleted",
        "id": folder.id,
        "uid": folder.uid,
        "title": folder.title,
    })))
}
