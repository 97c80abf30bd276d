//! Service accounts and their tokens (`/api/serviceaccounts/...`), and the legacy API keys
//! (`/api/auth/keys`), which Pharos keeps as one service account per key, as Grafana 10 does.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use pharos_store::{hash_secret, now_ms, ApiToken, Role, ServiceAccount, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{paging, rfc3339, PagedSearch};
use crate::auth::tokens::new_service_account_token;
use crate::auth::{Identity, OrgAdmin};
use crate::error::{ApiError, ApiResult, StoreContext};
use crate::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/serviceaccounts", post(create))
        .route("/api/serviceaccounts/search", get(search))
        .route(
            "/api/serviceaccounts/{id}",
            get(get_one).patch(update).delete(remove),
        )
        .route(
            "/api/serviceaccounts/{id}/tokens",
            get(tokens).post(create_token),
        )
        .route(
            "/api/serviceaccounts/{id}/tokens/{token_id}",
            delete(delete_token),
        )
        .route("/api/auth/keys", get(list_keys).post(create_key))
        .route("/api/auth/keys/{id}", delete(delete_key))
}

fn account_json(sa: &ServiceAccount) -> Value {
    json!({
        "id": sa.id,
        "uid": sa.id.to_string(),
        "name": sa.name,
        "login": sa.login,
        "orgId": sa.org_id,
        "isDisabled": sa.is_disabled,
        "role": sa.role.as_str(),
        "tokens": sa.tokens,
        "avatarUrl": "",
        "createdAt": rfc3339(sa.created),
        "updatedAt": rfc3339(sa.updated),
        "teams": [],
    })
}

fn parse_role(role: Option<&str>) -> ApiResult<Option<Role>> {
    role.map(|r| {
        Role::parse(r).ok_or_else(|| {
            ApiError::bad_request(format!("invalid role {r:?}: use Viewer, Editor or Admin"))
        })
    })
    .transpose()
}

