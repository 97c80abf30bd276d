//! Grafana routes for features Pharos does not have, answered as a Grafana without any of those
//! objects answers them, so backup tools and scripts that walk every Grafana API (the PyPI
//! `grafana-backup` among them) read Pharos to the end instead of stopping at a 404.
//!
//! * Folder permissions: Pharos has no per-folder ACLs. Every folder grants what the org role
//!   grants (Viewer views, Editor edits, Admin administers), which is Grafana's default ACL of a new
//!   folder, so that is what `GET .../permissions` lists; `POST` accepts exactly that list (a
//!   restore of a Pharos backup) and refuses any other with a 400 that says why.
//! * Snapshots, library elements and teams: none exist, so their listings are empty.
//! * Orgs: Pharos has one, the main org its schema creates, and no way to rename it; the server
//!   admin's org listing and lookup answer it, and an update that keeps its name is accepted (a
//!   restore of a Pharos backup).

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use pharos_store::Folder;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{app_url, paging, rfc3339};
use crate::auth::{OrgAdmin, ServerAdmin, Viewer};
use crate::error::{ApiError, ApiResult, StoreContext};
use crate::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/folders/{uid}/permissions",
            get(folder_permissions).post(set_folder_permissions),
        )
        .route("/api/dashboard/snapshots", get(snapshots))
        .route("/api/library-elements", get(library_elements))
        .route("/api/teams/search", get(teams))
        .route("/api/orgs", get(orgs))
        .route("/api/orgs/{id}", get(org).put(update_org))
}

/// Grafana's permission levels, as `permission` numbers in an ACL item.
const VIEW: i64 = 1;
const EDIT: i64 = 2;

/// The ACL every Pharos folder has: the org roles, as Grafana's default for a new folder.
const FOLDER_GRANTS: [(&str, i64, &str); 2] = [("Viewer", VIEW, "View"), ("Editor", EDIT, "Edit")];

/// One item of a folder's ACL in Grafana's `DashboardACLInfoDTO` shape.
fn acl_item(state: &AppState, folder: &Folder, role: &str, permission: i64, name: &str) -> Value {
    let slug = pharos_store::slugify(&folder.title);
    json!({
        "folderId": folder.id,
        "folderUid": folder.uid,
        "dashboardId": 0,
        "created": rfc3339(folder.created),
        "updated": rfc3339(folder.updated),
        "userId": 0,
        "userLogin": "",
        "userEmail": "",
        "userAvatarUrl": "",
        "userUid": "",
        "teamId": 0,
        "teamEmail": "",
        "teamAvatarUrl": "",
        "team": "",
        "teamUid": "",
        "role": role,
        "permission": permission,
        "permissionName": name,
        "uid": folder.uid,
        "title": folder.title,
        "slug": slug,
        "isFolder": true,
        "url": app_url(state, &format!("/dashboards/f/{}/{}", folder.uid, slug)),
        "inherited": false,
    })
}

/// `GET /api/folders/:uid/permissions` (org admin, as Grafana's `folders.permissions:read`)
async fn folder_permissions(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let folder = state
        .store
        .folder_by_uid(who.org_id, &uid)
        .await
        .or_api("Folder")?;
    Ok(Json(Value::Array(
        FOLDER_GRANTS
            .iter()
            .map(|(role, permission, name)| acl_item(&state, &folder, role, *permission, name))
            .collect(),
    )))
}

#[derive(Deserialize)]
struct PermissionsRequest {
    items: Vec<AclItem>,
}

/// An item as Grafana's `POST .../permissions` takes it (`userId`, `teamId` or `role`, and the
/// level). Other fields, such as those of a `GET` answer sent back, are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AclItem {
    #[serde(default)]
    user_id: i64,
    #[serde(default)]
    team_id: i64,
    #[serde(default)]
    role: Option<String>,
    permission: i64,
}

