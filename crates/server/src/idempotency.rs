//! `Idempotency-Key` on API writes, so a client (or a balancer retrying after a dying replica) can
//! repeat a POST, PUT, PATCH or DELETE under `/api/` without doing it twice.
//!
//! The first request with a key claims it in the database (atomically across replicas, see
//! `pharos_store::idempotency`), runs, and stores its response: status, content type and body,
//! with a fingerprint of the request (method, path and query, body SHA-256) under the caller's
//! scope (org and user or service account), so two callers' keys never collide. A repeat with the
//! same key and fingerprint gets the stored response again with `Idempotent-Replayed: true`; while
//! the first is still running it gets 409; the same key on a different request gets 422.
//!
//! What is not stored, so that a retry runs afresh: 5xx and 429 answers (the failure may be
//! transient), responses over [`MAX_STORED_BODY`], and requests whose processing panicked. An
//! in-flight claim whose replica died is taken over by a repeat as soon as that replica is known
//! dead (see [`take_over_if_orphaned`]: a balancer retries a request cut by a `kill -9` within
//! milliseconds), and otherwise once its lock expires after [`LOCK`]. The
//! handler runs in a task of its own, so a client that disconnects mid-request does not cancel
//! the write half-way: it completes and is stored, and the client's retry replays it.
//!
//! Runs inside authentication (it needs the caller); anonymous requests pass through untouched
//! (every `/api/` write refuses them anyway).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt, StreamExt};
use pharos_store::{now_ms, IdempotencyClaim, StoredResponse};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::auth::{Identity, Principal};
use crate::error::ApiError;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a replayed response.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// How long an in-flight claim blocks repeats before a retry may take it over (its replica died).
pub const LOCK: Duration = Duration::from_secs(60);
/// Largest response body stored for replay; larger answers are passed through and not kept.
pub const MAX_STORED_BODY: usize = 1024 * 1024;

/// Names the keyed request a handler runs for: a hash of the caller's scope and the key, in the
/// request's extensions. A handler whose write keeps it in the write's own transaction (dashboard
/// saves keep it on the version row) lets a retry find the result of a first attempt whose replica
/// died after its commit but before its response was stored: the one gap a stored response cannot
/// close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey(pub String);

impl RequestKey {
    pub fn new(scope: &str, key: &str) -> RequestKey {
        let mut hash = Sha256::new();
        hash.update(scope.as_bytes());
        hash.update(b"\n");
        hash.update(key.as_bytes());
        RequestKey(hex::encode(hash.finalize()))
    }
}

/// The middleware: see the module documentation.
pub async fn deduplicate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !applies_to(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let key = match parse_key(req.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(req).await,
        Err(e) => return e.into_response(),
    };
    let Some(identity) = req.extensions().get::<Identity>() else {
        return next.run(req).await;
    };
    let scope = scope_of(identity);
    let (parts, body) = req.into_parts();
    let limit = usize::try_from(state.config.raw.server.max_body_bytes).unwrap_or(usize::MAX);
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body is too large or could not be read",
            )
            .into_response()
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let fingerprint = fingerprint(&parts.method, path, &body);
    let lock_ms = i64::try_from(LOCK.as_millis()).unwrap_or(i64::MAX);
    // Counted before the claim, so a duplicate arriving while this one claims or runs sees it.
    let local = LocalRequest::enter(&scope, &key);
    let claim = match state
        .store
        .claim_idempotency_key(
            &scope,
            &key,
            &fingerprint,
            replica_id(&state),
            now_ms(),
            lock_ms,
        )
        .await
    {
        Ok(IdempotencyClaim::InFlight { owner }) => {
            match take_over_if_orphaned(&state, &scope, &key, &owner, &local).await {
                Some(owner) => IdempotencyClaim::Claimed { owner },
                None => IdempotencyClaim::InFlight { owner },
            }
        }
        Ok(claim) => claim,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match claim {
        IdempotencyClaim::Claimed { owner } => {
            let mut req = Request::from_parts(parts, Body::from(body));
            req.extensions_mut().insert(RequestKey::new(&scope, &key));
            // A task of its own: a client hanging up must not cancel the write between its commit
            // and storing its response (the retry would then run it twice).
            let task = tokio::spawn(
                process(state, scope, key, owner, local, req, next)
                    .instrument(tracing::Span::current()),
            );
            match task.await {
                Ok(response) => response,
                // The panic goes on to the panic layer outside, which answers 500.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => ApiError::internal().into_response(),
            }
        }
        IdempotencyClaim::Completed(stored) => replay(stored),
        IdempotencyClaim::InFlight { .. } => {
            let mut response = ApiError::conflict(
                "A request with this Idempotency-Key is still being processed; retry later",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        IdempotencyClaim::Mismatch => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "This Idempotency-Key was already used for a different request",
        )
        .into_response(),
    }
}

fn replica_id(state: &AppState) -> &str {
    state.cluster.membership.id()
}

/// Takes over an in-flight claim held by another replica that is gone, so a repeat of a request
/// cut by that replica's death runs now rather than after [`LOCK`]. Returns the new owner token.
async fn take_over_if_orphaned(
    state: &AppState,
    scope: &str,
    key: &str,
    owner: &str,
    local: &LocalRequest,
) -> Option<String> {
    let holder = pharos_store::owner_replica(owner)?;
    if holder == replica_id(state) {
        // This replica knows what it is running: a claim of its own while no other request here
        // has the key was left behind by a request whose release failed (the database was away).
        if local.others() > 0 {
            return None;
        }
    } else if !replica_is_gone(state, holder).await {
        return None;
    }
    let lock_ms = i64::try_from(LOCK.as_millis()).unwrap_or(i64::MAX);
    match state
        .store
        .take_over_idempotency_key(scope, key, owner, replica_id(state), now_ms(), lock_ms)
        .await
    {
        Ok(Some(new_owner)) => {
            tracing::warn!(
                replica = holder,
                "took over an idempotency key whose replica is gone; running the request again"
            );
            Some(new_owner)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "taking over an orphaned idempotency key failed");
            None
        }
    }
}

