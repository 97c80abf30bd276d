//! Idempotency keys of write requests (`Idempotency-Key`), shared by every replica.
//!
//! A key is claimed with one conditional `INSERT … ON CONFLICT DO UPDATE … WHERE`, so among
//! replicas receiving the same key at once exactly one wins the claim: the primary key
//! `(scope, idem_key)` makes the second insert conflict, and the update that could take the key
//! over only applies to an in-flight claim whose lock ran out (its replica died) with the same
//! request fingerprint. Every claim carries an owner token, `{replica id}/{random}`; only its owner
//! completes or releases it, so a slow original that lost its claim cannot overwrite or delete its
//! successor's. The replica id in the token lets another replica see whose claim blocks it and take
//! it over at once when that replica is known dead ([`Store::take_over_idempotency_key`]).
//!
//! Times (`now_ms`) are passed in by the caller (the replica's clock): the lock is a minute and the
//! retention a day, far above the skew between replicas' clocks, and tests can move time.

use crate::{Store, StoreError, StoreResult};

/// The response kept for a completed key, replayed to repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// What [`Store::claim_idempotency_key`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// This request holds the key now (first use, or took over an expired in-flight claim):
    /// process it, then [`Store::complete_idempotency_key`] or [`Store::release_idempotency_key`]
    /// with this owner token.
    Claimed { owner: String },
    /// An earlier request with the same fingerprint completed: replay its response.
    Completed(StoredResponse),
    /// An earlier request with the same fingerprint is still being processed, under claim
    /// `owner` (see [`owner_replica`]; empty when the row kept changing hands).
    InFlight { owner: String },
    /// The key was used for a different request (method, path or body).
    Mismatch,
}

/// The replica that holds a claim, from its owner token (`{replica id}/{random}`).
pub fn owner_replica(owner: &str) -> Option<&str> {
    owner
        .split_once('/')
        .map(|(replica, _)| replica)
        .filter(|replica| !replica.is_empty())
}

fn new_owner(replica: &str) -> String {
    format!("{replica}/{}", hex::encode(rand::random::<[u8; 16]>()))
}

fn not_empty(what: &str, text: &str) -> StoreResult<()> {
    if text.is_empty() {
        Err(StoreError::Invalid(format!("{what} must not be empty")))
    } else {
        Ok(())
    }
}

impl Store {
    /// Claims `key` in `scope` for a request with `fingerprint` processed by `replica`, locking it
    /// for `lock_ms` from `now_ms`; or reports what an earlier request with the key left.
    pub async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        replica: &str,
        now_ms: i64,
        lock_ms: i64,
    ) -> StoreResult<IdempotencyClaim> {
        not_empty("idempotency scope", scope)?;
        not_empty("idempotency key", key)?;
        not_empty("request fingerprint", fingerprint)?;
        not_empty("replica id", replica)?;
        let owner = new_owner(replica);
        // A row can vanish between the failed claim and the read (released after a 5xx, pruned):
        // then the claim is simply tried again.
        for _ in 0..3 {
            let claimed: Option<String> = sqlx::query_scalar(
                "INSERT INTO idempotency_keys \
                 (scope, idem_key, fingerprint, owner, completed, created_at, locked_until) \
                 VALUES ($1, $2, $3, $4, 0, $5, $6) \
                 ON CONFLICT (scope, idem_key) DO UPDATE SET owner = excluded.owner, \
                 created_at = excluded.created_at, locked_until = excluded.locked_until \
                 WHERE idempotency_keys.completed = 0 AND idempotency_keys.locked_until <= $5 \
                 AND idempotency_keys.fingerprint = excluded.fingerprint \
                 RETURNING owner",
            )
            .bind(scope.to_string())
            .bind(key.to_string())
            .bind(fingerprint.to_string())
            .bind(owner.clone())
            .bind(now_ms)
            .bind(now_ms.saturating_add(lock_ms))
            .fetch_optional(self.pool())
            .await?;
            if let Some(owner) = claimed {
                return Ok(IdempotencyClaim::Claimed { owner });
            }
            let row: Option<(String, i64, i64, String, Option<Vec<u8>>, String)> = sqlx::query_as(
                "SELECT fingerprint, completed, status, content_type, body, owner \
                 FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
            )
            .bind(scope.to_string())
            .bind(key.to_string())
            .fetch_optional(self.pool())
            .await?;
            let Some((stored_fingerprint, completed, status, content_type, body, holder)) = row
            else {
                continue;
            };
            if stored_fingerprint != fingerprint {
                return Ok(IdempotencyClaim::Mismatch);
            }
            if completed == 0 {
                return Ok(IdempotencyClaim::InFlight { owner: holder });
            }
            let status = u16::try_from(status)
                .map_err(|_| StoreError::Corrupt(format!("idempotency status {status}")))?;
            return Ok(IdempotencyClaim::Completed(StoredResponse {
                status,
                content_type,
                body: body.unwrap_or_default(),
            }));
        }
        // Claimed and released by others three times in a row: as good as in flight.
        Ok(IdempotencyClaim::InFlight {
            owner: String::new(),
        })
    }

    /// Takes over the in-flight claim `stale_owner` holds on `key` (its replica is known to be
    /// dead) for a request processed by `replica`, locked for `lock_ms` from `now_ms`. Returns the
    /// new owner token, or None when the claim is no longer `stale_owner`'s (completed, released,
    /// or taken over by someone else first).
    pub async fn take_over_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        stale_owner: &str,
        replica: &str,
        now_ms: i64,
        lock_ms: i64,
    ) -> StoreResult<Option<String>> {
        not_empty("replica id", replica)?;
        let owner = new_owner(replica);
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET owner = $1, created_at = $2, locked_until = $3 \
             WHERE scope = $4 AND idem_key = $5 AND owner = $6 AND completed = 0",
        )
        .bind(owner.clone())
        .bind(now_ms)
        .bind(now_ms.saturating_add(lock_ms))
        .bind(scope.to_string())
        .bind(key.to_string())
        .bind(stale_owner.to_string())
        .execute(self.pool())
        .await?
        .rows_affected()
            > 0;
        Ok(taken.then_some(owner))
    }

    /// Stores the response of the request holding `owner`'s claim. False when the claim was lost
    /// (taken over after its lock expired, or pruned): the response is then not kept.
    pub async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        owner: &str,
        response: &StoredResponse,
    ) -> StoreResult<bool> {
        Ok(sqlx::query(
            "UPDATE idempotency_keys SET completed = 1, status = $1, content_type = $2, body = $3 \
             WHERE scope = $4 AND idem_key = $5 AND owner = $6 AND completed = 0",
        )
        .bind(i64::from(response.status))
        .bind(response.content_type.clone())
        .bind(response.body.clone())
        .bind(scope.to_string())
        .bind(key.to_string())
        .bind(owner.to_string())
        .execute(self.pool())
        .await?
        .rows_affected()
            > 0)
    }

    /// Gives up `owner`'s in-flight claim (the response is not kept), so a retry runs afresh.
    pub async fn release_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        owner: &str,
    ) -> StoreResult<bool> {
        Ok(sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE scope = $1 AND idem_key = $2 AND owner = $3 AND completed = 0",
        )
        .bind(scope.to_string())
        .bind(key.to_string())
        .bind(owner.to_string())
        .execute(self.pool())
        .await?
        .rows_affected()
            > 0)
    }

    /// Deletes keys claimed before `before_ms` (maintenance). Returns how many.
    pub async fn prune_idempotency_keys(&self, before_ms: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(before_ms)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
