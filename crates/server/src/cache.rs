//! Read caches for the hot paths (token lookups, dashboard reads, stars, search results).
//!
//! Correctness rests on one number, the cache *generation*. Every entry records the generation that
//! was current when its database read began, and only an entry of the current generation is served.
//! The generation moves on whenever anything may have changed:
//!
//! * after every write request this replica answers (before the response leaves, so a client reads
//!   its own writes from the same replica), and
//! * whenever the change feed reports writes made by any replica (at once on PostgreSQL through
//!   LISTEN/NOTIFY, otherwise within the poll interval).
//!
//! A read that raced a write can therefore only store an entry that is already stale, never one that
//! outlives the write. Invalidation is wholesale: writes are rare next to reads, and a dropped cache
//! costs one query per key.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use moka::sync::Cache;
use pharos_store::{Dashboard, StoreResult, TokenIdentity};

use crate::state::AppState;

#[derive(Clone)]
pub struct Entry<V> {
    generation: u64,
    value: V,
}

/// Search results, already serialized, for one org, viewer and query string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SearchKey {
    pub org_id: i64,
    pub user_id: Option<i64>,
    pub query: String,
}

pub struct Caches {
    generation: AtomicU64,
    /// Service-account token hash → what it authenticates as.
    pub tokens: Cache<String, Entry<Arc<TokenIdentity>>>,
    /// (org, uid) → the stored dashboard (its `is_starred` is not meaningful: stars are per user).
    pub dashboards: Cache<(i64, String), Entry<Arc<Dashboard>>>,
    /// (user, org) → uids the user starred.
    pub stars: Cache<(i64, i64), Entry<Arc<Vec<String>>>>,
    pub search: Cache<SearchKey, Entry<Bytes>>,
}

impl Default for Caches {
    fn default() -> Self {
        Self::new()
    }
}

impl Caches {
    pub fn new() -> Self {
        Caches {
            generation: AtomicU64::new(0),
            // Entries also expire by age so a token's `lastUsedAt` is refreshed now and then.
            tokens: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            dashboards: Cache::builder()
                .weigher(|_, e: &Entry<Arc<Dashboard>>| {
                    e.value.data.len().try_into().unwrap_or(u32::MAX)
                })
                .max_capacity(64 * 1024 * 1024)
                .build(),
            stars: Cache::builder().max_capacity(10_000).build(),
            search: Cache::builder()
                .weigher(|_, e: &Entry<Bytes>| e.value.len().try_into().unwrap_or(u32::MAX))
                .max_capacity(16 * 1024 * 1024)
                .build(),
        }
    }

    /// The generation to pass to [`Caches::put`] for a read that starts now.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes every entry stale.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn get<K, V>(&self, cache: &Cache<K, Entry<V>>, key: &K) -> Option<V>
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        let entry = cache.get(key)?;
        (entry.generation == self.generation()).then_some(entry.value)
    }

    /// Stores `value`, read by a read that began at `generation`.
    pub fn put<K, V>(&self, cache: &Cache<K, Entry<V>>, key: K, generation: u64, value: V)
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        if generation == self.generation() {
            cache.insert(key, Entry { generation, value });
        }
    }
}

/// The dashboard `(org, uid)`, from the cache or the database.
pub async fn dashboard(state: &AppState, org_id: i64, uid: &str) -> StoreResult<Arc<Dashboard>> {
    let caches = &state.caches;
    let key = (org_id, uid.to_string());
    if let Some(d) = caches.get(&caches.dashboards, &key) {
        return Ok(d);
    }
    let generation = caches.generation();
    let d = Arc::new(state.store.dashboard_by_uid(org_id, uid).await?);
    caches.put(&caches.dashboards, key, generation, d.clone());
    Ok(d)
}

/// Uids of the dashboards `user_id` starred in the org, from the cache or the database.
pub async fn starred_uids(
    state: &AppState,
    user_id: i64,
    org_id: i64,
) -> StoreResult<Arc<Vec<String>>> {
    let caches = &state.caches;
    if let Some(uids) = caches.get(&caches.stars, &(user_id, org_id)) {
        return Ok(uids);
    }
    let generation = caches.generation();
    let uids = Arc::new(state.store.starred_uids(user_id, org_id).await?);
    caches.put(&caches.stars, (user_id, org_id), generation, uids.clone());
    Ok(uids)
}

/// Moves the generation on after every request that may have written.
pub async fn invalidate_after_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let response = next.run(req).await;
    if writes {
        state.caches.invalidate_all();
    }
    response
}

/// Moves the generation on whenever the change feed reports writes from any replica.
pub async fn follow_change_feed(state: AppState, feed: pharos_cluster::ChangeFeed) {
    let mut batches = feed.subscribe();
    loop {
        match batches.recv().await {
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                state.caches.invalidate_all()
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_from_an_older_generation_are_not_served() {
        let caches = Caches::new();
        let g = caches.generation();
        caches.put(&caches.stars, (1, 1), g, Arc::new(vec!["a".to_string()]));
        assert_eq!(caches.get(&caches.stars, &(1, 1)).unwrap().len(), 1);
        caches.invalidate_all();
        assert!(caches.get(&caches.stars, &(1, 1)).is_none());
        // A read that began before the invalidation cannot store its (possibly stale) result.
        caches.put(&caches.stars, (1, 1), g, Arc::new(vec![]));
        assert!(caches.get(&caches.stars, &(1, 1)).is_none());
        let g2 = caches.generation();
        caches.put(&caches.stars, (1, 1), g2, Arc::new(vec![]));
        assert!(caches.get(&caches.stars, &(1, 1)).is_some());
    }
}