/// How long the liveness probe of another replica may take; a slow answer counts as alive.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1000);

/// True only when `replica` is certainly not running: it left the members table (shut down, or
/// aged out), or its advertised address refuses connections, or answers as another replica (it
/// was restarted). Anything uncertain (the database or the probe failing, a timeout, an address
/// that names no single host) counts as alive: taking over a live replica's claim would run the
/// request twice.
async fn replica_is_gone(state: &AppState, replica: &str) -> bool {
    let Ok(members) = state.store.members().await else {
        return false;
    };
    let Some(member) = members.into_iter().find(|m| m.id == replica) else {
        return true;
    };
    let Ok(address) = member.address.parse::<std::net::SocketAddr>() else {
        return false;
    };
    if address.ip().is_unspecified() {
        return false;
    }
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(address)).await {
        Ok(Err(e)) => return e.kind() == std::io::ErrorKind::ConnectionRefused,
        Err(_) => return false,
        Ok(Ok(_)) => {}
    }
    let answer = async {
        let response = probe_client()
            .get(format!("http://{address}/livez"))
            .send()
            .await
            .ok()?;
        let body: serde_json::Value = response.json().await.ok()?;
        body["replica"].as_str().map(str::to_string)
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, answer).await,
        Ok(Some(id)) if id != replica
    )
}

fn probe_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .build()
            .unwrap_or_default()
    })
}

/// Writes under `/api/`. `POST /login` is left out: it is anonymous (no caller to scope the key
/// to) and its answer is a session cookie, which must never be handed to a second requester.
fn applies_to(method: &Method, path: &str) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && path.starts_with("/api/")
}

/// The key, when present: 1 to [`MAX_KEY_LEN`] visible ASCII characters (or spaces inside), as
/// an opaque string. A quoted key (the draft's structured-field string, `"abc"`) counts without
/// its quotes.
fn parse_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::bad_request(
            "Send one Idempotency-Key header, not several",
        ));
    }
    let bad = || {
        ApiError::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        ))
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if text.is_empty()
        || text.len() > MAX_KEY_LEN
        || !text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return Err(bad());
    }
    Ok(Some(text.to_string()))
}

/// Whose keys these are: one namespace per org and user or service account.
pub fn scope_of(identity: &Identity) -> String {
    match identity.principal {
        Principal::User(id) => format!("org:{}:user:{id}", identity.org_id),
        Principal::ServiceAccount(id) => format!("org:{}:sa:{id}", identity.org_id),
    }
}

/// SHA-256 over method, path with query, and the body's SHA-256, hex encoded.
pub fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(path_and_query.as_bytes());
    hash.update(b"\n");
    hash.update(Sha256::digest(body));
    hex::encode(hash.finalize())
}

/// How many requests of this process hold or are claiming each (scope, key) now.
static LOCAL: std::sync::Mutex<Option<std::collections::HashMap<String, usize>>> =
    std::sync::Mutex::new(None);

/// One request with an Idempotency-Key on this replica, from before its claim until it is done
/// (moved into the task that runs it, so a client hanging up does not end it early).
struct LocalRequest(String);

impl LocalRequest {
    fn enter(scope: &str, key: &str) -> LocalRequest {
        let id = format!("{scope}\n{key}");
        if let Ok(mut local) = LOCAL.lock() {
            *local
                .get_or_insert_with(Default::default)
                .entry(id.clone())
                .or_insert(0) += 1;
        }
        LocalRequest(id)
    }

    /// Other requests of this process with the same key (when unknown: one, to be safe).
    fn others(&self) -> usize {
        LOCAL
            .lock()
            .ok()
            .and_then(|local| local.as_ref()?.get(&self.0).copied())
            .map_or(1, |n| n.saturating_sub(1))
    }
}

impl Drop for LocalRequest {
    fn drop(&mut self) {
        if let Ok(mut guard) = LOCAL.lock() {
            if let Some(local) = guard.as_mut() {
                if let Some(n) = local.get_mut(&self.0) {
                    *n -= 1;
                    if *n == 0 {
                        local.remove(&self.0);
                    }
                }
            }
        }
    }
}

