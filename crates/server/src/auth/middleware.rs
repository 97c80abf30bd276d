//! Turns a request's credentials into an [`Identity`]. Presented-but-wrong credentials answer 401 at
//! once (as Grafana does); no credentials leave the request anonymous, and the route's extractor
//! decides whether that is enough.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use pharos_store::{hash_secret, now_ms, StoreError};

use super::session::{self, SessionCheck};
use super::tokens::SERVICE_ACCOUNT_PREFIX;
use super::{Identity, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// How stale a `last_seen`/`last_used` stamp may get before a request refreshes it; keeps the hot
/// path free of a write per request.
pub const SEEN_REFRESH_MS: i64 = 60_000;

/// Probes answer without looking at credentials, as Grafana's `/api/health` does: a load balancer's
/// check that happens to carry stale credentials must not read as "down".
const PROBES: [&str; 4] = ["/api/health", "/livez", "/readyz", "/metrics"];

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if PROBES.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    // A NUL would reach the database in a uid, login or search term; PostgreSQL text cannot hold
    // it. Refused before anything else reads the URL (credentials included).
    if req
        .uri()
        .path_and_query()
        .is_some_and(|pq| pq.as_str().contains("%00"))
    {
        return ApiError::bad_request("The URL must not contain NUL characters (%00)")
            .into_response();
    }
    let ip = client_ip(&state, &req);
    let mut set_cookie = None;
    let result = if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default().to_string();
        authorization_header(&state, &value, &ip).await.map(Some)
    } else if let Some(token) =
        session::cookie_value(req.headers(), &state.config.raw.auth.cookie_name)
    {
        match session::check(&state, &token).await {
            Ok(SessionCheck::Valid { identity, rotated }) => {
                if let Some(new_token) = rotated {
                    set_cookie = Some(session::cookie_header(&state, &new_token));
                }
                csrf_check(req.method(), req.headers(), &state.config.root_url)
                    .map(|_| Some(identity))
            }
            Ok(SessionCheck::Invalid) => {
                set_cookie = Some(session::clear_cookie_header(&state));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    } else {
        Ok(None)
    };
    match result {
        Ok(identity) => {
            if let Some(identity) = identity {
                req.extensions_mut().insert(identity);
            }
            let mut response = crate::error::ensure_json_error(next.run(req).await).await;
            // A handler that set the session cookie itself (login, logout) has the last word: a
            // rotated or cleared cookie appended after it would replace the one it just set.
            let cookie_name = format!("{}=", state.config.raw.auth.cookie_name);
            let handler_set_cookie = response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|v| v.as_bytes().starts_with(cookie_name.as_bytes()));
            if let Some(cookie) = set_cookie.filter(|_| !handler_set_cookie) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn authorization_header(
    state: &AppState,
    value: &str,
    ip: &str,
) -> Result<Identity, ApiError> {
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    let credentials = credentials.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => token_identity(state, credentials).await,
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(credentials)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::unauthorized("Invalid Basic auth header"))?;
            let (user, password) = decoded
                .split_once(':')
                .filter(|_| !decoded.contains('\0'))
                .ok_or_else(|| ApiError::unauthorized("Invalid Basic auth header"))?;
            if user == "api_key" {
                token_identity(state, password).await
            } else {
                let identity = crate::cache::basic_login(state, user, password, async {
                    password_identity(state, user, password, ip)
                        .await
                        .map(Arc::new)
                })
                .await?;
                Ok((*identity).clone())
            }
        }
        _ => Err(ApiError::unauthorized("Unsupported Authorization scheme")),
    }
}

