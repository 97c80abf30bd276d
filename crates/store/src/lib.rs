//! Pharos' durable state.
//!
//! One schema for SQLite (a single node) and PostgreSQL (many replicas), reached through sqlx's `Any`
//! driver so every repository is written once. Migrations are embedded and run under PostgreSQL's
//! advisory lock, so replicas that start together migrate exactly once. Times are epoch milliseconds.

// Rows are read as tuples that mirror each SELECT list beside them; a named type per query would
// only restate the column list.
#![allow(clippy::type_complexity)]

mod alerting;
mod backup;
mod changes;
mod cluster;
mod dashboards;
mod datasources;
mod error;
mod folders;
mod idempotency;
mod login_attempts;
mod orgs;
mod provisioning;
mod retry;
mod search;
mod service_accounts;
mod sessions;
mod sql;
mod users;

pub use alerting::{
    AlertInstance, AlertInstanceBatch, AlertInstanceUpdate, AlertRule, AlertRuleGroup,
    AlertRuleGroupUpdate, AlertStateHistoryQuery, AlertStateTransition, ContactPoint,
    ContactPointInput, GroupRule, NewAlertRule, NewAlertStateTransition, NewNotification,
    NotificationEntry, NotificationGroup, NotificationGroupBatch, NotificationPolicy,
    NotificationStatus, Silence, SilenceInput, ALERTING_LEASE, MAX_ALERTING_NAME_LEN,
};
pub use backup::{
    latest_schema, BackupChunks, BackupCounts, BackupError, BackupHeader, BackupResult, Progress,
    BACKUP_FORMAT, BACKUP_FORMAT_VERSION, BACKUP_TABLES,
};
pub use changes::{Change, CHANGE_CHANNEL};
pub use cluster::{Lease, Member};
pub use dashboards::{
    slugify, Dashboard, DashboardVersion, SaveDashboard, SavedDashboard, TagCount, VersionSummary,
};
pub use datasources::{
    DataSourceRef, DataSourceSettings, DataSourceUpdate, NewDataSource, StoredDataSource,
    MAX_DATASOURCE_NAME_LEN,
};
pub use error::{StoreError, StoreResult};
pub use folders::{Folder, FolderUpdate};
pub use idempotency::{owner_replica, IdempotencyClaim, StoredResponse};
pub use orgs::{Org, OrgMember};
pub use provisioning::{Provisioned, ProvisionedKind};
pub use search::{SearchHit, SearchHitKind, SearchQuery};
pub use service_accounts::{ApiToken, ServiceAccount, TokenIdentity};
pub use sessions::Session;
pub use users::{NewUser, Role, User, UserOrg};

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection settings for [`Store::connect`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

/// The handle every other crate uses to reach the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: std::sync::Arc<str>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The result of [`Store::migrate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions this call applied (empty when another replica or an earlier start already had).
    pub applied: Vec<i64>,
    /// Every version the schema now has.
    pub total: usize,
}

