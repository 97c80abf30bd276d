//! Tails the `changes` table so every replica learns of every write, whichever replica made it.
//!
//! Polling is the portable floor (CockroachDB has no LISTEN); on PostgreSQL a LISTEN on
//! [`pharos_store::CHANGE_CHANNEL`] wakes the tailer as soon as a writer commits, so the usual delay
//! is a round trip, and at worst the poll interval.
//!
//! Ids come from a sequence, and a sequence hands them out in the order transactions *ask*, not
//! the order they commit: transaction A takes id 10, B takes 11 and commits first, and a poll in
//! between reads 11 while 10 is invisible. Reading only "after the newest id seen" would skip 10
//! for good. So the tailer remembers every id it found missing below the newest one it read (a
//! *gap*) and asks for the gaps again on each poll, in the same query, until the missing row
//! shows up or [`GAP_TTL`] passes: rolled-back transactions leave ids that never appear.

use std::sync::Arc;
use std::time::Duration;

use pharos_store::{Change, Store};
use tokio::sync::broadcast;
use tokio::time::Instant;

/// How many changes one poll reads at most; a longer backlog is read over consecutive polls.
const BATCH: i64 = 1000;

/// How long a missing id is looked for. A writer takes its change id at the end of its
/// transaction, just before COMMIT, so a late commit shows up within milliseconds; an id still
/// missing after this belongs to a transaction that rolled back.
const GAP_TTL: Duration = Duration::from_secs(10);

/// Most gap ranges remembered (each costs two bind parameters a poll). Only a burst of hundreds of
/// concurrent or rolled-back writes within [`GAP_TTL`] reaches it; the oldest gaps are then given
/// up (logged).
const MAX_GAPS: usize = 256;

/// How many ids below the newest at start are re-checked once, for writes in flight at start.
const START_WINDOW: i64 = 256;

#[derive(Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Arc<Vec<Change>>>,
}

impl ChangeFeed {
    /// Starts tailing after the newest change that exists now. Ids missing just below it are
    /// treated as gaps for [`GAP_TTL`]: a write may have taken one and not committed yet.
    pub async fn start(
        store: Store,
        poll_interval: Duration,
    ) -> Result<ChangeFeed, pharos_store::StoreError> {
        let last = store.latest_change_id().await?;
        let (sender, _) = broadcast::channel(64);
        let feed = ChangeFeed {
            sender: sender.clone(),
        };
        // The ids missing among the newest ones may belong to writes in flight: they are gaps
        // from the start. What is there already is not reported.
        let floor = (last - START_WINDOW).max(0);
        let mut cursor = Cursor::new(floor);
        let now = Instant::now();
        for change in store.changes_since(floor, START_WINDOW).await? {
            if change.id <= last {
                cursor.observe(change.id, now);
            }
        }
        if cursor.last < last {
            cursor.gaps.add(cursor.last + 1, last, now + GAP_TTL);
            cursor.last = last;
        }
        tokio::spawn(tail(store, cursor, poll_interval, sender));
        Ok(feed)
    }

    /// Batches of changes, oldest first within a batch (a change that committed late may come
    /// after newer ones, in a later batch). A receiver that lags sees `RecvError::Lagged` and
    /// should treat it as "anything may have changed".
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<Change>>> {
        self.sender.subscribe()
    }
}

/// Where the tailer is: the newest id read, and the ids below it not seen yet.
#[derive(Debug)]
struct Cursor {
    last: i64,
    gaps: Gaps,
}

impl Cursor {
    fn new(last: i64) -> Cursor {
        Cursor {
            last,
            gaps: Gaps::default(),
        }
    }

    /// Takes in one poll's rows (sorted by id, as the query returns them): rows above `last` move
    /// it on and open a gap for every id skipped; rows inside a gap close it. Returns false for a
    /// row seen before (none is expected; it is dropped).
    fn observe(&mut self, id: i64, now: Instant) -> bool {
        if id > self.last {
            if id > self.last + 1 {
                self.gaps.add(self.last + 1, id - 1, now + GAP_TTL);
            }
            self.last = id;
            true
        } else {
            self.gaps.remove(id)
        }
    }
}

/// Inclusive id ranges not seen yet, each with the instant it is given up. Sorted by `lo`,
/// disjoint.
#[derive(Debug, Default)]
struct Gaps {
    ranges: Vec<Gap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gap {
    lo: i64,
    hi: i64,
    until: Instant,
}

impl Gaps {
    /// Adds `lo..=hi`, above every range held (the tailer only opens gaps above its newest id).
    fn add(&mut self, lo: i64, hi: i64, until: Instant) {
        if lo > hi {
            return;
        }
        self.ranges.push(Gap { lo, hi, until });
        if self.ranges.len() > MAX_GAPS {
            let dropped = self.ranges.remove(0);
            tracing::warn!(
                from = dropped.lo,
                to = dropped.hi,
                "change feed: too many missing ids to track; no longer waiting for the oldest"
            );
        }
    }

