//! Membership: every replica registers itself in `members`, heartbeats, and deletes the members
//! whose heartbeat is older than the timeout (any replica may; the delete is idempotent). A replica
//! that stops gracefully deletes its own row.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pharos_store::{Store, StoreResult};
use rand::RngCore;
use tokio::sync::watch;

use crate::stoppable::StoppableTask;

/// How long leaving may take at shutdown.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(2);

/// Who this replica is and how often it says so.
#[derive(Debug, Clone)]
pub struct MembershipSettings {
    /// A random id made at start ([`new_replica_id`]): a restarted replica is a new member.
    pub id: String,
    /// Where other replicas and operators reach it.
    pub address: String,
    pub version: String,
    pub heartbeat_interval: Duration,
    /// A member whose last heartbeat is older than this counts as dead and is deleted.
    pub member_timeout: Duration,
}

/// A random replica id: 16 hex digits.
pub fn new_replica_id() -> String {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// This replica's membership: registered by [`Membership::join`], kept alive by a background task
/// until [`Membership::leave`]. Cheap to clone.
#[derive(Clone)]
pub struct Membership {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    settings: MembershipSettings,
    /// Live members as of the last heartbeat (this replica included).
    live: AtomicI64,
    background: StoppableTask,
}

impl Membership {
    /// Registers this replica and starts heartbeating. Fails when the database refuses the first
    /// registration (start-up needs the database anyway).
    pub async fn join(store: Store, settings: MembershipSettings) -> StoreResult<Membership> {
        store
            .heartbeat_member(&settings.id, &settings.address, &settings.version)
            .await?;
        let timeout_ms = millis(settings.member_timeout);
        store.prune_dead_members(timeout_ms).await?;
        let live = store.live_member_count(timeout_ms).await?;
        let (background, stop_rx) = StoppableTask::new();
        let membership = Membership {
            inner: Arc::new(Inner {
                store,
                settings,
                live: AtomicI64::new(live),
                background,
            }),
        };
        let task = tokio::spawn(heartbeat(membership.inner.clone(), stop_rx));
        membership.inner.background.set(task);
        Ok(membership)
    }

    pub fn id(&self) -> &str {
        &self.inner.settings.id
    }

    pub fn settings(&self) -> &MembershipSettings {
        &self.inner.settings
    }

    /// Live members (heartbeat within the timeout) as this replica last saw them.
    pub fn live_members(&self) -> i64 {
        self.inner.live.load(Ordering::Relaxed)
    }

    /// Stops heartbeating and deletes this replica's row, so the others stop listing it at once.
    pub async fn leave(&self) {
        self.inner.background.stop().await;
        // Bounded: a shutdown with the database down must not wait for it; the row then ages out.
        let removed =
            tokio::time::timeout(LEAVE_TIMEOUT, self.inner.store.remove_member(self.id())).await;
        match removed {
            Ok(Ok(_)) => tracing::info!(member = self.id(), "left the cluster"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not remove this replica from members"),
            Err(_) => tracing::warn!("could not remove this replica from members in time"),
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

async fn heartbeat(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let s = &inner.settings;
    let timeout_ms = millis(s.member_timeout);
    let mut tick = tokio::time::interval(s.heartbeat_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; `join` has just registered.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if let Err(e) = inner
            .store
            .heartbeat_member(&s.id, &s.address, &s.version)
            .await
        {
            tracing::warn!(error = %e, "cluster heartbeat failed");
            continue;
        }
        match inner.store.prune_dead_members(timeout_ms).await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "removed dead cluster members"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "removing dead cluster members failed"),
        }
        match inner.store.live_member_count(timeout_ms).await {
            Ok(n) => inner.live.store(n, Ordering::Relaxed),
            Err(e) => tracing::warn!(error = %e, "counting cluster members failed"),
        }
    }
}
