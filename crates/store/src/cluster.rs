//! Cluster membership (`members`) and leases with fencing tokens (`leases`).
//!
//! Every statement here is one conditional INSERT, UPDATE or DELETE, so it is race-free on both
//! backends without explicit locks: on PostgreSQL `INSERT … ON CONFLICT DO UPDATE … WHERE` locks the
//! conflicting row and evaluates its condition against the newest version, and an `UPDATE`'s
//! `WHERE` is re-checked after a concurrent writer commits; SQLite runs one writer at a time.
//!
//! Times come from the database's clock (`db_now`), never the replica's, so replicas whose clocks
//! disagree still agree on who is alive and who holds a lease.

use crate::{Backend, Store, StoreError, StoreResult};

/// One replica as registered in `members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub address: String,
    pub version: String,
    /// When the replica first registered (database clock, epoch ms).
    pub started_at: i64,
    /// Its last heartbeat (database clock, epoch ms).
    pub heartbeat_at: i64,
}

/// A lease row: who holds it, the term's fencing token and when it runs out. A released lease has
/// an empty `holder` and `expires_at` 0; its token stays, so the next term's token is higher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub fencing_token: i64,
    pub expires_at: i64,
}

/// The database clock in epoch milliseconds, as an SQL expression (a fixed fragment: no values).
fn now_sql(backend: Backend) -> &'static str {
    match backend {
        // clock_timestamp(), not now(): a statement that waited for a row lock must see the time
        // at which it decides, not when its transaction began.
        Backend::Postgres => "(extract(epoch from clock_timestamp()) * 1000)::bigint",
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    }
}

fn positive(what: &str, ms: i64) -> StoreResult<i64> {
    if ms > 0 {
        Ok(ms)
    } else {
        Err(StoreError::Invalid(format!("{what} must be positive")))
    }
}

fn not_empty<'a>(what: &str, text: &'a str) -> StoreResult<&'a str> {
    if text.is_empty() {
        Err(StoreError::Invalid(format!("{what} must not be empty")))
    } else {
        Ok(text)
    }
}

impl Store {
    /// `template` with `{now}` replaced by this backend's clock expression.
    pub(crate) fn with_now(&self, template: &str) -> String {
        template.replace("{now}", now_sql(self.backend()))
    }

    /// The database's clock, in epoch milliseconds.
    pub async fn db_now_ms(&self) -> StoreResult<i64> {
        let sql = self.with_now("SELECT {now}");
        Ok(sqlx::query_scalar(&sql).fetch_one(self.pool()).await?)
    }

    // ---- Membership ----

