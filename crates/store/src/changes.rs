//! The change feed: every write that another replica may cache appends one row, in the same
//! transaction as the write, so a reader that sees the change also sees the write.

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
        let rows: Vec<(i64, i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, org_id, entity, entity_key, action, created_at FROM changes \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
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
}
