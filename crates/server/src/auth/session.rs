//! Login sessions: `POST /login`, `GET /logout`, and the checks and rotation the middleware runs.
//!
//! The cookie holds a random token; the database holds its hash. Any replica validates any session,
//! and logout or a password change deletes the row, which revokes it everywhere at once.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use pharos_store::{hash_secret, now_ms, StoreError};
use serde::Deserialize;
use serde_json::json;

use super::middleware::{client_ip, header_text, password_identity, SEEN_REFRESH_MS};
use super::tokens::new_session_token;
use super::Identity;
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::state::AppState;

/// How long a just-rotated-away token still works, for requests the browser had in flight.
const ROTATION_GRACE_MS: i64 = 30_000;

pub enum SessionCheck {
    Valid {
        identity: Identity,
        /// A new token to send back when this request rotated the session.
        rotated: Option<String>,
    },
    Invalid,
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

pub async fn check(state: &AppState, token: &str) -> ApiResult<SessionCheck> {
    let hash = hash_secret(token);
    let Some((session, user, role)) = state
        .store
        .session_with_user(&hash)
        .await
        .map_err(ApiError::from)?
    else {
        return Ok(SessionCheck::Invalid);
    };
    let now = now_ms();
    let cfg = &state.config;
    let idle = now - session.seen_at > cfg.session_inactive_lifetime.as_millis() as i64;
    let too_old = now - session.created_at > cfg.session_max_lifetime.as_millis() as i64;
    let stale_previous = session.token_hash != hash && now - session.rotated_at > ROTATION_GRACE_MS;
    if idle || too_old || user.is_disabled {
        state
            .store
            .revoke_session(session.id)
            .await
            .map_err(ApiError::from)?;
        return Ok(SessionCheck::Invalid);
    }
    if stale_previous {
        return Ok(SessionCheck::Invalid);
    }
    let mut rotated = None;
    if session.token_hash == hash
        && now - session.rotated_at > cfg.session_rotation_interval.as_millis() as i64
    {
        let new_token = new_session_token();
        match state
            .store
            .rotate_session(session.id, &hash, &hash_secret(&new_token))
            .await
        {
            Ok(()) => rotated = Some(new_token),
            // Another request rotated it first; this one keeps the token it came with.
            Err(StoreError::VersionMismatch) => {}
            Err(e) => return Err(e.into()),
        }
    } else if now - session.seen_at > seen_refresh_ms(cfg.session_inactive_lifetime) {
        state
            .store
            .touch_session(session.id, now)
            .await
            .map_err(ApiError::from)?;
        state
            .store
            .touch_user_seen(user.id, now)
            .await
            .map_err(ApiError::from)?;
    }
    Ok(SessionCheck::Valid {
        identity: Identity::for_user(user, role, Some(session.id)),
        rotated,
    })
}

/// How stale `seen_at` may get before a request refreshes it: [`SEEN_REFRESH_MS`], but never more
/// than a quarter of the inactive lifetime, or a session in steady use would be taken for idle.
fn seen_refresh_ms(inactive_lifetime: std::time::Duration) -> i64 {
    SEEN_REFRESH_MS.min(inactive_lifetime.as_millis() as i64 / 4)
}

fn cookie_path(state: &AppState) -> String {
    let path = state.config.root_url.path();
    if path.is_empty() {
        "/".into()
    } else {
        path.to_string()
    }
}

pub fn cookie_header(state: &AppState, token: &str) -> HeaderValue {
    let cfg = &state.config;
    let secure = if cfg.cookie_secure { "; Secure" } else { "" };
    let value = format!(
        "{}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        cfg.raw.auth.cookie_name,
        token,
        cookie_path(state),
        cfg.session_max_lifetime.as_secs(),
        secure
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie_header(state: &AppState) -> HeaderValue {
    let cfg = &state.config;
    let secure = if cfg.cookie_secure { "; Secure" } else { "" };
    let value = format!(
        "{}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax{}",
        cfg.raw.auth.cookie_name,
        cookie_path(state),
        secure
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
}

/// `POST /login` `{user, password}`: sets the session cookie.
pub async fn login(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let ip = client_ip(&state, &req);
    let user_agent = header_text(req.headers().get(header::USER_AGENT)).to_string();
    let JsonBody(form) =
        <JsonBody<LoginForm> as axum::extract::FromRequest<AppState>>::from_request(req, &state)
            .await?;
    let identity = password_identity(&state, form.user.trim(), &form.password, &ip).await?;
    let user_id = identity
        .user_id()
        .ok_or_else(|| ApiError::unauthorized("Invalid username or password"))?;
    let token = new_session_token();
    state
        .store
        .create_session(user_id, &hash_secret(&token), &ip, &user_agent)
        .await
        .map_err(ApiError::from)?;
    tracing::info!(user = %identity.login, "logged in");
    let mut response =
        Json(json!({"message": "Logged in", "redirectUrl": state.config.root_url.path()}))
            .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie_header(&state, &token));
    Ok(response)
}

/// `GET /logout`: revokes the session (on every replica) and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = cookie_value(&headers, &state.config.raw.auth.cookie_name) {
        if let Some((session, _, _)) = state
            .store
            .session_with_user(&hash_secret(&token))
            .await
            .map_err(ApiError::from)?
        {
            state
                .store
                .revoke_session(session.id)
                .await
                .map_err(ApiError::from)?;
        }
    }
    let login_page = format!(
        "{}login",
        cookie_path(&state).trim_end_matches('/').to_owned() + "/"
    );
    let mut response = (StatusCode::FOUND, [(header::LOCATION, login_page)]).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie_header(&state));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; pharos_session=tok; b=2"),
        );
        assert_eq!(cookie_value(&h, "pharos_session").as_deref(), Some("tok"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn short_inactive_lifetimes_refresh_seen_at_sooner() {
        use std::time::Duration;
        assert_eq!(
            seen_refresh_ms(Duration::from_secs(7 * 86_400)),
            SEEN_REFRESH_MS
        );
        assert_eq!(seen_refresh_ms(Duration::from_secs(2)), 500);
    }
}