impl Store {
    /// Opens a pool for `sqlite://PATH` or `postgres://...`. For SQLite the file and its directory are
    /// created when missing, and each connection runs in WAL mode with a busy timeout.
    pub async fn connect(options: &StoreOptions) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(&options.url)?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(&options.url)?,
            Backend::Postgres => options.url.clone(),
        };
        let connect_options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("database url: {e}")))?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout makes a second
                        // writer wait for the lock instead of failing at once.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy_with(connect_options);
        let store = Store {
            pool,
            backend,
            url: options.url.as_str().into(),
        };
        store.ping().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection URL when the database is PostgreSQL (for a LISTEN connection of its own).
    pub fn postgres_url(&self) -> Option<&str> {
        (self.backend == Backend::Postgres).then_some(&*self.url)
    }

    /// Applies the embedded migrations that are missing. On PostgreSQL this holds an advisory lock for
    /// the whole run, so concurrent callers wait and then find nothing left to do.
    pub async fn migrate(&self) -> StoreResult<MigrationReport> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // One connection for the whole run. On PostgreSQL it holds an advisory lock of its own
        // around "what is applied / apply / what is applied now", so the report names exactly
        // the versions this caller applied even when replicas start together (sqlx's migrator
        // takes a lock too, but only around its own part).
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_REPORT_LOCK)
                .execute(&mut *conn)
                .await?;
        }
        let result = async {
            let before = applied_migrations(&mut conn, self.backend).await?;
            migrator
                .run(&mut *conn)
                .await
                .map_err(StoreError::Migrate)?;
            let after = applied_migrations(&mut conn, self.backend).await?;
            Ok(MigrationReport {
                applied: after
                    .iter()
                    .copied()
                    .filter(|v| !before.contains(v))
                    .collect(),
                total: after.len(),
            })
        }
        .await;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_REPORT_LOCK)
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    /// True when every embedded migration is applied (what `/readyz` checks).
    pub async fn migrations_current(&self) -> StoreResult<bool> {
        let expected = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.iter().count(),
            Backend::Postgres => POSTGRES_MIGRATIONS.iter().count(),
        };
        let mut conn = self.pool.acquire().await?;
        Ok(applied_migrations(&mut conn, self.backend).await?.len() == expected)
    }

    /// A trivial round trip: fails when the database is unreachable.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Connections open in the pool and how many of them are idle.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction. SQLite takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction that reads before it writes cannot fail half-way on a lock upgrade.
    ///
    /// A connection that turns out dead at `BEGIN` (reset, or closed by a restarting server) is
    /// replaced and `BEGIN` tried again with [`retry::BACKOFF`]: no statement has run yet, so
    /// nothing can be applied twice.
    pub(crate) async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        let mut waits = retry::BACKOFF.iter();
        loop {
            let begun = match self.backend {
                Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
                Backend::Postgres => self.pool.begin().await,
            };
            match begun.map_err(StoreError::from) {
                Err(e) if retry::is_retryable_begin(&e) => match waits.next() {
                    Some(wait) => {
                        tracing::debug!(error = %e, "starting a transaction failed; retrying");
                        tokio::time::sleep(*wait).await;
                    }
                    None => return Err(e),
                },
                begun => return begun,
            }
        }
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Key of the advisory lock [`Store::migrate`] holds on PostgreSQL ("PHAROSM" in ASCII).
const MIGRATION_REPORT_LOCK: i64 = 0x0050_4841_524f_534d;

/// Versions recorded as applied in sqlx's table (none when the table does not exist yet).
async fn applied_migrations(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> StoreResult<Vec<i64>> {
    let table_exists: i64 = match backend {
        Backend::Sqlite => sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&mut *conn)
        .await?,
        Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'",
            )
            .fetch_one(&mut *conn)
            .await?
        }
    };
    if table_exists == 0 {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await?)
}

fn backend_of(url: &str) -> StoreResult<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::Config(
            "database url must start with sqlite:// or postgres://".into(),
        ))
    }
}

/// Ensures the SQLite file's directory exists and that the driver may create the file.
fn prepare_sqlite_url(url: &str) -> StoreResult<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config(
            "database url: an SQLite database needs a file path (sqlite://data/pharos.db)".into(),
        ));
    }
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Config(format!(
                    "database url: cannot create directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Milliseconds since the Unix epoch, the store's unit of time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// SHA-256 of a high-entropy secret (session or API token), hex encoded. Such secrets need no slow hash.
pub fn hash_secret(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[doc(hidden)]
impl Store {
    /// Runs one statement verbatim; for test set-up only (creating databases).
    pub async fn execute_raw_for_tests(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(&self.pool).await.expect(sql);
    }

    /// One integer a query returns (a count, say); for tests that inspect the database.
    pub async fn scalar_for_tests(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect(sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_gain_create_mode() {
        let dir = std::env::temp_dir().join(format!("pharos-url-{}", std::process::id()));
        let url = format!("sqlite://{}/x.db", dir.display());
        assert_eq!(
            prepare_sqlite_url(&url).unwrap(),
            format!("sqlite://{}/x.db?mode=rwc", dir.display())
        );
        assert!(dir.is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(prepare_sqlite_url("sqlite://").is_err());
        assert!(backend_of("mysql://x").is_err());
        assert_eq!(backend_of("postgresql://h/db").unwrap(), Backend::Postgres);
    }

    #[test]
    fn both_migration_sets_have_the_same_versions() {
        let versions =
            |m: &sqlx::migrate::Migrator| -> Vec<i64> { m.iter().map(|x| x.version).collect() };
        assert_eq!(versions(&SQLITE_MIGRATIONS), versions(&POSTGRES_MIGRATIONS));
    }
}
