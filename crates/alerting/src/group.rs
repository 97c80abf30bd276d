//! Aggregation groups and their timers, as pure functions over state that can be persisted.
//!
//! A group is the alerts one policy sends to one receiver with the same group labels
//! ([`crate::route::Destination::group_key`]). Its notifications follow Alertmanager:
//!
//! * a new group is first flushed `group_wait` after its first alert arrived;
//! * after that it is looked at every `group_interval` (ticks on a fixed grid from the first
//!   flush), and notified when something changed since the last notification: a firing alert
//!   it did not report as firing, or (with `send_resolved`) an alert that resolved;
//! * an unchanged firing group is notified again once `repeat_interval` has passed since its
//!   last notification;
//! * a group whose alerts all resolved is notified once more (the resolution) and then dropped;
//! * silenced alerts ([`GroupState::plan_muted`]) are left out as if absent.
//!
//! Nothing here reads a clock or sends anything: [`GroupState::plan`] says whether a flush is due
//! at `now` and what it carries, and [`GroupState::commit`] records that it was recorded in the
//! notification log. The flush key ([`Flush::key`]) derives from the scheduled tick, not from the
//! time the plan was made, so a new lease holder that loads the persisted state and plans again
//! gets the same key for the same flush, and the log's unique key stops a second send.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::labels::{Fingerprint, Labels};
use crate::route::Timing;

/// One alert as notifications carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    /// When it started firing (epoch ms).
    pub starts_at: i64,
    /// When it resolved (epoch ms); `None` while it fires.
    pub ends_at: Option<i64>,
    #[serde(default)]
    pub generator_url: String,
    /// The condition's refIds and their numbers (Grafana's `values`).
    #[serde(default)]
    pub values: BTreeMap<String, Option<f64>>,
    /// Grafana's evaluation string (`valueString`).
    #[serde(default)]
    pub value_string: String,
}

impl Alert {
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.labels)
    }

    pub fn is_resolved(&self) -> bool {
        self.ends_at.is_some()
    }
}

/// The persisted state of one aggregation group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupState {
    pub receiver: String,
    pub group_key: String,
    pub group_labels: Labels,
    pub timing: Timing,
    /// Send a notification when alerts resolve (Grafana's contact points do, unless
    /// `disableResolveMessage`).
    pub send_resolved: bool,
    /// The alerts in the group, by fingerprint (hex).
    pub alerts: BTreeMap<String, Alert>,
    /// The next time the group is looked at (epoch ms).
    pub next_tick: i64,
    /// When the last notification was recorded, and which alerts it reported firing and
    /// resolved.
    pub last_notified_at: Option<i64>,
    pub last_firing: Vec<String>,
    pub last_resolved: Vec<String>,
}

/// A notification that is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Flush {
    /// The notification log key: `receiver/group key/tick` (the tick in epoch ms).
    pub key: String,
    pub tick: i64,
    /// The alerts to send (firing and resolved), sorted by their labels. Empty when every
    /// alert resolved and the group does not send resolutions: record and commit the flush
    /// (so the receiver's firing alerts are known to be cleared) but send nothing.
    pub alerts: Vec<Alert>,
    firing: Vec<String>,
    resolved: Vec<String>,
    drop_resolved: Vec<String>,
}

