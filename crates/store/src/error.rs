//! The store's one error type. Driver errors are classified here, once, so callers never inspect them.

use sqlx::error::ErrorKind;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed row does not exist (or a referenced one vanished: a foreign-key violation).
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write.
    #[error("already exists")]
    AlreadyExists,
    /// The caller's input breaks a rule of the domain; the text is safe to show a user.
    #[error("{0}")]
    Invalid(String),
    /// A dashboard or folder save lost an optimistic-concurrency race or named a stale version.
    #[error("version mismatch")]
    VersionMismatch,
    /// Another dashboard in the same folder already has the title.
    #[error("name exists")]
    NameExists,
    /// The database cannot be reached (connection refused, pool timed out, closed).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database error: a bug or a broken database, logged and answered as 500.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Config(String),
    /// Stored data that does not decode (for example dashboard JSON written by hand).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => StoreError::AlreadyExists,
                ErrorKind::ForeignKeyViolation => StoreError::NotFound,
                // PostgreSQL text cannot hold NUL (character_not_in_repertoire, invalid byte sequence).
                _ if matches!(db.code().as_deref(), Some("22021")) => {
                    StoreError::Invalid("Text must not contain NUL characters".into())
                }
                _ if is_transient_code(db.code().as_deref()) => StoreError::Unavailable(err),
                _ => StoreError::Database(err),
            },
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err),
            _ => StoreError::Database(err),
        }
    }
}

/// PostgreSQL codes for a server shutting down or refusing connections; SQLite's busy and locked.
fn is_transient_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "57P01" | "57P02" | "57P03" | "53300" | "08000" | "08003" | "08006" | "5" | "6" | "517"
        )
    )
}

impl StoreError {
    /// True when the database, not the request, is at fault and a later retry may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}
