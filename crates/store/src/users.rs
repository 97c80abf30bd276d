//! Users, their org memberships and roles.

use crate::changes::record;
use crate::retry::retry_transaction;
use crate::{now_ms, Store, StoreError, StoreResult};
use serde::{Deserialize, Serialize};

/// An org role, ordered: a role includes every smaller one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Editor => "Editor",
            Role::Admin => "Admin",
        }
    }

    /// Parses Grafana's role names (case-insensitively, as Grafana's API accepts them).
    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub(crate) fn from_db(s: &str) -> StoreResult<Role> {
        Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown role {s:?}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub is_disabled: bool,
    pub org_id: i64,
    pub theme: String,
    pub created: i64,
    pub updated: i64,
    pub last_seen_at: i64,
}

type UserRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    i64,
    i64,
    i64,
);

const USER_COLUMNS: &str =
    "SELECT id, login, email, name, password_hash, is_admin, is_disabled, org_id, theme, \
     created, updated, last_seen_at FROM users";

fn user_from_row(r: UserRow) -> User {
    User {
        id: r.0,
        login: r.1,
        email: r.2,
        name: r.3,
        password_hash: r.4,
        is_admin: r.5 != 0,
        is_disabled: r.6 != 0,
        org_id: r.7,
        theme: r.8,
        created: r.9,
        updated: r.10,
        last_seen_at: r.11,
    }
}

/// What [`Store::create_user`] needs; the password arrives already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub org_id: i64,
    pub role: Role,
}

/// One org a user belongs to, with the role there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserOrg {
    pub org_id: i64,
    pub name: String,
    pub role: Role,
}

impl Store {
    /// Creates the user and its membership of `org_id` in one transaction.
    pub async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        if new.login.trim().is_empty() {
            return Err(StoreError::Invalid("login is required".into()));
        }
        let now = now_ms();
        let email = if new.email.is_empty() {
            new.login.clone()
        } else {
            new.email.clone()
        };
        let email = &email;
        let id = retry_transaction("create user", move || async move {
            let mut tx = self.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (login, email, name, password_hash, is_admin, is_disabled, org_id, created, updated) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $7) RETURNING id",
            )
            .bind(new.login.clone())
            .bind(email.clone())
            .bind(new.name.clone())
            .bind(new.password_hash.clone())
            .bind(new.is_admin as i64)
            .bind(new.org_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO org_users (org_id, user_id, role, created, updated) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(new.org_id)
            .bind(id)
            .bind(new.role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            record(&mut tx, new.org_id, "user", &id.to_string(), "create").await?;
            tx.commit().await?;
            Ok(id)
        })
        .await?;
        self.user_by_id(id).await
    }

    pub async fn user_by_id(&self, id: i64) -> StoreResult<User> {
        let sql = format!("{USER_COLUMNS} WHERE id = $1");
        let row: UserRow = sqlx::query_as(&sql).bind(id).fetch_one(self.pool()).await?;
        Ok(user_from_row(row))
    }

    /// Finds a user by login or e-mail, ignoring case (how Grafana's login form and lookup behave).
    pub async fn user_by_login_or_email(&self, login_or_email: &str) -> StoreResult<User> {
        let sql = format!(
            "{USER_COLUMNS} WHERE lower(login) = lower($1) OR lower(email) = lower($1) \
             ORDER BY CASE WHEN lower(login) = lower($1) THEN 0 ELSE 1 END LIMIT 1"
        );
        let row: UserRow = sqlx::query_as(&sql)
            .bind(login_or_email.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(user_from_row(row))
    }

    /// Users whose login, e-mail or name contains `query`, by login; and how many match in all.
    pub async fn search_users(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<User>, i64)> {
        let pattern = format!("%{}%", query.to_lowercase());
        let sql = format!(
            "{USER_COLUMNS} WHERE lower(login) LIKE $1 OR lower(email) LIKE $1 OR lower(name) LIKE $1 \
             ORDER BY lower(login) LIMIT $2 OFFSET $3"
        );
        let rows: Vec<UserRow> = sqlx::query_as(&sql)
            .bind(pattern.clone())
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM users WHERE lower(login) LIKE $1 OR lower(email) LIKE $1 OR lower(name) LIKE $1",
        )
        .bind(pattern)
        .fetch_one(self.pool())
        .await?;
        Ok((rows.into_iter().map(user_from_row).collect(), total))
    }

    /// Sets a new password hash and revokes every session of the user, in one transaction.
    pub async fn set_user_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()> {
        retry_transaction("set user password", move || async move {
            let mut tx = self.begin_write().await?;
            let changed =
                sqlx::query("UPDATE users SET password_hash = $1, updated = $2 WHERE id = $3")
                    .bind(password_hash.to_string())
                    .bind(now_ms())
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM user_sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            record(&mut tx, 0, "user", &user_id.to_string(), "password").await?;
            record(&mut tx, 0, "session", &user_id.to_string(), "revoke-all").await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn set_user_server_admin(&self, user_id: i64, is_admin: bool) -> StoreResult<()> {
        retry_transaction("set server admin", move || async move {
            let mut tx = self.begin_write().await?;
            let changed = sqlx::query("UPDATE users SET is_admin = $1, updated = $2 WHERE id = $3")
                .bind(is_admin as i64)
                .bind(now_ms())
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record(&mut tx, 0, "user", &user_id.to_string(), "update").await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Updates the profile fields a user may change about themselves.
    pub async fn update_user_profile(
        &self,
        user_id: i64,
        name: &str,
        email: &str,
        login: &str,
        theme: &str,
    ) -> StoreResult<()> {
        retry_transaction("update user profile", move || async move {
            let mut tx = self.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE users SET name = $1, email = $2, login = $3, theme = $4, updated = $5 WHERE id = $6",
            )
            .bind(name.to_string())
            .bind(email.to_string())
            .bind(login.to_string())
            .bind(theme.to_string())
            .bind(now_ms())
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record(&mut tx, 0, "user", &user_id.to_string(), "update").await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Deletes the user with its memberships, sessions and stars.
    pub async fn delete_user(&self, user_id: i64) -> StoreResult<()> {
        retry_transaction("delete user", move || async move {
            let mut tx = self.begin_write().await?;
            for sql in [
                "DELETE FROM stars WHERE user_id = $1",
                "DELETE FROM user_sessions WHERE user_id = $1",
                "DELETE FROM org_users WHERE user_id = $1",
            ] {
                sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
            }
            let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            record(&mut tx, 0, "user", &user_id.to_string(), "delete").await?;
            record(&mut tx, 0, "session", &user_id.to_string(), "revoke-all").await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Notes that the user made a request; callers throttle this to once a minute or so.
    pub async fn touch_user_seen(&self, user_id: i64, at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
            .bind(at)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The orgs the user belongs to, with the role in each.
    pub async fn user_orgs(&self, user_id: i64) -> StoreResult<Vec<UserOrg>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT o.id, o.name, ou.role FROM org_users ou JOIN orgs o ON o.id = ou.org_id \
             WHERE ou.user_id = $1 ORDER BY o.name",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(org_id, name, role)| {
                Ok(UserOrg {
                    org_id,
                    name,
                    role: Role::from_db(&role)?,
                })
            })
            .collect()
    }

    /// The user's role in the org, or `None` when not a member.
    pub async fn org_role(&self, user_id: i64, org_id: i64) -> StoreResult<Option<Role>> {
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM org_users WHERE user_id = $1 AND org_id = $2")
                .bind(user_id)
                .bind(org_id)
                .fetch_optional(self.pool())
                .await?;
        role.as_deref().map(Role::from_db).transpose()
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }
}
