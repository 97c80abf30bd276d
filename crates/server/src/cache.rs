//! Read caches for the hot paths (token lookups, dashboard reads, stars, search results).
//!
//! Correctness rests on one number, the cache *generation*, which is part of every key. A read looks
//! up (and, on a miss, loads) the entry of the generation current when it began. The generation moves
//! on whenever anything may have changed:
//!
//! * after every write request this replica answers (before the response leaves, so a client reads
//!   its own writes from the same replica; a write refused with 412 counts too, as it just saw newer
//!   data), and
//! * whenever the change feed reports writes made by any replica (at once on PostgreSQL through
//!   LISTEN/NOTIFY, otherwise within the poll interval).
//!
//! A read that raced a write can therefore only fill an entry of the old generation, which no later
//! read asks for; old entries simply age out. Concurrent misses of one key share a single load
//! (`try_get_with`), so a write followed by a burst of readers costs one query per key, not one per
//! reader. Invalidation is wholesale: writes are rare next to reads.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use moka::future::Cache;
use pharos_store::{Dashboard, TokenIdentity};

use crate::error::{ApiError, ApiResult};
use crate::json::EncodedBody;
use crate::state::AppState;

/// Search results, already serialized, for one org, viewer and query string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SearchKey {
    pub org_id: i64,
    pub user_id: Option<i64>,
    pub query: String,
}

type Generation = u64;

pub struct Caches {
    generation: AtomicU64,
    /// Service-account token hash → what it authenticates as.
    tokens: Cache<(Generation, String), Arc<TokenIdentity>>,
    /// Keyed digest of (login, a password that verified) → who basic auth with them is. Only
    /// successes are kept, so throttling and failure records still see every wrong password.
    basic_logins: Cache<(Generation, [u8; 32]), Arc<crate::auth::Identity>>,
    /// (org, uid) → the stored dashboard.
    dashboards: Cache<(Generation, i64, String), Arc<Dashboard>>,
    /// (user, org) → uids the user starred.
    stars: Cache<(Generation, i64, i64), Arc<Vec<String>>>,
    search: Cache<(Generation, SearchKey), EncodedBody>,
    /// Whole `GET /api/dashboards/uid` answers: (org, uid, what the viewer's `meta` depends on).
    dashboard_answers: Cache<(Generation, i64, String, ViewerKind), EncodedBody>,
    /// org → its datasources with their secrets decrypted (what queries, health checks and the
    /// proxy resolve against).
    datasources: Cache<(Generation, i64), Arc<crate::datasources::OrgDataSources>>,
}

/// What a dashboard answer's `meta` depends on besides the dashboard: the role, whether the caller
/// can star (users can, service accounts cannot) and whether they did.
pub type ViewerKind = (Option<pharos_store::Role>, bool, bool);

impl Default for Caches {
    fn default() -> Self {
        Self::new()
    }
}

/// Entries of an old generation are never read again; idling out frees them.
const IDLE: Duration = Duration::from_secs(120);

