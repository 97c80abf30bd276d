//! The signed-in user (`/api/user/...`), users across the server (`/api/users/...`) and the server
//! admin's user management (`/api/admin/users/...`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use pharos_store::{NewUser, Role, StoreError, User};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{paging, rfc3339, PagedSearch};
use crate::auth::password::{hash_password, MIN_PASSWORD_LEN};
use crate::auth::{Identity, Principal, ServerAdmin, SignedIn};
use crate::error::{ApiError, ApiResult, StoreContext};
use crate::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/user", get(current_user).put(update_current_user))
        .route("/api/user/password", put(change_password))
        .route("/api/user/orgs", get(current_user_orgs))
        .route("/api/user/stars", get(stars))
        .route(
            "/api/user/stars/dashboard/uid/{uid}",
            post(star).delete(unstar),
        )
        .route(
            "/api/user/stars/dashboard/{id}",
            post(star_by_id).delete(unstar_by_id),
        )
        .route("/api/users", get(list_users))
        .route("/api/users/search", get(search_users))
        .route("/api/users/lookup", get(lookup_user))
        .route("/api/users/{id}", get(get_user))
        .route("/api/users/{id}/orgs", get(user_orgs))
        .route("/api/admin/users", post(create_user))
        .route("/api/admin/users/{id}", axum::routing::delete(delete_user))
        .route("/api/admin/users/{id}/password", put(set_password))
        .route("/api/admin/users/{id}/permissions", put(set_permissions))
}

fn user_id(who: &Identity) -> ApiResult<i64> {
    who.user_id().ok_or_else(|| {
        ApiError::bad_request("This action needs a user; service accounts cannot do it")
    })
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "login": u.login,
        "theme": u.theme,
        "orgId": u.org_id,
        "isGrafanaAdmin": u.is_admin,
        "isDisabled": u.is_disabled,
        "isExternal": false,
        "authLabels": [],
        "updatedAt": rfc3339(u.updated),
        "createdAt": rfc3339(u.created),
        "avatarUrl": "",
    })
}

