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
    /// A write fenced by a lease found the lease no longer held in the caller's term (it expired,
    /// was released, or another replica took it): the caller must stop the work the lease guards.
    #[error("lease {0} is no longer held with this fencing token")]
    LeaseLost(String),
    /// The database cannot be reached (connection refused, pool timed out, closed).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database aborted the transaction to resolve contention (serialization failure 40001,
    /// deadlock 40P01); it was rolled back, so running it again is safe. The store retries these;
    /// one that reaches a caller kept failing and is answered as 503.
    #[error("transaction aborted by the database: {0}")]
    Conflict(String),
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
                _ if matches!(db.code().as_deref(), Some("40001" | "40P01")) => {
                    StoreError::Conflict(db.message().to_string())
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

/// PostgreSQL codes for a server shutting down, starting or refusing connections (57P01-57P03,
/// too many connections 53300, the whole connection-exception class 08xxx); SQLite's busy and
/// locked.
fn is_transient_code(code: Option<&str>) -> bool {
    match code {
        Some(c) if c.len() == 5 && c.starts_with("08") => true,
        Some(c) => matches!(c, "57P01" | "57P02" | "57P03" | "53300" | "5" | "6" | "517"),
        None => false,
    }
}

impl StoreError {
    /// True when the database, not the request, is at fault and a later retry may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// True for a transaction the database aborted under contention, which may simply be run again.
    pub fn is_retryable_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// A driver error with a SQLSTATE, as PostgreSQL or CockroachDB would send it.
    #[derive(Debug)]
    struct FakeDbError(&'static str);

    impl std::fmt::Display for FakeDbError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error {}", self.0)
        }
    }
    impl std::error::Error for FakeDbError {}
    impl sqlx::error::DatabaseError for FakeDbError {
        fn message(&self) -> &str {
            "fake"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn with_code(code: &'static str) -> StoreError {
        StoreError::from(sqlx::Error::Database(Box::new(FakeDbError(code))))
    }

    #[test]
    fn contention_is_a_retryable_conflict() {
        for code in ["40001", "40P01"] {
            let err = with_code(code);
            assert!(err.is_retryable_conflict(), "{code}: {err:?}");
            assert!(!err.is_unavailable());
        }
    }

    #[test]
    fn connection_level_failures_are_unavailable() {
        for code in [
            "57P01", "57P03", "08000", "08001", "08003", "08006", "53300",
        ] {
            assert!(with_code(code).is_unavailable(), "{code}");
        }
        let io = |kind| sqlx::Error::Io(std::io::Error::new(kind, "x"));
        for err in [
            io(std::io::ErrorKind::ConnectionRefused),
            io(std::io::ErrorKind::ConnectionReset),
            io(std::io::ErrorKind::UnexpectedEof),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            assert!(StoreError::from(err).is_unavailable());
        }
    }

    #[test]
    fn other_database_errors_stay_errors() {
        for code in ["42601", "23502", "0800", "080001"] {
            let err = with_code(code);
            assert!(matches!(err, StoreError::Database(_)), "{code}: {err:?}");
        }
        assert!(matches!(with_code("23505"), StoreError::Database(_)));
    }
}
