//! Login sessions by hand: `POST /login`, the `Set-Cookie` it answers, and requests that carry a
//! session cookie the way a replayed cookie would arrive.

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::Pharos;

/// The name of Pharos's session cookie.
pub const SESSION_COOKIE: &str = "pharos_session";

/// What `POST /login` answered: status, body, the whole `Set-Cookie` header and the token in it.
pub struct Login {
    pub status: StatusCode,
    pub body: Value,
    pub set_cookie: Option<String>,
    pub token: Option<String>,
}

/// The session cookie a response sets, if any: (the whole `Set-Cookie` header, the token in it).
pub fn session_cookie(headers: &HeaderMap) -> Option<(String, String)> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(|v| {
            let token = v[SESSION_COOKIE.len() + 1..]
                .split(';')
                .next()
                .unwrap_or_default()
                .to_string();
            (v.to_string(), token)
        })
}

/// Logs in through `POST /login` and returns whatever it answered.
pub async fn login(px: &Pharos, user: &str, password: &str) -> Login {
    let resp = px
        .anonymous()
        .request(Method::POST, "/login")
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .expect("login request");
    let status = resp.status();
    let cookie = session_cookie(resp.headers());
    let text = resp.text().await.unwrap_or_default();
    Login {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        set_cookie: cookie.as_ref().map(|c| c.0.clone()),
        token: cookie.map(|c| c.1),
    }
}

/// Logs in, insists on 200 and a non-empty session cookie, and returns its token.
pub async fn login_token(px: &Pharos, user: &str, password: &str) -> String {
    let l = login(px, user, password).await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.body);
    let token = l.token.expect("a session cookie");
    assert!(!token.is_empty());
    token
}

/// A request carrying the session cookie by hand (as a replayed cookie would arrive): status, body
/// and the new session token if the answer sets a non-empty one.
pub async fn with_cookie(
    px: &Pharos,
    method: Method,
    path: &str,
    token: &str,
) -> (StatusCode, Value, Option<String>) {
    with_cookie_json(px, method, path, token, None).await
}

/// [`with_cookie`] with an optional JSON body.
pub async fn with_cookie_json(
    px: &Pharos,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    let mut rb = px
        .anonymous()
        .request(method, path)
        .header("cookie", format!("{SESSION_COOKIE}={token}"));
    if let Some(body) = body {
        rb = rb.json(&body);
    }
    let resp = rb
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e:?}\nlogs:\n{}", px.logs().join("\n")));
    let status = resp.status();
    let new_token = session_cookie(resp.headers())
        .map(|c| c.1)
        .filter(|t| !t.is_empty());
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        new_token,
    )
}

/// `GET path` with the session cookie: status and body.
pub async fn by_cookie(px: &Pharos, path: &str, token: &str) -> (StatusCode, Value) {
    let (s, b, _) = with_cookie(px, Method::GET, path, token).await;
    (s, b)
}
