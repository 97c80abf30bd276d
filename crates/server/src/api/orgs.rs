//! The current org (`/api/org`) and its members (`/api/org/users`).

use axum::extract::{Path, State};
use axum::routing::{get, patch};
use axum::{Json, Router};
use pharos_store::{Role, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::rfc3339;
use crate::auth::{OrgAdmin, Viewer};
use crate::error::{ApiError, ApiResult, StoreContext};
use crate::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/org", get(current_org))
        .route("/api/org/users", get(members).post(add_member))
        .route(
            "/api/org/users/{user_id}",
            patch(set_role).delete(remove_member),
        )
}

/// `GET /api/org`
async fn current_org(State(state): State<AppState>, Viewer(who): Viewer) -> ApiResult<Json<Value>> {
    let org = state
        .store
        .org_by_id(who.org_id)
        .await
        .or_api("Organization")?;
    Ok(Json(json!({
        "id": org.id,
        "name": org.name,
        "address": {"address1": "", "address2": "", "city": "", "zipCode": "", "state": "", "country": ""},
    })))
}

/// `GET /api/org/users` (org admin)
async fn members(State(state): State<AppState>, OrgAdmin(who): OrgAdmin) -> ApiResult<Json<Value>> {
    let members = state.store.org_members(who.org_id).await?;
    Ok(Json(Value::Array(
        members
            .into_iter()
            .map(|m| {
                json!({
                    "orgId": m.org_id,
                    "userId": m.user_id,
                    "email": m.email,
                    "name": m.name,
                    "avatarUrl": "",
                    "login": m.login,
                    "role": m.role.as_str(),
                    "lastSeenAt": rfc3339(m.last_seen_at),
                    "isDisabled": m.is_disabled,
                })
            })
            .collect(),
    )))
}

fn parse_role(role: &str) -> ApiResult<Role> {
    Role::parse(role).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid role {role:?}: use Viewer, Editor or Admin"
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddMember {
    login_or_email: String,
    role: String,
}

/// `POST /api/org/users` `{loginOrEmail, role}` (org admin)
async fn add_member(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    JsonBody(req): JsonBody<AddMember>,
) -> ApiResult<Json<Value>> {
    let role = parse_role(&req.role)?;
    let user = state
        .store
        .user_by_login_or_email(req.login_or_email.trim())
        .await
        .or_api("User")?;
    match state.store.add_org_member(who.org_id, user.id, role).await {
        Ok(()) => Ok(Json(
            json!({"message": "User added to organization", "userId": user.id}),
        )),
        Err(StoreError::AlreadyExists) => Err(ApiError::conflict(
            "User is already member of this organization",
        )),
        Err(e) => Err(ApiError::from_store(e, "User")),
    }
}

#[derive(Deserialize)]
struct SetRole {
    role: String,
}

/// `PATCH /api/org/users/:userId` `{role}` (org admin)
async fn set_role(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(user_id): Path<i64>,
    JsonBody(req): JsonBody<SetRole>,
) -> ApiResult<Json<Value>> {
    let role = parse_role(&req.role)?;
    if who.user_id() == Some(user_id) && role != Role::Admin {
        return Err(ApiError::bad_request("You cannot lower your own role"));
    }
    state
        .store
        .set_org_member_role(who.org_id, user_id, role)
        .await
        .or_api("Organization user")?;
    Ok(Json(json!({"message": "Organization user updated"})))
}

/// `DELETE /api/org/users/:userId` (org admin)
async fn remove_member(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(user_id): Path<i64>,
) -> ApiResult<Json<Value>> {
    if who.user_id() == Some(user_id) {
        return Err(ApiError::bad_request(
            "You cannot remove yourself from the organization",
        ));
    }
    state
        .store
        .remove_org_member(who.org_id, user_id)
        .await
        .or_api("Organization user")?;
    Ok(Json(json!({"message": "User removed from organization"})))
}