    /// Registers the replica `id`, or refreshes its heartbeat when it is registered already (a
    /// replica whose row was deleted as dead — after a long pause, say — comes back this way).
    /// `started_at` is set by the first call only.
    pub async fn heartbeat_member(
        &self,
        id: &str,
        address: &str,
        version: &str,
    ) -> StoreResult<()> {
        not_empty("member id", id)?;
        // The clock is read once, so a new member's start and first heartbeat are the same
        // instant (clock_timestamp() moves within a statement). `WHERE true` keeps SQLite from
        // reading ON CONFLICT as part of the SELECT.
        let sql = self.with_now(
            "INSERT INTO members (id, address, version, started_at, heartbeat_at) \
             SELECT $1, $2, $3, clock.t, clock.t FROM (SELECT {now} AS t) AS clock WHERE true \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, \
             address = excluded.address, version = excluded.version",
        );
        sqlx::query(&sql)
            .bind(id.to_string())
            .bind(address.to_string())
            .bind(version.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes the replica's own row (graceful shutdown). True when there was one.
    pub async fn remove_member(&self, id: &str) -> StoreResult<bool> {
        Ok(sqlx::query("DELETE FROM members WHERE id = $1")
            .bind(id.to_string())
            .execute(self.pool())
            .await?
            .rows_affected()
            > 0)
    }

    /// Deletes members whose last heartbeat is older than `timeout_ms`; idempotent, so any replica
    /// may run it at any time. Returns how many it deleted.
    pub async fn prune_dead_members(&self, timeout_ms: i64) -> StoreResult<u64> {
        let timeout_ms = positive("member timeout", timeout_ms)?;
        let sql = self.with_now("DELETE FROM members WHERE heartbeat_at < {now} - $1");
        Ok(sqlx::query(&sql)
            .bind(timeout_ms)
            .execute(self.pool())
            .await?
            .rows_affected())
    }

    /// Every registered member, by id.
    pub async fn members(&self) -> StoreResult<Vec<Member>> {
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, address, version, started_at, heartbeat_at FROM members ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, address, version, started_at, heartbeat_at)| Member {
                id,
                address,
                version,
                started_at,
                heartbeat_at,
            })
            .collect())
    }

    /// How many members heartbeat within `timeout_ms`.
    pub async fn live_member_count(&self, timeout_ms: i64) -> StoreResult<i64> {
        let timeout_ms = positive("member timeout", timeout_ms)?;
        let sql = self.with_now("SELECT count(*) FROM members WHERE heartbeat_at >= {now} - $1");
        Ok(sqlx::query_scalar(&sql)
            .bind(timeout_ms)
            .fetch_one(self.pool())
            .await?)
    }

    // ---- Leases ----

    /// Takes the lease `name` for `holder` for `ttl_ms`, only when nobody holds it (never taken,
    /// released or expired). Each acquisition starts a new term with a fencing token one higher than
    /// the last. `None` when someone else (or `holder` itself, still) holds it: a holder extends its
    /// term with [`Store::renew_lease`].
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> StoreResult<Option<Lease>> {
        not_empty("lease name", name)?;
        not_empty("lease holder", holder)?;
        let ttl_ms = positive("lease ttl", ttl_ms)?;
        let sql = self.with_now(
            "INSERT INTO leases (name, holder, fencing_token, expires_at) \
             VALUES ($1, $2, 1, {now} + $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             fencing_token = leases.fencing_token + 1, expires_at = excluded.expires_at \
             WHERE leases.expires_at <= {now} \
             RETURNING fencing_token, expires_at",
        );
        let row: Option<(i64, i64)> = sqlx::query_as(&sql)
            .bind(name.to_string())
            .bind(holder.to_string())
            .bind(ttl_ms)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(fencing_token, expires_at)| Lease {
            name: name.to_string(),
            holder: holder.to_string(),
            fencing_token,
            expires_at,
        }))
    }

    /// Extends `lease`'s term to `ttl_ms` from now, only while it is still this holder's, in this
    /// term (same fencing token) and not expired. `None` when the lease is lost.
    pub async fn renew_lease(&self, lease: &Lease, ttl_ms: i64) -> StoreResult<Option<Lease>> {
        let ttl_ms = positive("lease ttl", ttl_ms)?;
        let sql = self.with_now(
            "UPDATE leases SET expires_at = {now} + $1 \
             WHERE name = $2 AND holder = $3 AND fencing_token = $4 AND expires_at > {now} \
             RETURNING expires_at",
        );
        let expires_at: Option<i64> = sqlx::query_scalar(&sql)
            .bind(ttl_ms)
            .bind(lease.name.clone())
            .bind(lease.holder.clone())
            .bind(lease.fencing_token)
            .fetch_optional(self.pool())
            .await?;
        Ok(expires_at.map(|expires_at| Lease {
            expires_at,
            ..lease.clone()
        }))
    }

    /// Gives `lease` up (shutdown) so another replica may take it at once. Only the holder's own
    /// term is released; true when it was still held.
    pub async fn release_lease(&self, lease: &Lease) -> StoreResult<bool> {
        Ok(sqlx::query(
            "UPDATE leases SET holder = '', expires_at = 0 \
             WHERE name = $1 AND holder = $2 AND fencing_token = $3",
        )
        .bind(lease.name.clone())
        .bind(lease.holder.clone())
        .bind(lease.fencing_token)
        .execute(self.pool())
        .await?
        .rows_affected()
            > 0)
    }

    /// Every lease row, by name (released ones included, with an empty holder).
    pub async fn leases(&self) -> StoreResult<Vec<Lease>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, holder, fencing_token, expires_at FROM leases ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, holder, fencing_token, expires_at)| Lease {
                name,
                holder,
                fencing_token,
                expires_at,
            })
            .collect())
    }

    /// Deletes sessions idle since before `idle_before` or created before `created_before`, as a
    /// write fenced by `lease`: the statement deletes nothing unless `lease`'s term is still current
    /// and unexpired when it runs, so a paused former holder cannot act after losing the lease.
    pub async fn prune_sessions_under_lease(
        &self,
        lease: &Lease,
        idle_before: i64,
        created_before: i64,
    ) -> StoreResult<u64> {
        let sql = self.with_now(
            "DELETE FROM user_sessions WHERE (seen_at < $1 OR created_at < $2) \
             AND EXISTS (SELECT 1 FROM leases WHERE name = $3 AND holder = $4 \
                         AND fencing_token = $5 AND expires_at > {now})",
        );
        Ok(sqlx::query(&sql)
            .bind(idle_before)
            .bind(created_before)
            .bind(lease.name.clone())
            .bind(lease.holder.clone())
            .bind(lease.fencing_token)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