/// `GET /api/user`: the caller (a service account answers with its own account).
async fn current_user(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> ApiResult<Json<Value>> {
    match who.principal {
        Principal::User(id) => {
            let user = state.store.user_by_id(id).await.or_api("User")?;
            Ok(Json(user_json(&user)))
        }
        Principal::ServiceAccount(id) => Ok(Json(json!({
            "id": id,
            "login": who.login,
            "name": who.name,
            "email": "",
            "orgId": who.org_id,
            "isGrafanaAdmin": false,
            "isDisabled": false,
            "isServiceAccount": true,
        }))),
    }
}

#[derive(Deserialize)]
struct ProfileUpdate {
    name: Option<String>,
    email: Option<String>,
    login: Option<String>,
    theme: Option<String>,
}

/// `PUT /api/user`: name, e-mail, login and theme of the caller.
async fn update_current_user(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    JsonBody(req): JsonBody<ProfileUpdate>,
) -> ApiResult<Json<Value>> {
    let id = user_id(&who)?;
    let user = state.store.user_by_id(id).await.or_api("User")?;
    let login = req.login.unwrap_or(user.login);
    if login.trim().is_empty() {
        return Err(ApiError::bad_request("login cannot be empty"));
    }
    let theme = req.theme.unwrap_or(user.theme);
    if !matches!(theme.as_str(), "" | "light" | "dark" | "system") {
        return Err(ApiError::bad_request("theme must be light, dark or system"));
    }
    match state
        .store
        .update_user_profile(
            id,
            &req.name.unwrap_or(user.name),
            &req.email.unwrap_or(user.email),
            &login,
            &theme,
        )
        .await
    {
        Ok(()) => Ok(Json(json!({"message": "User updated"}))),
        Err(StoreError::AlreadyExists) => {
            Err(ApiError::conflict("Login or e-mail is already taken"))
        }
        Err(e) => Err(ApiError::from_store(e, "User")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordChange {
    old_password: String,
    new_password: String,
    confirm_new: Option<String>,
}

fn check_new_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "New password is too short: at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// `PUT /api/user/password`: revokes every session of the user (on every replica).
async fn change_password(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    JsonBody(req): JsonBody<PasswordChange>,
) -> ApiResult<Json<Value>> {
    let id = user_id(&who)?;
    let user = state.store.user_by_id(id).await.or_api("User")?;
    if !state
        .passwords
        .verify(&user.login, &req.old_password, &user.password_hash)
        .await
    {
        return Err(ApiError::unauthorized("Invalid old password"));
    }
    if req
        .confirm_new
        .as_deref()
        .is_some_and(|c| c != req.new_password)
    {
        return Err(ApiError::bad_request(
            "New password and its confirmation differ",
        ));
    }
    check_new_password(&req.new_password)?;
    let hash = hash_password(&req.new_password)
        .await
        .map_err(|_| ApiError::internal())?;
    state
        .store
        .set_user_password(id, &hash)
        .await
        .or_api("User")?;
    Ok(Json(json!({"message": "User password changed"})))
}

async fn orgs_json(state: &AppState, user_id: i64) -> ApiResult<Json<Value>> {
    let orgs = state.store.user_orgs(user_id).await?;
    Ok(Json(Value::Array(
        orgs.into_iter()
            .map(|o| json!({"orgId": o.org_id, "name": o.name, "role": o.role.as_str()}))
            .collect(),
    )))
}

/// `GET /api/user/orgs`
async fn current_user_orgs(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> ApiResult<Json<Value>> {
    match who.principal {
        Principal::User(id) => orgs_json(&state, id).await,
        Principal::ServiceAccount(_) => {
            let org = state.store.org_by_id(who.org_id).await?;
            Ok(Json(json!([{
                "orgId": org.id,
                "name": org.name,
                "role": who.role.map(Role::as_str).unwrap_or("None"),
            }])))
        }
    }
}

/// `GET /api/user/stars`: uids of the caller's starred dashboards.
async fn stars(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> ApiResult<Json<Vec<String>>> {
    let id = user_id(&who)?;
    Ok(Json(state.store.starred_uids(id, who.org_id).await?))
}

/// `POST /api/user/stars/dashboard/uid/:uid`
async fn star(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = user_id(&who)?;
    state
        .store
        .star_dashboard(id, who.org_id, &uid)
        .await
        .or_api("Dashboard")?;
    Ok(Json(json!({"message": "Dashboard starred!"})))
}

/// `DELETE /api/user/stars/dashboard/uid/:uid`
async fn unstar(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = user_id(&who)?;
    state
        .store
        .unstar_dashboard(id, who.org_id, &uid)
        .await
        .or_api("Star")?;
    Ok(Json(json!({"message": "Dashboard unstarred"})))
}

async fn uid_of(state: &AppState, org_id: i64, id: i64) -> ApiResult<String> {
    Ok(state
        .store
        .dashboard_by_id(org_id, id)
        .await
        .or_api("Dashboard")?
        .uid)
}

/// `POST /api/user/stars/dashboard/:id` (legacy, by numeric id)
async fn star_by_id(
    state: State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let uid = uid_of(&state, who.0.org_id, id).await?;
    star(state, who, Path(uid)).await
}

/// `DELETE /api/user/stars/dashboard/:id` (legacy, by numeric id)
async fn unstar_by_id(
    state: State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let uid = uid_of(&state, who.0.org_id, id).await?;
    unstar(state, who, Path(uid)).await
}

fn listed_user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "login": u.login,
        "email": u.email,
        "avatarUrl": "",
        "isAdmin": u.is_admin,
        "isDisabled": u.is_disabled,
        "lastSeenAt": rfc3339(u.last_seen_at),
        "authLabels": [],
    })
}

/// `GET /api/users?perpage=&page=&query=` (server admin)
async fn list_users(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    Query(q): Query<PagedSearch>,
) -> ApiResult<Json<Value>> {
    let (_, per_page, offset) = paging(q.page, q.perpage, 1000, 5000);
    let (users, _) = state
        .store
        .search_users(q.query.as_deref().unwrap_or(""), per_page, offset)
        .await?;
    Ok(Json(Value::Array(
        users.iter().map(listed_user_json).collect(),
    )))
}

/// `GET /api/users/search?perpage=&page=&query=` (server admin)
async fn search_users(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    Query(q): Query<PagedSearch>,
) -> ApiResult<Json<Value>> {
    let (page, per_page, offset) = paging(q.page, q.perpage, 1000, 5000);
    let (users, total) = state
        .store
        .search_users(q.query.as_deref().unwrap_or(""), per_page, offset)
        .await?;
    Ok(Json(json!({
        "totalCount": total,
        "users": users.iter().map(listed_user_json).collect::<Vec<_>>(),
        "page": page,
        "perPage": per_page,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupQuery {
    login_or_email: Option<String>,
}

/// `GET /api/users/lookup?loginOrEmail=` (server admin)
async fn lookup_user(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Json<Value>> {
    let key = q
        .login_or_email
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("loginOrEmail is required"))?;
    let user = state
        .store
        .user_by_login_or_email(key.trim())
        .await
        .or_api("User")?;
    Ok(Json(user_json(&user)))
}

/// `GET /api/users/:id` (server admin)
async fn get_user(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let user = state.store.user_by_id(id).await.or_api("User")?;
    Ok(Json(user_json(&user)))
}

/// `GET /api/users/:id/orgs` (server admin)
async fn user_orgs(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    state.store.user_by_id(id).await.or_api("User")?;
    orgs_json(&state, id).await
}

#[derive(Deserialize)]
struct CreateUser {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    login: String,
    password: String,
    #[serde(rename = "OrgId", alias = "orgId")]
    org_id: Option<i64>,
}

/// `POST /api/admin/users` (server admin): the new user joins the org as Viewer, as Grafana's default.
async fn create_user(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    JsonBody(req): JsonBody<CreateUser>,
) -> ApiResult<Json<Value>> {
    let login = if req.login.trim().is_empty() {
        req.email.trim()
    } else {
        req.login.trim()
    };
    if login.is_empty() {
        return Err(ApiError::bad_request("login or email is required"));
    }
    check_new_password(&req.password)?;
    let org_id = req.org_id.filter(|id| *id > 0).unwrap_or(1);
    state.store.org_by_id(org_id).await.or_api("Organization")?;
    let hash = hash_password(&req.password)
        .await
        .map_err(|_| ApiError::internal())?;
    let created = state
        .store
        .create_user(&NewUser {
            login: login.to_string(),
            email: req.email.trim().to_string(),
            name: req.name,
            password_hash: hash,
            is_admin: false,
            org_id,
            role: Role::Viewer,
        })
        .await;
    match created {
        Ok(user) => Ok(Json(
            json!({"id": user.id, "uid": user.id.to_string(), "message": "User created"}),
        )),
        Err(StoreError::AlreadyExists) => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "User with same login or email already exists",
        )),
        Err(e) => Err(ApiError::from_store(e, "User")),
    }
}

/// `DELETE /api/admin/users/:id` (server admin)
async fn delete_user(
    State(state): State<AppState>,
    ServerAdmin(who): ServerAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    if who.user_id() == Some(id) {
        return Err(ApiError::bad_request("You cannot delete yourself"));
    }
    state.store.delete_user(id).await.or_api("User")?;
    Ok(Json(json!({"message": "User deleted"})))
}

#[derive(Deserialize)]
struct NewPassword {
    password: String,
}

/// `PUT /api/admin/users/:id/password` (server admin): revokes the user's sessions.
async fn set_password(
    State(state): State<AppState>,
    ServerAdmin(_): ServerAdmin,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<NewPassword>,
) -> ApiResult<Json<Value>> {
    check_new_password(&req.password)?;
    let hash = hash_password(&req.password)
        .await
        .map_err(|_| ApiError::internal())?;
    state
        .store
        .set_user_password(id, &hash)
        .await
        .or_api("User")?;
    Ok(Json(json!({"message": "User password updated"})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Permissions {
    is_grafana_admin: bool,
}

/// `PUT /api/admin/users/:id/permissions` `{isGrafanaAdmin}` (server admin)
async fn set_permissions(
    State(state): State<AppState>,
    ServerAdmin(who): ServerAdmin,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<Permissions>,
) -> ApiResult<Json<Value>> {
    if who.user_id() == Some(id) && !req.is_grafana_admin {
        return Err(ApiError::bad_request(
            "You cannot remove your own server admin permission",
        ));
    }
    state
        .store
        .set_user_server_admin(id, req.is_grafana_admin)
        .await
        .or_api("User")?;
    Ok(Json(json!({"message": "User permissions updated"})))
}
