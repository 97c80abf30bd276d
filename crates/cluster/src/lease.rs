//! Runs a job on exactly one replica: the one holding a lease.
//!
//! The runner tries to acquire the lease every `ttl / 3`; once it holds it, it starts the job and
//! renews every `ttl / 3`. The job is stopped (its task aborted) as soon as a renewal fails, says
//! the lease is lost, or has not succeeded by `ttl / 10` before the term's end as measured by this
//! replica's monotonic clock from the moment the last successful renewal was *sent* — so the job
//! is stopped before the lease can expire in the database and another replica start it. Writes the
//! job makes should carry the lease's fencing token (see `Store::prune_sessions_under_lease`), so
//! even a paused process cannot act after losing its term.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pharos_store::{Lease, Store};
use tokio::sync::watch;

use crate::stoppable::StoppableTask;
use tokio::time::Instant;

/// How long releasing a lease may take (at shutdown, with the database perhaps down); an
/// unreleased lease simply expires.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);

/// A job running under a lease, and whether this replica holds it now. Cheap to clone.
#[derive(Clone)]
pub struct LeaseRunner {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    holder: String,
    held: AtomicBool,
    token: AtomicI64,
    background: StoppableTask,
}

/// Why a term ended.
enum End {
    Stop,
    JobEnded,
    Lost,
    RenewFailed(String),
    RenewTimedOut,
}

impl LeaseRunner {
    /// Starts competing for lease `name` as `holder`; while held, `job(lease)` runs in a task of
    /// its own. `ttl` is the term's length (at least 100 ms).
    pub fn start<F, Fut>(
        store: Store,
        name: &str,
        holder: &str,
        ttl: Duration,
        job: F,
    ) -> LeaseRunner
    where
        F: Fn(Lease) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (background, stop_rx) = StoppableTask::new();
        let inner = Arc::new(Inner {
            name: name.to_string(),
            holder: holder.to_string(),
            held: AtomicBool::new(false),
            token: AtomicI64::new(0),
            background,
        });
        let ttl = ttl.max(Duration::from_millis(100));
        let task = tokio::spawn(compete(store, inner.clone(), ttl, job, stop_rx));
        inner.background.set(task);
        LeaseRunner { inner }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// True while this replica holds the lease and its job runs.
    pub fn is_held(&self) -> bool {
        self.inner.held.load(Ordering::Relaxed)
    }

    /// The fencing token of the term held now (0 when not held).
    pub fn fencing_token(&self) -> i64 {
        if self.is_held() {
            self.inner.token.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// Stops the job and releases the lease (shutdown), so another replica may take it at once.
    pub async fn stop(&self) {
        self.inner.background.stop().await;
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

async fn compete<F, Fut>(
    store: Store,
    inner: Arc<Inner>,
    ttl: Duration,
    job: F,
    mut stop: watch::Receiver<bool>,
) where
    F: Fn(Lease) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let retry = ttl / 3;
    loop {
        if *stop.borrow() {
            return;
        }
        let sent = Instant::now();
        match store
            .acquire_lease(&inner.name, &inner.holder, millis(ttl))
            .await
        {
            Ok(Some(lease)) => {
                let end = hold(&store, &inner, lease, sent, ttl, &job, &mut stop).await;
                if matches!(end, End::Stop) {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(lease = %inner.name, error = %e, "acquiring lease failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Runs the job for one term; returns why the term ended (the job is stopped by then, and the
/// lease released when the term ended by choice).
async fn hold<F, Fut>(
    store: &Store,
    inner: &Inner,
    mut lease: Lease,
    sent: Instant,
    ttl: Duration,
    job: &F,
    stop: &mut watch::Receiver<bool>,
) -> End
where
    F: Fn(Lease) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let margin = ttl / 10;
    // The latest instant the term can end, on this replica's clock: the database set the expiry
    // at (or after) the moment the request left.
    let mut deadline = sent + ttl;
    tracing::info!(lease = %lease.name, fencing_token = lease.fencing_token, "acquired lease");
    inner.token.store(lease.fencing_token, Ordering::Relaxed);
    inner.held.store(true, Ordering::Relaxed);
    let mut job_task = tokio::spawn(job(lease.clone()));
    let mut next_renewal = Instant::now() + ttl / 3;
    let end = loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next_renewal) => {
                let sent = Instant::now();
                let renewal = store.renew_lease(&lease, millis(ttl));
                match tokio::time::timeout_at(deadline - margin, renewal).await {
                    Ok(Ok(Some(renewed))) => {
                        lease = renewed;
                        deadline = sent + ttl;
                        next_renewal = sent + ttl / 3;
                    }
                    Ok(Ok(None)) => break End::Lost,
                    Ok(Err(e)) => break End::RenewFailed(e.to_string()),
                    Err(_) => break End::RenewTimedOut,
                }
            }
            result = &mut job_task => {
                if let Err(e) = result {
                    tracing::warn!(lease = %lease.name, error = %e, "job under lease failed");
                }
                break End::JobEnded;
            }
            _ = stop.changed() => break End::Stop,
        }
    };
    job_task.abort();
    let _ = job_task.await;
    inner.held.store(false, Ordering::Relaxed);
    match &end {
        End::Stop | End::JobEnded => {
            // Bounded: a shutdown with the database down must not wait for it.
            let released =
                tokio::time::timeout(ttl.min(RELEASE_TIMEOUT), store.release_lease(&lease)).await;
            if !matches!(released, Ok(Ok(_))) {
                tracing::warn!(lease = %lease.name, "releasing lease failed; it expires by itself");
            } else {
                tracing::info!(lease = %lease.name, fencing_token = lease.fencing_token, "released lease");
            }
        }
        End::Lost | End::RenewFailed(_) | End::RenewTimedOut => {
            let reason = match &end {
                End::Lost => "the lease was lost".to_string(),
                End::RenewFailed(e) => e.clone(),
                _ => "renewal took too long".to_string(),
            };
            tracing::warn!(
                lease = %lease.name,
                fencing_token = lease.fencing_token,
                reason,
                "lease not renewed: stopped its job"
            );
        }
    }
    end
}