    /// Marks `id` seen; false when it was in no gap.
    fn remove(&mut self, id: i64) -> bool {
        let Some(i) = self.ranges.iter().position(|g| g.lo <= id && id <= g.hi) else {
            return false;
        };
        let g = self.ranges[i];
        match (g.lo == id, g.hi == id) {
            (true, true) => {
                self.ranges.remove(i);
            }
            (true, false) => self.ranges[i].lo = id + 1,
            (false, true) => self.ranges[i].hi = id - 1,
            (false, false) => {
                self.ranges[i].hi = id - 1;
                self.ranges.insert(
                    i + 1,
                    Gap {
                        lo: id + 1,
                        hi: g.hi,
                        until: g.until,
                    },
                );
            }
        }
        true
    }

    /// Gives up the gaps whose time has passed.
    fn expire(&mut self, now: Instant) {
        self.ranges.retain(|g| g.until > now);
    }

    fn bounds(&self) -> Vec<(i64, i64)> {
        self.ranges.iter().map(|g| (g.lo, g.hi)).collect()
    }
}

async fn tail(
    store: Store,
    mut cursor: Cursor,
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
        poll(&store, &mut cursor, &sender).await;
    }
}

/// Reads everything new (and every gap that filled) and sends it, in batches of [`BATCH`].
async fn poll(store: &Store, cursor: &mut Cursor, sender: &broadcast::Sender<Arc<Vec<Change>>>) {
    loop {
        let gaps = cursor.gaps.bounds();
        match store
            .changes_since_or_within(cursor.last, &gaps, BATCH)
            .await
        {
            Ok(mut changes) => {
                let full = changes.len() as i64 == BATCH;
                let now = Instant::now();
                changes.retain(|c| cursor.observe(c.id, now));
                // Only after a query that asked for them: a gap whose time ran out while the
                // database was unreachable is looked for once more before it is given up.
                cursor.gaps.expire(now);
                if !changes.is_empty() {
                    let _ = sender.send(Arc::new(changes));
                }
                if !full {
                    return;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "change feed poll failed");
                return;
            }
        }
    }
}

async fn connect_listener(url: &str) -> Option<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await.ok()?;
    listener.listen(pharos_store::CHANGE_CHANNEL).await.ok()?;
    Some(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(c: &Cursor) -> Vec<(i64, i64)> {
        c.gaps.bounds()
    }

    #[test]
    fn skipped_ids_become_gaps_and_close_when_seen() {
        let now = Instant::now();
        let mut c = Cursor::new(9);
        // 10 and 12 are taken by transactions still open; 11 and 13 commit first.
        assert!(c.observe(11, now));
        assert!(c.observe(13, now));
        assert_eq!(c.last, 13);
        assert_eq!(ranges(&c), [(10, 10), (12, 12)]);
        // 12 commits: delivered although below `last`.
        assert!(c.observe(12, now));
        assert_eq!(ranges(&c), [(10, 10)]);
        // Seen twice: dropped.
        assert!(!c.observe(12, now));
        assert!(!c.observe(13, now));
        // A wide gap is split by a row in its middle, shrunk by its ends.
        assert!(c.observe(20, now));
        assert_eq!(ranges(&c), [(10, 10), (14, 19)]);
        assert!(c.observe(16, now));
        assert!(c.observe(14, now));
        assert!(c.observe(19, now));
        assert_eq!(ranges(&c), [(10, 10), (15, 15), (17, 18)]);
        assert!(c.observe(10, now));
        assert!(c.observe(15, now));
        assert!(c.observe(17, now));
        assert!(c.observe(18, now));
        assert!(ranges(&c).is_empty());
        assert!(c.observe(21, now), "consecutive ids open no gap");
        assert!(ranges(&c).is_empty());
    }

    #[test]
    fn gaps_are_given_up_after_their_deadline() {
        let now = Instant::now();
        let mut c = Cursor::new(0);
        c.observe(3, now);
        c.observe(8, now + Duration::from_secs(5));
        assert_eq!(ranges(&c), [(1, 2), (4, 7)]);
        c.gaps.expire(now + GAP_TTL);
        assert_eq!(ranges(&c), [(4, 7)], "the first gap's time is up");
        c.gaps.expire(now + GAP_TTL + Duration::from_secs(5));
        assert!(ranges(&c).is_empty());
        // A row of an expired gap that turns up after all is not delivered: it is below `last`
        // and in no gap.
        assert!(!c.observe(5, now));
    }

    #[test]
    fn the_number_of_gaps_is_bounded() {
        let now = Instant::now();
        let mut c = Cursor::new(0);
        for i in 1..=(MAX_GAPS as i64 + 10) {
            c.observe(2 * i, now);
        }
        let r = ranges(&c);
        assert_eq!(r.len(), MAX_GAPS);
        assert_eq!(
            r.last(),
            Some(&(2 * MAX_GAPS as i64 + 19, 2 * MAX_GAPS as i64 + 19))
        );
        assert_eq!(r[0], (21, 21), "the oldest were given up");
    }
}
