//! Service accounts and their API tokens. A token is shown once at creation and stored as a hash.

use crate::changes::record;
use crate::retry::retry_transaction;
use crate::users::Role;
use crate::{now_ms, Store, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub login: String,
    pub role: Role,
    pub is_disabled: bool,
    pub created: i64,
    pub updated: i64,
    /// How many tokens the account has (filled by listing queries; 0 elsewhere).
    pub tokens: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub org_id: i64,
    pub service_account_id: i64,
    pub name: String,
    pub created: i64,
    pub expires: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// What a bearer token authenticates as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    pub token: ApiToken,
    pub account: ServiceAccount,
}

type AccountRow = (i64, i64, String, String, String, i64, i64, i64, i64);

const ACCOUNT_SELECT: &str = "SELECT sa.id, sa.org_id, sa.name, sa.login, sa.role, sa.is_disabled, sa.created, sa.updated, \
     (SELECT count(*) FROM api_tokens t WHERE t.service_account_id = sa.id) FROM service_accounts sa";

fn account_from_row(r: AccountRow) -> StoreResult<ServiceAccount> {
    Ok(ServiceAccount {
        id: r.0,
        org_id: r.1,
        name: r.2,
        login: r.3,
        role: Role::from_db(&r.4)?,
        is_disabled: r.5 != 0,
        created: r.6,
        updated: r.7,
        tokens: r.8,
    })
}

/// Grafana's login for a service account: `sa-` and the name, lowercased, spaces as dashes.
fn account_login(org_id: i64, name: &str) -> String {
    let base: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect();
    if org_id == 1 {
        format!("sa-{base}")
    } else {
        format!("sa-{org_id}-{base}")
    }
}

