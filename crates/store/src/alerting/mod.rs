//! Alerting's durable state: rules and rule groups, instance states, state history, the
//! notification log, contact points, notification policies and silences.
//!
//! The store does not know the alerting crate's types: rule bodies, instance states, payloads,
//! policy trees and matchers are JSON text, with the columns they are looked up by beside them.
//! Writes that another replica may cache (rules, groups, contact points, policies, silences)
//! record a change in the same transaction.
//!
//! The evaluation scheduler's writes (instance states, history, notification records and claims)
//! are fenced by the alerting lease: each runs in a transaction that first locks the lease's row
//! and checks that it is still held, unexpired, in the caller's term. The lock orders the write
//! before any later acquisition of the lease, so a paused former holder cannot write after a new
//! holder took over; such a write fails with [`StoreError::LeaseLost`].

mod contact_points;
mod instances;
mod notifications;
mod rule_groups;
mod rules;
mod silences;

pub use contact_points::{ContactPoint, ContactPointInput, NotificationPolicy};
pub use instances::{
    AlertInstance, AlertInstanceBatch, AlertInstanceUpdate, AlertStateHistoryQuery,
    AlertStateTransition, NewAlertStateTransition,
};
pub use notifications::{
    NewNotification, NotificationEntry, NotificationGroup, NotificationGroupBatch,
    NotificationStatus,
};
pub use rules::{AlertRule, AlertRuleGroup, AlertRuleGroupUpdate, GroupRule, NewAlertRule};
pub use silences::{Silence, SilenceInput};

use sqlx::{Any, Transaction};

use crate::{Lease, Store, StoreError, StoreResult};

/// The lease whose holder evaluates rules and sends notifications.
pub const ALERTING_LEASE: &str = "alerting";

/// The longest title, group name, receiver name or key text the store accepts.
pub const MAX_ALERTING_NAME_LEN: usize = 190;

impl Store {
    /// Locks `lease`'s row for the rest of `tx` and checks that it is the alerting lease, still
    /// held by its holder in its term and unexpired (database clock).
    pub(crate) async fn fence_alerting(
        &self,
        tx: &mut Transaction<'static, Any>,
        lease: &Lease,
    ) -> StoreResult<()> {
        if lease.name != ALERTING_LEASE {
            return Err(StoreError::Invalid(format!(
                "alerting writes are fenced by the {ALERTING_LEASE} lease, not {}",
                lease.name
            )));
        }
        let sql = self.with_now(
            "UPDATE leases SET expires_at = expires_at \
             WHERE name = $1 AND holder = $2 AND fencing_token = $3 AND expires_at > {now}",
        );
        let held = sqlx::query(&sql)
            .bind(lease.name.clone())
            .bind(lease.holder.clone())
            .bind(lease.fencing_token)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if held == 0 {
            return Err(StoreError::LeaseLost(lease.name.clone()));
        }
        Ok(())
    }
}

/// `text` must parse as JSON of the shape `want` names ("object" or "array").
pub(crate) fn check_json(what: &str, text: &str, want: &str) -> StoreResult<()> {
    let ok = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => want == "object",
        Ok(serde_json::Value::Array(_)) => want == "array",
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("{what} must be a JSON {want}")))
    }
}

/// `text` trimmed must be non-empty and at most [`MAX_ALERTING_NAME_LEN`] characters.
pub(crate) fn check_name(what: &str, text: &str) -> StoreResult<()> {
    if text.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{what} is required")));
    }
    if text.chars().count() > MAX_ALERTING_NAME_LEN {
        return Err(StoreError::Invalid(format!(
            "{what} is too long, max {MAX_ALERTING_NAME_LEN} characters"
        )));
    }
    Ok(())
}