impl Flush {
    /// Whether there is anything to send (see [`Flush::alerts`]).
    pub fn needs_sending(&self) -> bool {
        !self.alerts.is_empty()
    }
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl GroupState {
    /// A new group whose first alert arrives at `now`.
    pub fn new(
        receiver: &str,
        group_key: &str,
        group_labels: Labels,
        timing: Timing,
        send_resolved: bool,
        now: i64,
    ) -> GroupState {
        GroupState {
            receiver: receiver.to_string(),
            group_key: group_key.to_string(),
            group_labels,
            timing,
            send_resolved,
            alerts: BTreeMap::new(),
            next_tick: now.saturating_add(ms(timing.group_wait)),
            last_notified_at: None,
            last_firing: Vec::new(),
            last_resolved: Vec::new(),
        }
    }

    /// Adds an alert or replaces it (a firing alert that resolved, or one that fires again).
    /// Changes wait for the next tick; they never move it earlier.
    pub fn upsert(&mut self, alert: Alert) {
        self.alerts.insert(alert.fingerprint().to_string(), alert);
    }

    /// Whether nothing is left: the scheduler deletes the group's state.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// The flush due at `now`, if any. `Some` means: record it in the notification log under
    /// `key`, send it, and call [`GroupState::commit`]. `None` with `now >= next_tick` still
    /// needs a [`GroupState::commit_quiet`] so the timer moves on.
    pub fn plan(&self, now: i64) -> Option<Flush> {
        self.plan_muted(now, &|_| false)
    }

    /// [`GroupState::plan`] leaving out the alerts `muted` says are silenced (or in a mute
    /// time interval), as Alertmanager's mute stage does: they are neither sent nor counted as
    /// changes, and one that is no longer muted later counts as new.
    pub fn plan_muted(&self, now: i64, muted: &dyn Fn(&Alert) -> bool) -> Option<Flush> {
        if now < self.next_tick {
            return None;
        }
        let visible: BTreeMap<&String, &Alert> =
            self.alerts.iter().filter(|(_, a)| !muted(a)).collect();
        if visible.is_empty() {
            // Everything muted: Alertmanager's pipeline stops before notifying or logging.
            return None;
        }
        let firing: Vec<String> = visible
            .iter()
            .filter(|(_, a)| !a.is_resolved())
            .map(|(k, _)| (*k).clone())
            .collect();
        let resolved: Vec<String> = visible
            .iter()
            .filter(|(_, a)| a.is_resolved())
            .map(|(k, _)| (*k).clone())
            .collect();
        // Resolved alerts are dropped after the flush whether muted or not.
        let drop_resolved: Vec<String> = self
            .alerts
            .iter()
            .filter(|(_, a)| a.is_resolved())
            .map(|(k, _)| k.clone())
            .collect();
        let due = match self.last_notified_at {
            // Never notified: only if something fires (alerts that fired and resolved within
            // group_wait were never reported, so their resolution is not news).
            None => !firing.is_empty(),
            Some(last) => {
                let new_firing = firing.iter().any(|f| !self.last_firing.contains(f));
                if new_firing {
                    true
                } else if firing.is_empty() {
                    // All resolved: tell the receiver if it knew of any as firing.
                    !self.last_firing.is_empty()
                } else if self.send_resolved
                    && resolved.iter().any(|r| !self.last_resolved.contains(r))
                {
                    true
                } else {
                    now >= last.saturating_add(ms(self.timing.repeat_interval))
                }
            }
        };
        if !due {
            return None;
        }
        let mut alerts: Vec<Alert> = visible
            .values()
            .filter(|a| self.send_resolved || !a.is_resolved())
            .map(|a| (*a).clone())
            .collect();
        alerts.sort_by(|a, b| a.labels.cmp(&b.labels));
        Some(Flush {
            key: format!("{}/{}/{}", self.receiver, self.group_key, self.next_tick),
            tick: self.next_tick,
            alerts,
            firing,
            resolved,
            drop_resolved,
        })
    }

    /// Records that `flush` went to the notification log at `now`: remembers what was
    /// reported, drops the resolved alerts it reported, and moves the timer on.
    pub fn commit(&mut self, flush: &Flush, now: i64) {
        self.last_notified_at = Some(now);
        self.last_firing = flush.firing.clone();
        self.last_resolved = flush.resolved.clone();
        for fp in &flush.drop_resolved {
            // Only if it did not fire again since the plan.
            if self.alerts.get(fp).is_some_and(Alert::is_resolved) {
                self.alerts.remove(fp);
            }
        }
        self.advance(now);
    }

    /// A tick passed with nothing to send: move the timer on, and forget resolved alerts the
    /// receiver never heard of as firing.
    pub fn commit_quiet(&mut self, now: i64) {
        let last_firing = &self.last_firing;
        self.alerts
            .retain(|fp, a| !a.is_resolved() || last_firing.contains(fp));
        self.advance(now);
    }

    /// The next tick on the group_interval grid strictly after `now`.
    fn advance(&mut self, now: i64) {
        let step = ms(self.timing.group_interval).max(1);
        let mut next = self.next_tick.saturating_add(step);
        if next <= now {
            let behind = (now - next) / step + 1;
            next = next.saturating_add(behind.saturating_mul(step));
        }
        self.next_tick = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels;
    use std::time::Duration;

    const S: i64 = 1000;

    fn timing() -> Timing {
        Timing {
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(3600),
        }
    }

    fn alert(name: &str, starts: i64, ends: Option<i64>) -> Alert {
        Alert {
            labels: labels(&[("alertname", name)]),
            annotations: BTreeMap::new(),
            starts_at: starts,
            ends_at: ends,
            generator_url: String::new(),
            values: BTreeMap::new(),
            value_string: String::new(),
        }
    }

    fn group(now: i64) -> GroupState {
        GroupState::new("r", "{}:{}", Labels::new(), timing(), true, now)
    }

    /// Plays the scheduler: at `now`, flush if due and commit; returns what was sent.
    fn tick(g: &mut GroupState, now: i64) -> Option<Vec<(String, bool)>> {
        if now < g.next_tick {
            return None;
        }
        match g.plan(now) {
            Some(f) => {
                g.commit(&f, now);
                Some(
                    f.alerts
                        .iter()
                        .map(|a| (a.labels["alertname"].clone(), a.is_resolved()))
                        .collect(),
                )
            }
            None => {
                g.commit_quiet(now);
                None
            }
        }
    }

    #[test]
    fn group_wait_then_group_interval_then_repeat() {
        let mut g = group(0);
        g.upsert(alert("A", 0, None));
        assert_eq!(g.next_tick, 30 * S);
        assert_eq!(tick(&mut g, 29 * S), None, "waits group_wait");
        // A second alert within group_wait joins the first notification.
        g.upsert(alert("B", 10 * S, None));
        assert_eq!(
            tick(&mut g, 30 * S),
            Some(vec![("A".into(), false), ("B".into(), false)])
        );
        assert_eq!(g.next_tick, 330 * S);
        // Nothing changed: the next interval is quiet.
        assert_eq!(tick(&mut g, 330 * S), None);
        // A new alert waits for the next group_interval tick.
        g.upsert(alert("C", 400 * S, None));
        assert_eq!(g.plan(400 * S), None);
        let sent = tick(&mut g, 630 * S).unwrap();
        assert_eq!(sent.len(), 3);
        // Unchanged and firing: again after repeat_interval (3600 s after 630 s).
        let mut t = 930;
        let mut repeats = Vec::new();
        while t <= 4530 {
            if tick(&mut g, t * S).is_some() {
                repeats.push(t);
            }
            t += 300;
        }
        assert_eq!(repeats, [4230], "first tick at or after 630 + 3600");
    }

    #[test]
    fn resolution_is_sent_once_and_the_group_empties() {
        let mut g = group(0);
        g.upsert(alert("A", 0, None));
        g.upsert(alert("B", 0, None));
        tick(&mut g, 30 * S).unwrap();
        g.upsert(alert("A", 0, Some(100 * S)));
        assert_eq!(
            tick(&mut g, 330 * S),
            Some(vec![("A".into(), true), ("B".into(), false)])
        );
        assert_eq!(g.alerts.len(), 1, "the reported resolution is dropped");
        g.upsert(alert("B", 0, Some(400 * S)));
        assert_eq!(tick(&mut g, 630 * S), Some(vec![("B".into(), true)]));
        assert!(g.is_empty());
    }

    #[test]
    fn an_alert_that_fired_and_resolved_within_group_wait_is_never_sent() {
        let mut g = group(0);
        g.upsert(alert("A", 0, None));
        g.upsert(alert("A", 0, Some(5 * S)));
        assert_eq!(tick(&mut g, 30 * S), None);
        assert!(g.is_empty());
    }

    #[test]
    fn without_send_resolved_a_partial_resolution_waits_for_repeat() {
        let mut g = GroupState::new("r", "k", Labels::new(), timing(), false, 0);
        g.upsert(alert("A", 0, None));
        g.upsert(alert("B", 0, None));
        tick(&mut g, 30 * S).unwrap();
        g.upsert(alert("A", 0, Some(100 * S)));
        assert_eq!(tick(&mut g, 330 * S), None);
        // All resolved: sent (so the receiver's firing alerts are cleared), with no alerts
        // listed since resolved ones are not sent.
        g.upsert(alert("B", 0, Some(400 * S)));
        assert!(!g.plan(630 * S).unwrap().needs_sending());
        assert_eq!(tick(&mut g, 630 * S), Some(vec![]));
        assert!(g.is_empty());
    }

    #[test]
    fn muted_alerts_are_left_out_and_count_as_new_when_unmuted() {
        let mut g = group(0);
        g.upsert(alert("A", 0, None));
        g.upsert(alert("B", 0, None));
        let a_muted = |a: &Alert| a.labels["alertname"] == "A";
        let f = g.plan_muted(30 * S, &a_muted).unwrap();
        assert_eq!(f.alerts.len(), 1);
        assert_eq!(f.alerts[0].labels["alertname"], "B");
        g.commit(&f, 30 * S);
        // Everything muted and nothing new: no notification.
        assert_eq!(g.plan_muted(330 * S, &|_| true), None);
        g.commit_quiet(330 * S);
        // The silence ends: A is news at the next tick.
        let f = g.plan_muted(630 * S, &|_| false).unwrap();
        assert_eq!(f.alerts.len(), 2);
        g.commit(&f, 630 * S);
        // A resolves while muted: not sent, but dropped from the group after the next flush.
        g.upsert(alert("A", 0, Some(700 * S)));
        g.upsert(alert("C", 700 * S, None));
        let f = g.plan_muted(930 * S, &a_muted).unwrap();
        let names: Vec<&str> = f
            .alerts
            .iter()
            .map(|a| a.labels["alertname"].as_str())
            .collect();
        assert_eq!(names, ["B", "C"]);
        g.commit(&f, 930 * S);
        assert_eq!(g.alerts.len(), 2);
    }

    /// A new lease holder loads the persisted state and plans again: the same flush and the
    /// same key, and after it committed, nothing again.
    #[test]
    fn a_resumed_holder_plans_the_same_flush_with_the_same_key() {
        let mut g = group(0);
        g.upsert(alert("A", 0, None));
        let persisted = serde_json::to_string(&g).unwrap();
        let first = g.plan(31 * S).unwrap();
        // The old holder dies before committing; the new one resumes at a later time.
        let resumed: GroupState = serde_json::from_str(&persisted).unwrap();
        let again = resumed.plan(47 * S).unwrap();
        assert_eq!(first.key, again.key);
        assert_eq!(first.key, "r/{}:{}/30000");
        assert_eq!(first.alerts, again.alerts);
        // Committed and persisted: the next holder has nothing to send.
        g.commit(&first, 31 * S);
        let resumed: GroupState =
            serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(resumed.plan(60 * S), None);
        assert_eq!(resumed.next_tick, 330 * S);
    }

    #[test]
    fn a_late_tick_skips_to_the_grid() {
        let mut g = group(0);
        g.upsert(alert("A", 0, None));
        tick(&mut g, 30 * S).unwrap();
        // The scheduler was away for 20 minutes.
        g.upsert(alert("B", 0, None));
        let f = g.plan(1500 * S).unwrap();
        assert_eq!(f.tick, 330 * S);
        g.commit(&f, 1500 * S);
        assert_eq!(g.next_tick, 1530 * S);
    }
}