/// Runs the request holding the claim and stores or releases the key by its outcome.
async fn process(
    state: AppState,
    scope: String,
    key: String,
    owner: String,
    _local: LocalRequest,
    req: Request,
    next: Next,
) -> Response {
    let release = |why: &'static str| {
        let (state, scope, key, owner) = (state.clone(), scope.clone(), key.clone(), owner.clone());
        async move { release_soon(state, scope, key, owner, why).await }
    };
    let response = match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(panic) => {
            release("the request panicked").await;
            std::panic::resume_unwind(panic);
        }
    };
    // The stored body is the one the client sees: plain-text errors become JSON here, as the
    // authentication layer would make them anyway.
    let response = crate::error::ensure_json_error(response).await;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        release("transient failure").await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let mut stream = body.into_data_stream();
    let mut buffered: Vec<Bytes> = Vec::new();
    let mut size = 0usize;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                size += chunk.len();
                buffered.push(chunk);
                if size > MAX_STORED_BODY {
                    release("response too large to store").await;
                    let rest =
                        futures_util::stream::iter(buffered.into_iter().map(Ok)).chain(stream);
                    return Response::from_parts(parts, Body::from_stream(rest));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "a response body failed while buffering it");
                release("the response body failed").await;
                return ApiError::internal().into_response();
            }
        }
    }
    let body = buffered.concat();
    let stored = StoredResponse {
        status: status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        body,
    };
    match state
        .store
        .complete_idempotency_key(&scope, &key, &owner, &stored)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("an idempotency key was taken over before its response was stored")
        }
        Err(e) => {
            tracing::warn!(error = %e, "storing an idempotent response failed");
            release("storing failed").await;
        }
    }
    Response::from_parts(parts, Body::from(stored.body))
}

/// Gives up a claim so a retry runs afresh. When the database refuses (it is why the request
/// failed, often), the release is retried in the background until it succeeds or the claim's lock
/// runs out anyway: otherwise every retry of the request would get 409 for the whole lock.
async fn release_soon(
    state: AppState,
    scope: String,
    key: String,
    owner: String,
    why: &'static str,
) {
    let attempt = || state.store.release_idempotency_key(&scope, &key, &owner);
    let Err(e) = attempt().await else {
        return;
    };
    tracing::warn!(error = %e, why, "releasing an idempotency key failed; retrying in the background");
    let state = state.clone();
    let (scope, key, owner) = (scope.clone(), key.clone(), owner.clone());
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + LOCK;
        while tokio::time::Instant::now() < deadline {
            // Each failing attempt already waits out the pool's acquire timeout.
            tokio::time::sleep(Duration::from_millis(200)).await;
            match state
                .store
                .release_idempotency_key(&scope, &key, &owner)
                .await
            {
                Ok(_) => {
                    tracing::info!(
                        why,
                        "released the idempotency key after the database returned"
                    );
                    return;
                }
                Err(e) => tracing::debug!(error = %e, "releasing an idempotency key failed again"),
            }
        }
    });
}

/// The stored response again, marked as a replay.
fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&stored.content_type) {
        if !stored.content_type.is_empty() {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
    }
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(value: &str) -> Result<Option<String>, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_str(value).unwrap());
        parse_key(&headers)
    }

    #[test]
    fn keys_are_checked() {
        assert_eq!(parse_key(&HeaderMap::new()).unwrap(), None);
        assert_eq!(key("abc-123").unwrap().as_deref(), Some("abc-123"));
        assert_eq!(key("\"quoted\"").unwrap().as_deref(), Some("quoted"));
        assert!(key("").is_err());
        assert!(key("\"\"").is_err());
        assert!(key(&"x".repeat(MAX_KEY_LEN)).is_ok());
        assert!(key(&"x".repeat(MAX_KEY_LEN + 1)).is_err());
        assert!(key("tab\there").is_err());
        let mut headers = HeaderMap::new();
        headers.insert(
            IDEMPOTENCY_KEY,
            HeaderValue::from_bytes("é".as_bytes()).unwrap(),
        );
        assert!(parse_key(&headers).is_err());
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("b"));
        assert!(parse_key(&headers).is_err());
    }

    #[test]
    fn fingerprints_cover_method_path_and_body() {
        let a = fingerprint(&Method::POST, "/api/x?y=1", b"{}");
        assert_eq!(a, fingerprint(&Method::POST, "/api/x?y=1", b"{}"));
        assert_ne!(a, fingerprint(&Method::PUT, "/api/x?y=1", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/api/x?y=2", b"{}"));
        assert_ne!(a, fingerprint(&Method::POST, "/api/x?y=1", b"{ }"));
    }

    #[test]
    fn only_api_writes() {
        assert!(applies_to(&Method::POST, "/api/dashboards/db"));
        assert!(applies_to(&Method::DELETE, "/api/folders/x"));
        assert!(!applies_to(&Method::GET, "/api/dashboards/uid/x"));
        assert!(!applies_to(&Method::POST, "/login"));
    }
}
