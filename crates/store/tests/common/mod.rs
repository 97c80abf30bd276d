//! What the store's integration tests share: a unique name suffix, a connection, and a scratch
//! database of either backend that is removed afterwards.

use std::time::Duration;

use pharos_store::{Store, StoreOptions};

/// Unique within this machine: process id, the clock's nanoseconds, and a counter.
pub fn suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on `url`, not yet migrated.
pub async fn connect(url: &str, max_connections: u32) -> Store {
    Store::connect(&StoreOptions {
        url: url.into(),
        max_connections,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap()
}

/// An empty database made for one test.
pub enum Scratch {
    Sqlite(std::path::PathBuf),
    Postgres(Store, String),
}

/// A new empty database (a SQLite file in a temp dir, or a PostgreSQL database on
/// `PHAROS_TEST_POSTGRES_URL`'s server) named after `prefix`, and its URL.
pub async fn scratch(postgres: bool, prefix: &str) -> (String, Scratch) {
    if postgres {
        let name = format!("pharos_{prefix}_test_{}", suffix());
        let server = std::env::var("PHAROS_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let admin = connect(&format!("{server}/postgres"), 1).await;
        admin
            .execute_raw_for_tests(&format!("CREATE DATABASE {name}"))
            .await;
        (format!("{server}/{name}"), Scratch::Postgres(admin, name))
    } else {
        let dir = std::env::temp_dir().join(format!("pharos-{prefix}-test-{}", suffix()));
        (
            format!("sqlite://{}/pharos.db", dir.display()),
            Scratch::Sqlite(dir),
        )
    }
}

impl Scratch {
    /// Drops the database (the test's stores must be closed first).
    pub async fn remove(self) {
        match self {
            Scratch::Sqlite(dir) => std::fs::remove_dir_all(dir).unwrap(),
            Scratch::Postgres(admin, name) => {
                admin
                    .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                admin.close().await;
            }
        }
    }
}
