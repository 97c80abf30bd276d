//! What makes replicas agree: the change feed (cache invalidation), membership (who is running)
//! and leases (which one replica runs singleton work).

mod change_feed;
mod lease;
mod membership;
mod stoppable;

pub use change_feed::ChangeFeed;
pub use lease::LeaseRunner;
pub use membership::{new_replica_id, Membership, MembershipSettings};
