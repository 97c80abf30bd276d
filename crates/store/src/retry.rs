//! Re-running a write transaction that failed for a reason that is not the request's fault.
//!
//! PostgreSQL (and CockroachDB, which answers 40001 to most contention) may abort a transaction
//! with a serialization failure or a deadlock; the whole transaction was rolled back, so running
//! it again from the start is safe and usually succeeds. Only transactions whose every effect is
//! inside the transaction may be retried this way: nothing that happened outside the database
//! (a generated id, a message sent) may be repeated by a second attempt.

use std::future::Future;
use std::time::Duration;

use crate::error::{StoreError, StoreResult};

/// The waits before the second, third and fourth attempt.
pub(crate) const BACKOFF: [Duration; 3] = [
    Duration::from_millis(20),
    Duration::from_millis(80),
    Duration::from_millis(200),
];

/// Runs `attempt` until it succeeds, fails for a reason a retry cannot fix, or the
/// [`BACKOFF`] steps are used up (then the last error is returned). `what` names the
/// operation in the log.
pub(crate) async fn retry_transaction<T, F, Fut>(what: &str, attempt: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    retry_with(what, &BACKOFF, attempt).await
}

async fn retry_with<T, F, Fut>(what: &str, backoff: &[Duration], mut attempt: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut waits = backoff.iter();
    loop {
        match attempt().await {
            Err(e) if e.is_retryable_conflict() => match waits.next() {
                Some(wait) => {
                    tracing::debug!(operation = what, error = %e, wait_ms = wait.as_millis() as u64,
                        "transaction aborted by the database; retrying");
                    tokio::time::sleep(*wait).await;
                }
                None => {
                    tracing::warn!(operation = what, error = %e, "transaction kept aborting; giving up");
                    return Err(e);
                }
            },
            result => return result,
        }
    }
}

/// True when `err` comes from starting a transaction on a connection that turned out dead
/// (reset, closed by a restarting server): no statement ran, so beginning again on another
/// connection is safe. A pool timeout is not retried: it already waited `acquire_timeout`.
pub(crate) fn is_retryable_begin(err: &StoreError) -> bool {
    match err {
        StoreError::Unavailable(sqlx::Error::Io(_) | sqlx::Error::Tls(_)) => true,
        StoreError::Unavailable(sqlx::Error::Database(db)) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c == "57P01"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn io_reset() -> StoreError {
        StoreError::from(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset",
        )))
    }

    const FAST: [Duration; 3] = [Duration::from_millis(1); 3];

    #[tokio::test]
    async fn retries_conflicts_until_success() {
        let calls = AtomicU32::new(0);
        let result = retry_with("test", &FAST, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(StoreError::Conflict("could not serialize access".into())),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn gives_up_after_the_backoff_steps() {
        let calls = AtomicU32::new(0);
        let result: StoreResult<()> = retry_with("test", &FAST, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(StoreError::Conflict("deadlock detected".into()))
        })
        .await;
        assert!(matches!(result, Err(StoreError::Conflict(_))));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "one attempt and three retries"
        );
    }

    #[tokio::test]
    async fn does_not_retry_other_errors() {
        for err in [
            || StoreError::AlreadyExists,
            || StoreError::VersionMismatch,
            || StoreError::Invalid("bad".into()),
            // A connection lost mid-transaction may have lost a COMMIT that succeeded.
            io_reset,
        ] {
            let calls = AtomicU32::new(0);
            let result: StoreResult<()> = retry_with("test", &FAST, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(err())
            })
            .await;
            assert!(result.is_err());
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test]
    async fn the_default_backoff_waits_about_300ms_in_all() {
        assert_eq!(BACKOFF.iter().sum::<Duration>(), Duration::from_millis(300));
    }

    #[test]
    fn begin_retries_only_connection_failures() {
        assert!(is_retryable_begin(&io_reset()));
        assert!(!is_retryable_begin(&StoreError::from(
            sqlx::Error::PoolTimedOut
        )));
        assert!(!is_retryable_begin(&StoreError::NotFound));
    }
}