async fn token_identity(state: &AppState, token: &str) -> Result<Identity, ApiError> {
    if !token.starts_with(SERVICE_ACCOUNT_PREFIX) {
        return Err(ApiError::unauthorized("Invalid API key"));
    }
    // Token lookups are cached (see crate::cache): revoking a token on another replica reaches
    // this one through the change feed.
    let hash = hash_secret(token);
    let found = crate::cache::token_identity(state, &hash, async {
        let found = state
            .store
            .token_identity(&hash)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
        let now = now_ms();
        if found
            .token
            .last_used_at
            .is_none_or(|at| now - at > SEEN_REFRESH_MS)
        {
            let store = state.store.clone();
            let token_id = found.token.id;
            // Best effort, off the request's path: a lost stamp only makes "last used" a little
            // stale. Cache hits skip it; the cache's time-to-live brings the next stamp.
            tokio::spawn(async move {
                let _ = store.touch_api_token(token_id, now).await;
            });
        }
        Ok(Arc::new(found))
    })
    .await?;
    let now = now_ms();
    if found.token.expires.is_some_and(|at| at <= now) {
        return Err(ApiError::unauthorized("API key has expired"));
    }
    if found.account.is_disabled {
        return Err(ApiError::unauthorized("Service account is disabled"));
    }
    Ok(Identity {
        principal: Principal::ServiceAccount(found.account.id),
        login: found.account.login.clone(),
        name: found.account.name.clone(),
        email: String::new(),
        org_id: found.account.org_id,
        role: Some(found.account.role),
        is_server_admin: false,
        session_id: None,
    })
}

/// Verifies a login and password (basic auth and `POST /login`), with throttling shared by all replicas.
pub async fn password_identity(
    state: &AppState,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<Identity, ApiError> {
    let window_start = now_ms() - state.config.login_failure_window.as_millis() as i64;
    let (by_login, by_ip) = state
        .store
        .failed_logins_since(login, ip, window_start)
        .await
        .map_err(ApiError::from)?;
    let max = i64::from(state.config.raw.security.login_max_failures);
    if by_login >= max || by_ip >= max * 4 {
        return Err(ApiError::too_many_requests(
            "Too many consecutive incorrect login attempts; login is temporarily blocked, try again later",
        ));
    }
    let user = match state.store.user_by_login_or_email(login).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let verified = match &user {
        Some(user) => {
            state
                .passwords
                .verify(&user.login, password, &user.password_hash)
                .await
        }
        None => false,
    };
    let user = match user {
        Some(user) if verified => user,
        _ => {
            state
                .store
                .record_failed_login(login, ip)
                .await
                .map_err(ApiError::from)?;
            return Err(ApiError::unauthorized("Invalid username or password"));
        }
    };
    if user.is_disabled {
        return Err(ApiError::unauthorized("User is disabled"));
    }
    if by_login > 0 {
        state
            .store
            .clear_failed_logins(login)
            .await
            .map_err(ApiError::from)?;
    }
    let role = state
        .store
        .org_role(user.id, user.org_id)
        .await
        .map_err(ApiError::from)?;
    Ok(Identity::for_user(user, role, None))
}

/// Cookie-authenticated writes must come from our own pages: a cross-site `Origin` is refused.
/// (SameSite=Lax already keeps the cookie off cross-site POSTs in current browsers; this covers
/// older ones and same-site-but-cross-origin pages.)
fn csrf_check(method: &Method, headers: &HeaderMap, root_url: &url::Url) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    let origin_host = origin_host.trim_end_matches('/');
    // The public host counts too: a proxy in front may rewrite `Host`.
    let public_host = match (root_url.host_str(), root_url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    };
    if origin_host == host || origin_host == public_host {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Origin not allowed: cross-site request refused",
        ))
    }
}

/// The client's address: the peer, or the first `X-Forwarded-For` entry when configured to trust it.
pub fn client_ip(state: &AppState, req: &Request) -> String {
    if state.config.raw.server.trust_forwarded_for {
        if let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return first.trim().to_string();
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_default()
}

pub fn header_text(value: Option<&HeaderValue>) -> &str {
    value.and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_site_writes_are_refused() {
        let root = url::Url::parse("https://dash.example.com/").unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("dash.local:3000"));
        assert!(csrf_check(&Method::POST, &h, &root).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://dash.local:3000"),
        );
        assert!(csrf_check(&Method::POST, &h, &root).is_ok());
        // Behind a proxy that rewrites Host, the public root URL's host is ours too.
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://dash.example.com"),
        );
        assert!(csrf_check(&Method::POST, &h, &root).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(csrf_check(&Method::POST, &h, &root).is_err());
        assert!(csrf_check(&Method::GET, &h, &root).is_ok());
    }
}
