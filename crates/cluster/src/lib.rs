//! What makes replicas agree: the change feed (cache invalidation), membership (who is running)
//! and leases (which one replica runs singleton work). Graceful drain arrives with the HA issue.

mod change_feed;
mod lease;
mod membership;

pub use change_feed::ChangeFeed;
pub use lease::LeaseRunner;
pub use membership::{new_replica_id, Membership, MembershipSettings};
