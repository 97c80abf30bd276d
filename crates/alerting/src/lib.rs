//! Alerting (issue 6): pure logic with no I/O, no clock and no database, plus the notifiers
//! ([`notify`], the only module that does I/O). The scheduler and persistence build on it.
//!
//! * [`model`] — alert rules and rule groups in the JSON shape of Grafana's provisioning API,
//!   kept whole so they round-trip.
//! * [`compile`] — validation: a rule becomes a [`compile::CompiledRule`] (expressions parsed,
//!   evaluation order from a topological sort, templates parsed, durations read) or a
//!   [`compile::RuleError`] that says what is wrong, for a 400 at save time.
//! * [`expr`] — server-side expressions as Grafana's `__expr__` datasource has them: `math`,
//!   `reduce`, `threshold`, `classic_conditions`, over labelled series and numbers.
//! * [`eval`] — one evaluation of a compiled rule over its queries' results: one result per alert
//!   instance (per label set of the condition), or no data, or an error.
//! * [`template`] — the Go `text/template` subset annotations and labels are written in
//!   (`{{ $labels.x }}`, `{{ $value }}`, `{{ $values.B.Value }}`, `{{ humanize $value }}`, ...).
//! * [`state`] — the instance state machine (Normal, Pending, Alerting, NoData, Error) as a pure
//!   function of the previous states, an evaluation and the time, emitting transitions.
//! * [`frames`] — a datasource's data frames (time series, tables, numbers) as expression input.
//! * [`labels`], [`duration`] — label sets with stable fingerprints; Grafana's duration strings.
//! * [`route`] — the notification policy tree (Grafana's provisioning shape), its validation and
//!   routing an alert's labels to (receiver, group key, timing); [`matcher`] its label matchers.
//! * [`silence`] — silences and whether one mutes an alert at a time.
//! * [`group`] — aggregation groups and when their notifications are due (group_wait,
//!   group_interval, repeat_interval), as pure functions over persistable state.
//! * [`notify`] — the notifiers (webhook, Prometheus Alertmanager, e-mail).
//! * [`scheduler`] — the evaluation and notification loop the `alerting` lease holder runs:
//!   with the notifiers, the crate's only I/O (through the store and a query trait).

pub mod compile;
pub mod duration;
pub mod eval;
pub mod expr;
pub mod frames;
pub mod group;
pub mod labels;
pub mod matcher;
pub mod model;
pub mod notify;
pub mod rfc3339;
pub mod route;
pub mod scheduler;
pub mod silence;
pub mod state;
pub mod template;

/// Grafana evaluates rule groups on multiples of this interval (its `base_interval`, 10 s).
pub const BASE_INTERVAL_SECONDS: i64 = 10;

pub use compile::{compile_rule, validate_group, CompiledRule, RuleError};
pub use eval::{evaluate, evaluate_all, EvalOutcome, InstanceResult};
pub use group::{Alert, Flush, GroupState};
pub use labels::{Fingerprint, Labels};
pub use model::{AlertQuery, AlertRule, ExecErrState, NoDataState, RuleGroup};
pub use notify::{Notification, Notifier, NotifyError};
pub use route::{Destination, Route, RouteError, RoutingTree, Timing};
pub use silence::{is_silenced, ActiveSilence, Silence};
pub use state::{apply_evaluation, InstanceState, State, StepOutcome, Transition};
