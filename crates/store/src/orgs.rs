//! Orgs and their members. Org 1 ("Main Org.") is created by the first migration.

use crate::changes::record;
use crate::retry::retry_transaction;
use crate::users::Role;
use crate::{now_ms, Store, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub created: i64,
    pub updated: i64,
}

/// A user as a member of an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgMember {
    pub org_id: i64,
    pub user_id: i64,
    pub login: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub last_seen_at: i64,
    pub is_disabled: bool,
}

impl Store {
    pub async fn org_by_id(&self, id: i64) -> StoreResult<Org> {
        let (id, name, created, updated): (i64, String, i64, i64) =
            sqlx::query_as("SELECT id, name, created, updated FROM orgs WHERE id = $1")
                .bind(id)
                .fetch_one(self.pool())
                .await?;
        Ok(Org {
            id,
            name,
            created,
            updated,
        })
    }

    /// Members of the org, by login.
    pub async fn org_members(&self, org_id: i64) -> StoreResult<Vec<OrgMember>> {
        let rows: Vec<(i64, i64, String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT ou.org_id, u.id, u.login, u.email, u.name, ou.role, u.last_seen_at, u.is_disabled \
             FROM org_users ou JOIN users u ON u.id = ou.user_id WHERE ou.org_id = $1 ORDER BY lower(u.login)",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(OrgMember {
                    org_id: r.0,
                    user_id: r.1,
                    login: r.2,
                    email: r.3,
                    name: r.4,
                    role: Role::from_db(&r.5)?,
                    last_seen_at: r.6,
                    is_disabled: r.7 != 0,
                })
            })
            .collect()
    }

    /// Adds an existing user to the org with a role.
    pub async fn add_org_member(&self, org_id: i64, user_id: i64, role: Role) -> StoreResult<()> {
        retry_transaction("add org member", move || async move {
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO org_users (org_id, user_id, role, created, updated) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(org_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            record(&mut tx, org_id, "org_user", &user_id.to_string(), "create").await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn set_org_member_role(
        &self,
        org_id: i64,
        user_id: i64,
        role: Role,
    ) -> StoreResult<()> {
        retry_transaction("set org member role", move || async move {
            let mut tx = self.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE org_users SET role = $1, updated = $2 WHERE org_id = $3 AND user_id = $4",
            )
            .bind(role.as_str())
            .bind(now_ms())
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record(&mut tx, org_id, "org_user", &user_id.to_string(), "update").await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn remove_org_member(&self, org_id: i64, user_id: i64) -> StoreResult<()> {
        retry_transaction("remove org member", move || async move {
            let mut tx = self.begin_write().await?;
            let changed = sqlx::query("DELETE FROM org_users WHERE org_id = $1 AND user_id = $2")
                .bind(org_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record(&mut tx, org_id, "org_user", &user_id.to_string(), "delete").await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}