impl Caches {
    pub fn new() -> Self {
        Caches {
            generation: AtomicU64::new(0),
            // Tokens also expire by age so a token's `lastUsedAt` is refreshed now and then.
            tokens: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            basic_logins: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            dashboards: Cache::builder()
                .weigher(|_, d: &Arc<Dashboard>| d.data.len().try_into().unwrap_or(u32::MAX))
                .max_capacity(64 * 1024 * 1024)
                .time_to_idle(IDLE)
                .build(),
            stars: Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(IDLE)
                .build(),
            search: Cache::builder()
                .weigher(|_, b: &EncodedBody| b.weight())
                .max_capacity(16 * 1024 * 1024)
                .time_to_idle(IDLE)
                .build(),
            dashboard_answers: Cache::builder()
                .weigher(|_, b: &EncodedBody| b.weight())
                .max_capacity(64 * 1024 * 1024)
                .time_to_idle(IDLE)
                .build(),
            datasources: Cache::builder()
                .weigher(|_, d: &Arc<crate::datasources::OrgDataSources>| {
                    d.items
                        .len()
                        .saturating_add(1)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .max_capacity(100_000)
                .time_to_idle(IDLE)
                .build(),
        }
    }

    pub fn generation(&self) -> Generation {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes every entry stale.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Runs `load` once for all concurrent callers that miss `key`, and caches what it returns.
async fn load_once<K, V, F>(cache: &Cache<K, V>, key: K, load: F) -> ApiResult<V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    F: std::future::Future<Output = ApiResult<V>>,
{
    cache
        .try_get_with(key, load)
        .await
        .map_err(|e: Arc<ApiError>| (*e).clone())
}

/// The dashboard `(org, uid)`.
pub async fn dashboard(state: &AppState, org_id: i64, uid: &str) -> ApiResult<Arc<Dashboard>> {
    let key = (state.caches.generation(), org_id, uid.to_string());
    load_once(&state.caches.dashboards, key, async {
        let d = state.store.dashboard_by_uid(org_id, uid).await;
        d.map(Arc::new)
            .map_err(|e| ApiError::from_store(e, "Dashboard"))
    })
    .await
}

/// Uids of the dashboards `user_id` starred in the org.
pub async fn starred_uids(
    state: &AppState,
    user_id: i64,
    org_id: i64,
) -> ApiResult<Arc<Vec<String>>> {
    let key = (state.caches.generation(), user_id, org_id);
    load_once(&state.caches.stars, key, async {
        let uids = state.store.starred_uids(user_id, org_id).await;
        uids.map(Arc::new).map_err(ApiError::from)
    })
    .await
}

/// What the token with this hash authenticates as; `load` runs on a miss (and may reject).
pub async fn token_identity<F>(
    state: &AppState,
    key_hash: &str,
    load: F,
) -> ApiResult<Arc<TokenIdentity>>
where
    F: std::future::Future<Output = ApiResult<Arc<TokenIdentity>>>,
{
    let key = (state.caches.generation(), key_hash.to_string());
    load_once(&state.caches.tokens, key, load).await
}

/// The identity of a basic-auth login and password verified earlier in this generation. Spares
/// each scripted request the user, role and throttling reads (three queries) it would cost.
pub async fn basic_login<F>(
    state: &AppState,
    login: &str,
    password: &str,
    load: F,
) -> ApiResult<Arc<crate::auth::Identity>>
where
    F: std::future::Future<Output = ApiResult<Arc<crate::auth::Identity>>>,
{
    let key = (
        state.caches.generation(),
        state.passwords.cache_key(login, password),
    );
    load_once(&state.caches.basic_logins, key, load).await
}

/// Serialized search results for `key`; `load` runs on a miss.
pub async fn search<F>(state: &AppState, key: SearchKey, load: F) -> ApiResult<EncodedBody>
where
    F: std::future::Future<Output = ApiResult<EncodedBody>>,
{
    load_once(&state.caches.search, (state.caches.generation(), key), load).await
}

/// The whole answer to a dashboard GET for one kind of viewer; `load` builds it on a miss.
pub async fn dashboard_answer<F>(
    state: &AppState,
    org_id: i64,
    uid: &str,
    viewer: ViewerKind,
    load: F,
) -> ApiResult<EncodedBody>
where
    F: std::future::Future<Output = ApiResult<EncodedBody>>,
{
    let key = (state.caches.generation(), org_id, uid.to_string(), viewer);
    load_once(&state.caches.dashboard_answers, key, load).await
}

/// The datasources of an org, decrypted; `load` reads them on a miss.
pub async fn org_datasources<F>(
    state: &AppState,
    org_id: i64,
    load: F,
) -> ApiResult<Arc<crate::datasources::OrgDataSources>>
where
    F: std::future::Future<Output = ApiResult<Arc<crate::datasources::OrgDataSources>>>,
{
    let key = (state.caches.generation(), org_id);
    load_once(&state.caches.datasources, key, load).await
}

/// POST routes that only read: queries and the datasource proxy (which forwards read endpoints
/// only). They must not move the generation, or every panel refresh would empty every cache.
fn reads_only(path: &str) -> bool {
    path == "/api/ds/query"
        || path == "/api/ds/variable-options"
        || path.starts_with("/api/datasources/proxy/")
}

/// Moves the generation on after every write request but a login (which only adds a session, never
/// cached). Failed writes count too: a save refused with 412 has just learned that the database holds
/// something newer than this replica may have cached, and its client's next read must see it.
/// Only a 503 does not count (see below).
pub async fn invalidate_after_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && req.uri().path() != "/login"
        && !reads_only(req.uri().path());
    let response = next.run(req).await;
    // A write refused with 503 (the database unreachable) changed nothing and learned nothing
    // newer; keeping the caches lets cached reads go on answering through an outage. Were it a
    // COMMIT whose answer was lost, the change feed still reports the write.
    if writes && response.status() != axum::http::StatusCode::SERVICE_UNAVAILABLE {
        state.caches.invalidate_all();
    }
    response
}

/// Moves the generation on whenever the change feed reports writes from any replica.
pub async fn follow_change_feed(state: AppState, feed: pharos_cluster::ChangeFeed) {
    let mut batches = feed.subscribe();
    loop {
        match batches.recv().await {
            Ok(batch) => {
                state.caches.invalidate_all();
                state.metrics.changes_applied.inc_by(batch.len() as u64);
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                state.caches.invalidate_all()
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn concurrent_misses_share_one_load_and_generations_separate_entries() {
        let caches = Caches::new();
        let loads = Arc::new(AtomicUsize::new(0));
        let load = |value: &'static str| {
            let loads = loads.clone();
            async move {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok::<_, ApiError>(Arc::new(vec![value.to_string()]))
            }
        };
        let g = caches.generation();
        let (a, b) = tokio::join!(
            load_once(&caches.stars, (g, 1, 1), load("old")),
            load_once(&caches.stars, (g, 1, 1), load("old")),
        );
        assert_eq!(
            (a.unwrap()[0].as_str(), b.unwrap()[0].as_str()),
            ("old", "old")
        );
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        caches.invalidate_all();
        let fresh = load_once(&caches.stars, (caches.generation(), 1, 1), load("new")).await;
        assert_eq!(fresh.unwrap()[0], "new");
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        // Errors are not cached: the next call loads again.
        let failing = async { Err::<Arc<Vec<String>>, _>(ApiError::not_found("gone")) };
        assert!(
            load_once(&caches.stars, (caches.generation(), 2, 1), failing)
                .await
                .is_err()
        );
        let ok = load_once(&caches.stars, (caches.generation(), 2, 1), load("back")).await;
        assert_eq!(ok.unwrap()[0], "back");
    }
}