fn account_error(err: StoreError) -> ApiError {
    match err {
        StoreError::AlreadyExists => {
            ApiError::conflict("A service account with the same name already exists")
        }
        other => ApiError::from_store(other, "Service account"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAccount {
    #[serde(default)]
    name: String,
    role: Option<String>,
    #[serde(default)]
    is_disabled: bool,
}

/// `POST /api/serviceaccounts` → 201
async fn create(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    JsonBody(req): JsonBody<CreateAccount>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let role = parse_role(req.role.as_deref())?.unwrap_or(Role::Viewer);
    let sa = state
        .store
        .create_service_account(who.org_id, &req.name, role, req.is_disabled)
        .await
        .map_err(account_error)?;
    Ok((StatusCode::CREATED, Json(account_json(&sa))))
}

/// `GET /api/serviceaccounts/search?query=&page=&perpage=`
async fn search(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Query(q): Query<PagedSearch>,
) -> ApiResult<Json<Value>> {
    let (page, per_page, offset) = paging(q.page, q.perpage, 1000, 5000);
    let (accounts, total) = state
        .store
        .search_service_accounts(
            who.org_id,
            q.query.as_deref().unwrap_or(""),
            per_page,
            offset,
        )
        .await?;
    Ok(Json(json!({
        "totalCount": total,
        "serviceAccounts": accounts.iter().map(account_json).collect::<Vec<_>>(),
        "page": page,
        "perPage": per_page,
    })))
}

/// `GET /api/serviceaccounts/:id`
async fn get_one(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let sa = state
        .store
        .service_account(who.org_id, id)
        .await
        .or_api("Service account")?;
    Ok(Json(account_json(&sa)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateAccount {
    name: Option<String>,
    role: Option<String>,
    is_disabled: Option<bool>,
}

/// `PATCH /api/serviceaccounts/:id`
async fn update(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<UpdateAccount>,
) -> ApiResult<Json<Value>> {
    let role = parse_role(req.role.as_deref())?;
    let sa = state
        .store
        .update_service_account(who.org_id, id, req.name.as_deref(), role, req.is_disabled)
        .await
        .map_err(account_error)?;
    let mut body = json!({"message": "Service account updated", "id": sa.id, "name": sa.name});
    body["serviceaccount"] = account_json(&sa);
    Ok(Json(body))
}

/// `DELETE /api/serviceaccounts/:id`
async fn remove(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    state
        .store
        .delete_service_account(who.org_id, id)
        .await
        .or_api("Service account")?;
    Ok(Json(json!({"message": "Service account deleted"})))
}

fn token_json(t: &ApiToken) -> Value {
    let now = now_ms();
    json!({
        "id": t.id,
        "name": t.name,
        "created": rfc3339(t.created),
        "lastUsedAt": t.last_used_at.map(rfc3339),
        "expiration": t.expires.map(rfc3339),
        "secondsUntilExpiration": t.expires.map(|e| ((e - now) / 1000).max(0)).unwrap_or(0),
        "hasExpired": t.expires.is_some_and(|e| e <= now),
        "isRevoked": false,
    })
}

/// `GET /api/serviceaccounts/:id/tokens`
async fn tokens(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    state
        .store
        .service_account(who.org_id, id)
        .await
        .or_api("Service account")?;
    let tokens = state.store.list_api_tokens(who.org_id, id).await?;
    Ok(Json(Value::Array(tokens.iter().map(token_json).collect())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateToken {
    #[serde(default)]
    name: String,
    seconds_to_live: Option<i64>,
}

/// Creates a token and returns it with its clear-text key, which is never shown again.
async fn issue_token(
    state: &AppState,
    who: &Identity,
    account_id: i64,
    name: &str,
    seconds_to_live: Option<i64>,
) -> ApiResult<(ApiToken, String)> {
    let seconds = seconds_to_live.unwrap_or(0);
    if seconds < 0 {
        return Err(ApiError::bad_request("secondsToLive cannot be negative"));
    }
    let expires = (seconds > 0).then(|| now_ms() + seconds.saturating_mul(1000));
    let key = new_service_account_token();
    let token = state
        .store
        .create_api_token(who.org_id, account_id, name, &hash_secret(&key), expires)
        .await
        .map_err(|e| match e {
            StoreError::AlreadyExists => {
                ApiError::conflict("A token with the same name already exists")
            }
            other => ApiError::from_store(other, "Service account"),
        })?;
    Ok((token, key))
}

/// `POST /api/serviceaccounts/:id/tokens` `{name, secondsToLive}` → `{id, name, key}`
async fn create_token(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<CreateToken>,
) -> ApiResult<Json<Value>> {
    let (token, key) = issue_token(&state, &who, id, &req.name, req.seconds_to_live).await?;
    Ok(Json(
        json!({"id": token.id, "name": token.name, "key": key}),
    ))
}

/// `DELETE /api/serviceaccounts/:id/tokens/:tokenId`
async fn delete_token(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path((id, token_id)): Path<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    state
        .store
        .delete_api_token(who.org_id, id, token_id)
        .await
        .or_api("API key")?;
    Ok(Json(json!({"message": "API key deleted"})))
}

/// The service account behind legacy key `name`.
fn key_account_name(name: &str) -> String {
    format!("api-key-{name}")
}

/// `GET /api/auth/keys`: the legacy keys (tokens of their per-key service accounts).
async fn list_keys(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
) -> ApiResult<Json<Value>> {
    let keys = legacy_keys(&state, who.org_id).await?;
    Ok(Json(Value::Array(
        keys.iter()
            .map(|(sa, t)| {
                json!({
                    "id": t.id,
                    "name": t.name,
                    "role": sa.role.as_str(),
                    "expiration": t.expires.map(rfc3339),
                    "lastUsedAt": t.last_used_at.map(rfc3339),
                })
            })
            .collect(),
    )))
}

/// Every legacy key of the org with the service account that carries it.
async fn legacy_keys(state: &AppState, org_id: i64) -> ApiResult<Vec<(ServiceAccount, ApiToken)>> {
    let prefix = key_account_name("");
    let (accounts, _) = state
        .store
        .search_service_accounts(org_id, &prefix, 5000, 0)
        .await?;
    let mut keys = Vec::new();
    for sa in accounts
        .into_iter()
        .filter(|sa| sa.name.starts_with(&prefix))
    {
        for token in state.store.list_api_tokens(org_id, sa.id).await? {
            keys.push((sa.clone(), token));
        }
    }
    Ok(keys)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateKey {
    #[serde(default)]
    name: String,
    role: Option<String>,
    seconds_to_live: Option<i64>,
}

/// `POST /api/auth/keys` `{name, role, secondsToLive}` → `{id, name, key}`
async fn create_key(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    JsonBody(req): JsonBody<CreateKey>,
) -> ApiResult<Json<Value>> {
    if req.name.trim().is_empty() {
        return Err(ApiError::bad_request("name is required"));
    }
    let role = parse_role(req.role.as_deref())?.unwrap_or(Role::Viewer);
    let account = state
        .store
        .create_service_account(who.org_id, &key_account_name(req.name.trim()), role, false)
        .await
        .map_err(|e| match e {
            StoreError::AlreadyExists => {
                ApiError::conflict("An API key with the same name already exists")
            }
            other => ApiError::from_store(other, "API key"),
        })?;
    let (token, key) = issue_token(
        &state,
        &who,
        account.id,
        req.name.trim(),
        req.seconds_to_live,
    )
    .await?;
    Ok(Json(
        json!({"id": token.id, "name": token.name, "key": key}),
    ))
}

/// `DELETE /api/auth/keys/:id`: deletes the key and its service account.
async fn delete_key(
    State(state): State<AppState>,
    OrgAdmin(who): OrgAdmin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let keys = legacy_keys(&state, who.org_id).await?;
    if let Some((sa, _)) = keys.iter().find(|(_, t)| t.id == id) {
        state
            .store
            .delete_service_account(who.org_id, sa.id)
            .await
            .or_api("API key")?;
        return Ok(Json(json!({"message": "API key deleted"})));
    }
    Err(ApiError::not_found("API key not found"))
}
