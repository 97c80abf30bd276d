//! Tails the `changes` table so every replica learns of every write, whichever replica made it.
//!
//! Polling is the portable floor (CockroachDB has no LISTEN); on PostgreSQL a LISTEN on
//! [`pharos_store::CHANGE_CHANNEL`] wakes the tailer as soon as a writer commits, so the usual delay
//! is a round trip, and at worst the poll interval.

use std::sync::Arc;
use std::time::Duration;

use pharos_store::{Change, Store};
use tokio::sync::broadcast;

/// How many changes one poll reads at most; a longer backlog is read over consecutive polls.
const BATCH: i64 = 1000;

#[derive(Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Arc<Vec<Change>>>,
}

impl ChangeFeed {
    /// Starts tailing after the newest change that exists now.
    pub async fn start(
        store: Store,
        poll_interval: Duration,
    ) -> Result<ChangeFeed, pharos_store::StoreError> {
        let last = store.latest_change_id().await?;
        let (sender, _) = broadcast::channel(64);
        let feed = ChangeFeed {
            sender: sender.clone(),
        };
        tokio::spawn(tail(store, last, poll_interval, sender));
        Ok(feed)
    }

    /// Batches of changes, oldest first. A receiver that lags sees `RecvError::Lagged` and should
    /// treat it as "anything may have changed".
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<Change>>> {
        self.sender.subscribe()
    }
}

async fn tail(
    store: Store,
    mut last: i64,
    poll_interval: Duration,
    sender: broadcast::Sender<Arc<Vec<Change>>>,
) {
    let mut listener = match store.postgres_url() {
        Some(url) => connect_listener(url).await,
        None => None,
    };
    loop {
        match listener.as_mut() {
            Some(l) => {
                tokio::select! {
                    _ = tokio::time::sleep(poll_interval) => {}
                    n = l.try_recv() => {
                        if !matches!(n, Ok(Some(_))) {
                            // The connection dropped; fall back to polling until it is rebuilt.
                            listener = None;
                        }
                    }
                }
            }
            None => {
                tokio::time::sleep(poll_interval).await;
                if let Some(url) = store.postgres_url() {
                    listener = connect_listener(url).await;
                }
            }
        }
        loop {
            match store.changes_since(last, BATCH).await {
                Ok(changes) if changes.is_empty() => break,
                Ok(changes) => {
                    last = changes.last().map_or(last, |c| c.id);
                    let full = changes.len() as i64 == BATCH;
                    let _ = sender.send(Arc::new(changes));
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "change feed poll failed");
                    break;
                }
            }
        }
    }
}

async fn connect_listener(url: &str) -> Option<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await.ok()?;
    listener.listen(pharos_store::CHANGE_CHANNEL).await.ok()?;
    Some(listener)
}
