//! The change feed: every write that another replica may cache appends one row, in the same
//! transaction as the write, so a reader that sees the change also sees the write.

use crate::sql::SqlBuilder;
use crate::{now_ms, Store, StoreResult};
use sqlx::{Any, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: i64,
    pub org_id: i64,
    pub entity: String,
    pub entity_key: String,
    pub action: String,
    pub created_at: i64,
}

/// The PostgreSQL channel every write notifies (delivered at commit), so tailers wake at once.
pub const CHANGE_CHANNEL: &str = "pharos_changes";

pub(crate) async fn record(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    entity: &str,
    key: &str,
    action: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO changes (org_id, entity, entity_key, action, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org_id)
    .bind(entity.to_string())
    .bind(key.to_string())
    .bind(action.to_string())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANGE_CHANNEL)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// The id of the newest change (0 when there is none).
    pub async fn latest_change_id(&self) -> StoreResult<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM changes")
            .fetch_one(self.pool())
            .await?;
        Ok(id.unwrap_or(0))
    }

    /// Changes with an id above `after`, oldest first, at most `limit`.
    pub async fn changes_since(&self, after: i64, limit: i64) -> StoreResult<Vec<Change>> {
        self.changes_since_or_within(after, &[], limit).await
    }

    /// Changes with an id above `after` or inside one of the inclusive id ranges `within`, oldest
    /// first, at most `limit`. The change feed passes the ids it found missing below `after` (a
    /// transaction that took a lower id may commit after one that took a higher id).
    pub async fn changes_since_or_within(
        &self,
        after: i64,
        within: &[(i64, i64)],
        limit: i64,
    ) -> StoreResult<Vec<Change>> {
        const SELECT: &str =
            "SELECT id, org_id, entity, entity_key, action, created_at FROM changes WHERE id > ";
        let rows: Vec<(i64, i64, String, String, String, i64)> = if within.is_empty() {
            sqlx::query_as(
                "SELECT id, org_id, entity, entity_key, action, created_at FROM changes \
                 WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool())
            .await?
        } else {
            let mut sql = SqlBuilder::new(SELECT);
            sql.bind(after);
            for &(lo, hi) in within {
                sql.push(" OR id BETWEEN ").bind(lo).push(" AND ").bind(hi);
            }
            sql.push(" ORDER BY id LIMIT ").bind(limit);
            let (text, args) = sql.build();
            sqlx::query_as_with(&text, args)
                .fetch_all(self.pool())
                .await?
        };
        Ok(rows
            .into_iter()
            .map(
                |(id, org_id, entity, entity_key, action, created_at)| Change {
                    id,
                    org_id,
                    entity,
                    entity_key,
                    action,
                    created_at,
                },
            )
            .collect())
    }

    /// Deletes changes recorded before `before_ms` (the maintenance job: tailers only ever read
    /// the last seconds of the table). Returns how many it deleted.
    pub async fn prune_changes(&self, before_ms: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM changes WHERE created_at < $1")
            .bind(before_ms)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