/// `POST /api/folders/:uid/permissions` (org admin): Grafana replaces the folder's ACL with
/// `items`. Pharos' folders all have the fixed ACL above, so the same list is accepted as it
/// stands and anything else is refused.
async fn set_folder_permissions(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(uid): Path<String>,
    JsonBody(req): JsonBody<PermissionsRequest>,
) -> ApiResult<Json<Value>> {
    state
        .store
        .folder_by_uid(who.org_id, &uid)
        .await
        .or_api("Folder")?;
    let mut asked: Vec<(String, i64)> = Vec::with_capacity(req.items.len());
    for item in &req.items {
        match item.role.as_deref() {
            Some(role) if item.user_id == 0 && item.team_id == 0 => {
                asked.push((role.to_string(), item.permission));
            }
            _ => return Err(unsupported_acl()),
        }
    }
    asked.sort();
    asked.dedup();
    let mut fixed: Vec<(String, i64)> = FOLDER_GRANTS
        .iter()
        .map(|(role, permission, _)| (role.to_string(), *permission))
        .collect();
    fixed.sort();
    if asked != fixed {
        return Err(unsupported_acl());
    }
    Ok(Json(json!({"message": "Folder permissions updated"})))
}

fn unsupported_acl() -> ApiError {
    ApiError::bad_request(
        "Pharos has no per-folder permissions: every folder grants Viewer View and Editor Edit \
         (the org roles), and only that list can be set",
    )
}

/// `page` and `perPage` (teams also read `perpage`). Read as text and parsed leniently, as Grafana
/// does: a value that is not a positive number means the default.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageQuery {
    page: Option<String>,
    per_page: Option<String>,
    perpage: Option<String>,
}

impl PageQuery {
    /// The page and page size Grafana echoes back.
    fn page_and_size(&self, default: i64) -> (i64, i64) {
        let number = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
        let size = number(&self.per_page).or_else(|| number(&self.perpage));
        let (page, per_page, _) = paging(number(&self.page), size, default, i64::MAX);
        (page, per_page)
    }
}

/// `GET /api/dashboard/snapshots` (Viewer): no snapshots.
async fn snapshots(Viewer(_): Viewer) -> Json<Value> {
    Json(json!([]))
}

/// `GET /api/library-elements` (Viewer): no library panels or variables.
async fn library_elements(Viewer(_): Viewer, Query(q): Query<PageQuery>) -> Json<Value> {
    let (page, per_page) = q.page_and_size(100);
    Json(json!({
        "result": {"totalCount": 0, "elements": [], "page": page, "perPage": per_page}
    }))
}

/// `GET /api/teams/search` (org admin, as Grafana's `teams:read`): no teams.
async fn teams(OrgAdmin(_): OrgAdmin, Query(q): Query<PageQuery>) -> Json<Value> {
    let (page, per_page) = q.page_and_size(1000);
    Json(json!({"totalCount": 0, "teams": [], "page": page, "perPage": per_page}))
}

/// The org the schema creates; no route or command makes another.
const MAIN_ORG_ID: i64 = 1;

/// `GET /api/orgs` (server admin): every org, `[{id, name}]`.
async fn orgs(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
) -> ApiResult<Json<Value>> {
    let main = state
        .store
        .org_by_id(MAIN_ORG_ID)
        .await
        .or_api("Organization")?;
    Ok(Json(json!([{"id": main.id, "name": main.name}])))
}

/// `GET /api/orgs/:id` (server admin): `{id, name, address}` as `GET /api/org` answers it.
async fn org(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let org = org_at(&state, &id).await?;
    Ok(Json(json!({
        "id": org.id,
        "name": org.name,
        "address": {"address1": "", "address2": "", "city": "", "zipCode": "", "state": "", "country": ""},
    })))
}

async fn org_at(state: &AppState, id: &str) -> ApiResult<pharos_store::Org> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid org id {id:?}")))?;
    state.store.org_by_id(id).await.or_api("Organization")
}

#[derive(Deserialize)]
struct UpdateOrg {
    name: String,
}

/// `PUT /api/orgs/:id` `{name}` (server admin): Grafana renames the org. Pharos cannot, so the
/// org's own name is accepted as it stands and any other is refused.
async fn update_org(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<UpdateOrg>,
) -> ApiResult<Json<Value>> {
    let org = org_at(&state, &id).await?;
    if req.name != org.name {
        return Err(ApiError::bad_request(format!(
            "Pharos cannot rename an organization: it stays {:?}",
            org.name
        )));
    }
    Ok(Json(json!({"message": "Organization updated"})))
}
