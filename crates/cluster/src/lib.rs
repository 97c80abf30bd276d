//! What makes replicas agree. For now: the change feed. Membership, leases and drain arrive with the
//! HA issue.

mod change_feed;

pub use change_feed::ChangeFeed;
