//! Login sessions. Only a hash of each token is stored; any replica validates any session.

use crate::changes::record;
use crate::retry::retry_transaction;
use crate::users::{Role, User};
use crate::{now_ms, Store, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub token_hash: String,
    /// The hash before the last rotation, still accepted for a short grace period so requests the
    /// browser sent with the old cookie do not log the user out.
    pub prev_token_hash: Option<String>,
    pub created_at: i64,
    pub rotated_at: i64,
    pub seen_at: i64,
}

impl Store {
    pub async fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        client_ip: &str,
        user_agent: &str,
    ) -> StoreResult<Session> {
        let now = now_ms();
        let user_agent: String = user_agent.chars().take(200).collect();
        let user_agent = &user_agent;
        // One statement: a retry after the database aborted it inserts the one session.
        let id: i64 = retry_transaction("create session", move || async move {
            Ok(sqlx::query_scalar(
                "INSERT INTO user_sessions (user_id, token_hash, created_at, rotated_at, seen_at, client_ip, user_agent) \
                 VALUES ($1, $2, $3, $3, $3, $4, $5) RETURNING id",
            )
            .bind(user_id)
            .bind(token_hash.to_string())
            .bind(now)
            .bind(client_ip.to_string())
            .bind(user_agent.clone())
            .fetch_one(self.pool())
            .await?)
        })
        .await?;
        Ok(Session {
            id,
            user_id,
            token_hash: token_hash.to_string(),
            prev_token_hash: None,
            created_at: now,
            rotated_at: now,
            seen_at: now,
        })
    }

    /// The session whose current (or previous) token hash is `token_hash`, with its user and the
    /// user's role in their current org, in one query: this runs on every cookie-authenticated request.
    pub async fn session_with_user(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(Session, User, Option<Role>)>> {
        let row: Option<(
            i64,
            i64,
            String,
            Option<String>,
            i64,
            i64,
            i64,
            String,
            String,
            String,
            i64,
            i64,
            i64,
            String,
            Option<String>,
        )> = sqlx::query_as(
            "SELECT s.id, s.user_id, s.token_hash, s.prev_token_hash, s.created_at, s.rotated_at, s.seen_at, \
                    u.login, u.email, u.name, u.is_admin, u.is_disabled, u.org_id, u.theme, ou.role \
             FROM user_sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN org_users ou ON ou.user_id = u.id AND ou.org_id = u.org_id \
             WHERE s.token_hash = $1 OR s.prev_token_hash = $1",
        )
        .bind(token_hash.to_string())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let session = Session {
            id: r.0,
            user_id: r.1,
            token_hash: r.2,
            prev_token_hash: r.3,
            created_at: r.4,
            rotated_at: r.5,
            seen_at: r.6,
        };
        // The password hash is not read here: session checks never need it.
        let user = User {
            id: r.1,
            login: r.7,
            email: r.8,
            name: r.9,
            password_hash: String::new(),
            is_admin: r.10 != 0,
            is_disabled: r.11 != 0,
            org_id: r.12,
            theme: r.13,
            created: 0,
            updated: 0,
            last_seen_at: 0,
        };
        Ok(Some((
            session,
            user,
            r.14.as_deref().map(Role::from_db).transpose()?,
        )))
    }

    /// Replaces the session's token. Fails with `VersionMismatch` when another request rotated it
    /// first (the caller then keeps using the cookie it has).
    pub async fn rotate_session(&self, id: i64, old_hash: &str, new_hash: &str) -> StoreResult<()> {
        let now = now_ms();
        let changed = retry_transaction("rotate session", move || async move {
            Ok(sqlx::query(
                "UPDATE user_sessions SET prev_token_hash = token_hash, token_hash = $1, rotated_at = $2, seen_at = $2 \
                 WHERE id = $3 AND token_hash = $4",
            )
            .bind(new_hash.to_string())
            .bind(now)
            .bind(id)
            .bind(old_hash.to_string())
            .execute(self.pool())
            .await?
            .rows_affected())
        })
        .await?;
        if changed == 0 {
            return Err(StoreError::VersionMismatch);
        }
        Ok(())
    }

    pub async fn touch_session(&self, id: i64, at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE user_sessions SET seen_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Revokes one session (logout). Every replica sees it at once: validation reads the table.
    pub async fn revoke_session(&self, id: i64) -> StoreResult<()> {
        retry_transaction("revoke session", move || async move {
            let mut tx = self.begin_write().await?;
            let user_id: Option<i64> =
                sqlx::query_scalar("DELETE FROM user_sessions WHERE id = $1 RETURNING user_id")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(user_id) = user_id {
                record(&mut tx, 0, "session", &user_id.to_string(), "revoke").await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Deletes sessions idle since before `idle_before` or created before `created_before`.
    pub async fn prune_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM user_sessions WHERE seen_at < $1 OR created_at < $2")
                .bind(idle_before)
                .bind(created_before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