impl Store {
    pub async fn create_service_account(
        &self,
        org_id: i64,
        name: &str,
        role: Role,
        is_disabled: bool,
    ) -> StoreResult<ServiceAccount> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "service account name is required".into(),
            ));
        }
        let now = now_ms();
        let id = retry_transaction("create service account", move || async move {
            let mut tx = self.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO service_accounts (org_id, name, login, role, is_disabled, created, updated) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            )
            .bind(org_id)
            .bind(name.to_string())
            .bind(account_login(org_id, name))
            .bind(role.as_str())
            .bind(is_disabled as i64)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            record(
                &mut tx,
                org_id,
                "service_account",
                &id.to_string(),
                "create",
            )
            .await?;
            tx.commit().await?;
            Ok(id)
        })
        .await?;
        self.service_account(org_id, id).await
    }

    pub async fn service_account(&self, org_id: i64, id: i64) -> StoreResult<ServiceAccount> {
        let sql = format!("{ACCOUNT_SELECT} WHERE sa.org_id = $1 AND sa.id = $2");
        let row: AccountRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        account_from_row(row)
    }

    /// Accounts whose name or login contains `query`, by name; and how many match in all.
    pub async fn search_service_accounts(
        &self,
        org_id: i64,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<ServiceAccount>, i64)> {
        let pattern = format!("%{}%", query.to_lowercase());
        let sql = format!(
            "{ACCOUNT_SELECT} WHERE sa.org_id = $1 AND (lower(sa.name) LIKE $2 OR lower(sa.login) LIKE $2) \
             ORDER BY lower(sa.name) LIMIT $3 OFFSET $4"
        );
        let rows: Vec<AccountRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(pattern.clone())
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM service_accounts sa \
             WHERE sa.org_id = $1 AND (lower(sa.name) LIKE $2 OR lower(sa.login) LIKE $2)",
        )
        .bind(org_id)
        .bind(pattern)
        .fetch_one(self.pool())
        .await?;
        let accounts = rows
            .into_iter()
            .map(account_from_row)
            .collect::<StoreResult<_>>()?;
        Ok((accounts, total))
    }

    /// Changes the given fields of an account.
    pub async fn update_service_account(
        &self,
        org_id: i64,
        id: i64,
        name: Option<&str>,
        role: Option<Role>,
        is_disabled: Option<bool>,
    ) -> StoreResult<ServiceAccount> {
        let current = self.service_account(org_id, id).await?;
        let name = name.map(str::trim).unwrap_or(&current.name).to_string();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "service account name is required".into(),
            ));
        }
        let (name, current) = (&name, &current);
        retry_transaction("update service account", move || async move {
            let mut tx = self.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE service_accounts SET name = $1, login = $2, role = $3, is_disabled = $4, updated = $5 \
                 WHERE org_id = $6 AND id = $7",
            )
            .bind(name.clone())
            .bind(account_login(org_id, name))
            .bind(role.unwrap_or(current.role).as_str())
            .bind(is_disabled.unwrap_or(current.is_disabled) as i64)
            .bind(now_ms())
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record(
                &mut tx,
                org_id,
                "service_account",
                &id.to_string(),
                "update",
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        self.service_account(org_id, id).await
    }

    /// Deletes the account and its tokens.
    pub async fn delete_service_account(&self, org_id: i64, id: i64) -> StoreResult<()> {
        retry_transaction("delete service account", move || async move {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM api_tokens WHERE org_id = $1 AND service_account_id = $2")
                .bind(org_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let changed = sqlx::query("DELETE FROM service_accounts WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record(
                &mut tx,
                org_id,
                "service_account",
                &id.to_string(),
                "delete",
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Stores a new token's hash for the account.
    pub async fn create_api_token(
        &self,
        org_id: i64,
        service_account_id: i64,
        name: &str,
        key_hash: &str,
        expires: Option<i64>,
    ) -> StoreResult<ApiToken> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("token name is required".into()));
        }
        let now = now_ms();
        let id = retry_transaction("create api token", move || async move {
            let mut tx = self.begin_write().await?;
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM service_accounts WHERE org_id = $1 AND id = $2")
                    .bind(org_id)
                    .bind(service_account_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (org_id, service_account_id, name, key_hash, created, expires) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(org_id)
            .bind(service_account_id)
            .bind(name.to_string())
            .bind(key_hash.to_string())
            .bind(now)
            .bind(expires)
            .fetch_one(&mut *tx)
            .await?;
            record(&mut tx, org_id, "api_token", &id.to_string(), "create").await?;
            tx.commit().await?;
            Ok(id)
        })
        .await?;
        Ok(ApiToken {
            id,
            org_id,
            service_account_id,
            name: name.to_string(),
            created: now,
            expires,
            last_used_at: None,
        })
    }

    pub async fn list_api_tokens(
        &self,
        org_id: i64,
        service_account_id: i64,
    ) -> StoreResult<Vec<ApiToken>> {
        let rows: Vec<(i64, i64, i64, String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT id, org_id, service_account_id, name, created, expires, last_used_at FROM api_tokens \
             WHERE org_id = $1 AND service_account_id = $2 ORDER BY name",
        )
        .bind(org_id)
        .bind(service_account_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ApiToken {
                id: r.0,
                org_id: r.1,
                service_account_id: r.2,
                name: r.3,
                created: r.4,
                expires: r.5,
                last_used_at: r.6,
            })
            .collect())
    }

    pub async fn delete_api_token(
        &self,
        org_id: i64,
        service_account_id: i64,
        token_id: i64,
    ) -> StoreResult<()> {
        retry_transaction("delete api token", move || async move {
            let mut tx = self.begin_write().await?;
            let changed = sqlx::query(
                "DELETE FROM api_tokens WHERE org_id = $1 AND service_account_id = $2 AND id = $3",
            )
            .bind(org_id)
            .bind(service_account_id)
            .bind(token_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record(
                &mut tx,
                org_id,
                "api_token",
                &token_id.to_string(),
                "delete",
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// The token and account a presented key's hash belongs to; runs on every token-authenticated request.
    pub async fn token_identity(&self, key_hash: &str) -> StoreResult<Option<TokenIdentity>> {
        let row: Option<(i64, i64, i64, String, i64, Option<i64>, Option<i64>, String, String, String, i64, i64, i64)> =
            sqlx::query_as(
                "SELECT t.id, t.org_id, t.service_account_id, t.name, t.created, t.expires, t.last_used_at, \
                        sa.name, sa.login, sa.role, sa.is_disabled, sa.created, sa.updated \
                 FROM api_tokens t JOIN service_accounts sa ON sa.id = t.service_account_id \
                 WHERE t.key_hash = $1",
            )
            .bind(key_hash.to_string())
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(TokenIdentity {
            token: ApiToken {
                id: r.0,
                org_id: r.1,
                service_account_id: r.2,
                name: r.3,
                created: r.4,
                expires: r.5,
                last_used_at: r.6,
            },
            account: ServiceAccount {
                id: r.2,
                org_id: r.1,
                name: r.7,
                login: r.8,
                role: Role::from_db(&r.9)?,
                is_disabled: r.10 != 0,
                created: r.11,
                updated: r.12,
                tokens: 0,
            },
        }))
    }

    pub async fn touch_api_token(&self, token_id: i64, at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(token_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn logins_follow_grafana() {
        assert_eq!(super::account_login(1, "My Bot"), "sa-my-bot");
        assert_eq!(super::account_login(3, "ci"), "sa-3-ci");
    }
}
