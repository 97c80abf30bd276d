//! Failed logins, shared by every replica so throttling holds behind a load balancer.

use crate::{now_ms, Store, StoreResult};

impl Store {
    pub async fn record_failed_login(&self, login: &str, ip: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_attempts (login, ip_address, created_at) VALUES ($1, $2, $3)",
        )
        .bind(login.to_lowercase())
        .bind(ip.to_string())
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Failed attempts since `since_ms` for the login and for the address.
    pub async fn failed_logins_since(
        &self,
        login: &str,
        ip: &str,
        since_ms: i64,
    ) -> StoreResult<(i64, i64)> {
        let by_login: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM login_attempts WHERE login = $1 AND created_at >= $2",
        )
        .bind(login.to_lowercase())
        .bind(since_ms)
        .fetch_one(self.pool())
        .await?;
        let by_ip: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM login_attempts WHERE ip_address = $1 AND created_at >= $2",
        )
        .bind(ip.to_string())
        .bind(since_ms)
        .fetch_one(self.pool())
        .await?;
        Ok((by_login, by_ip))
    }

    /// Forgets the login's failures after it succeeds.
    pub async fn clear_failed_logins(&self, login: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_attempts WHERE login = $1")
            .bind(login.to_lowercase())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Drops attempts older than `before_ms` (maintenance).
    pub async fn prune_failed_logins(&self, before_ms: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM login_attempts WHERE created_at < $1")
                .bind(before_ms)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
