//! The alert instance state machine, as pure functions: previous states + one evaluation + its
//! time → new states + the transitions to record (and later notify). Nothing here reads a clock
//! or a database, so the scheduler can persist the states after each evaluation and a new lease
//! holder can load them and carry on: a transition only arises from a change relative to the
//! persisted state, so resuming re-emits nothing, and an evaluation at or before the last one
//! applied (`last_evaluated_at`) changes nothing (a tick evaluated twice across a handover is
//! harmless).
//!
//! States: Normal, Pending, Alerting, NoData, Error. A firing condition, and no data or an error
//! mapped to Alerting, NoData or Error, make an instance *active*. A Normal instance that becomes
//! active waits in Pending for the rule's pending period (`for`), then takes the active state the
//! latest evaluation asks for (Grafana's Error state honours the pending period too). An active
//! instance whose kind of trouble changes (Alerting → Error) moves at once: it has already served
//! its pending period. `OK` maps no data / errors to Normal; `KeepLast` keeps the state.
//! Grafana 11's Recovering state (from `keep_firing_for`) is left out.
//!
//! No data and errors for the whole rule (the query returned nothing, or failed) apply to every
//! instance the rule has; a rule with none gets one instance with only the rule's labels. An
//! instance whose series disappears is resolved (→ Normal, reason `MissingSeries`) and dropped
//! after [`MISSING_EVALUATIONS_TO_RESOLVE`] evaluations without it, as Grafana does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::compile::CompiledRule;
use crate::eval::{EvalOutcome, InstanceResult, Verdict};
use crate::labels::{Fingerprint, Labels};
use crate::model::{ExecErrState, NoDataState};
use crate::template::{expand, TemplateData};

/// Evaluations an instance may be missing from the result before it is resolved and dropped.
pub const MISSING_EVALUATIONS_TO_RESOLVE: u32 = 2;

/// The label Grafana gives every instance: the rule's title.
pub const ALERTNAME_LABEL: &str = "alertname";
/// The label Grafana gives every instance: the folder's title.
pub const FOLDER_LABEL: &str = "grafana_folder";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    Normal,
    Pending,
    Alerting,
    NoData,
    Error,
}

impl State {
    fn is_active(self) -> bool {
        matches!(self, State::Alerting | State::NoData | State::Error)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Normal => "Normal",
            State::Pending => "Pending",
            State::Alerting => "Alerting",
            State::NoData => "NoData",
            State::Error => "Error",
        }
    }
}

/// Why an instance is in its state when it is not the condition's own verdict (Grafana shows
/// these as `Normal (NoData)`, `Alerting (Error)`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    NoData,
    Error,
    MissingSeries,
}

/// The persisted state of one alert instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceState {
    pub rule_uid: String,
    #[serde(with = "fingerprint_hex")]
    pub fingerprint: Fingerprint,
    /// The instance's full labels (series labels, the rule's labels, alertname, grafana_folder).
    pub labels: Labels,
    pub state: State,
    pub reason: Option<Reason>,
    /// When the current state began (epoch ms): a Pending instance's start of its pending period.
    pub since: i64,
    /// The time of the evaluation last applied (epoch ms).
    pub last_evaluated_at: i64,
    /// The condition's last value (NaN is stored as null).
    pub value: Option<f64>,
    /// Each refId's last number for this instance.
    pub values: BTreeMap<String, Option<f64>>,
    pub annotations: BTreeMap<String, String>,
    /// The last evaluation error, while the instance is in trouble because of one.
    pub error: Option<String>,
    /// Consecutive evaluations whose result did not include this instance.
    pub missing_evaluations: u32,
}

mod fingerprint_hex {
    use super::Fingerprint;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(f: &Fingerprint, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&f.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fingerprint, D::Error> {
        let text = String::deserialize(d)?;
        Fingerprint::parse(&text).ok_or_else(|| serde::de::Error::custom("bad fingerprint"))
    }
}

/// A change of an instance's state: what the state history records and notifications are made
/// from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    pub rule_uid: String,
    #[serde(with = "fingerprint_hex")]
    pub fingerprint: Fingerprint,
    pub labels: Labels,
    pub from: State,
    pub from_reason: Option<Reason>,
    pub to: State,
    pub to_reason: Option<Reason>,
    /// The evaluation time at which it happened (epoch ms).
    pub at: i64,
    /// When the state it leaves began.
    pub previous_since: i64,
    pub value: Option<f64>,
    pub values: BTreeMap<String, Option<f64>>,
    pub annotations: BTreeMap<String, String>,
    pub error: Option<String>,
}

impl Transition {
    /// The notification log's unique key: rule, instance, new state, transition time. Two
    /// replicas that computed the same transition compute the same key.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.rule_uid,
            self.fingerprint,
            self.to.as_str(),
            self.at
        )
    }

    /// Whether the instance stopped firing (Alerting, NoData or Error → Normal).
    pub fn is_resolution(&self) -> bool {
        self.from.is_active() && self.to == State::Normal
    }
}

/// The result of applying one evaluation to a rule's instances.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepOutcome {
    /// The instances to persist (the ones dropped are simply absent).
    pub states: Vec<InstanceState>,
    pub transitions: Vec<Transition>,
    /// Fingerprints of instances dropped (resolved after going missing).
    pub removed: Vec<Fingerprint>,
}

/// What the instance should become, before the pending period is considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Normal(Option<Reason>),
    Active(State, Option<Reason>),
    KeepLast,
}

fn no_data_target(setting: NoDataState) -> Target {
    match setting {
        NoDataState::NoData => Target::Active(State::NoData, None),
        NoDataState::Alerting => Target::Active(State::Alerting, Some(Reason::NoData)),
        NoDataState::Ok => Target::Normal(Some(Reason::NoData)),
        NoDataState::KeepLast => Target::KeepLast,
    }
}

fn error_target(setting: ExecErrState) -> Target {
    match setting {
        ExecErrState::Error => Target::Active(State::Error, None),
        ExecErrState::Alerting => Target::Active(State::Alerting, Some(Reason::Error)),
        ExecErrState::Ok => Target::Normal(Some(Reason::Error)),
        ExecErrState::KeepLast => Target::KeepLast,
    }
}

/// The next (state, reason, since) of one instance.
fn next(
    prev: Option<&InstanceState>,
    target: Target,
    pending_ms: i64,
    at: i64,
) -> (State, Option<Reason>, i64) {
    let prev_state = prev.map_or(State::Normal, |p| p.state);
    let prev_since = prev.map_or(at, |p| p.since);
    let keep = |reason| (prev_state, reason, prev_since);
    match target {
        Target::KeepLast => keep(prev.and_then(|p| p.reason)),
        Target::Normal(reason) => {
            if prev_state == State::Normal && prev.is_some() {
                keep(reason)
            } else {
                (State::Normal, reason, at)
            }
        }
        Target::Active(to, reason) => match prev_state {
            State::Normal => {
                if pending_ms == 0 {
                    (to, reason, at)
                } else {
                    (State::Pending, reason, at)
                }
            }
            State::Pending => {
                if at - prev_since >= pending_ms {
                    (to, reason, at)
                } else {
                    keep(reason)
                }
            }
            current if current == to => keep(reason),
            _ => (to, reason, at),
        },
    }
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| !x.is_nan())
}

/// The labels and annotations of an instance: series labels, then the rule's labels (templates
/// expanded, overriding), then alertname and grafana_folder; annotations are expanded with those
/// labels.
fn instance_labels_and_annotations(
    rule: &CompiledRule,
    folder_title: &str,
    result: Option<&InstanceResult>,
    base: &Labels,
) -> (Labels, BTreeMap<String, String>) {
    let mut data = TemplateData {
        labels: base.clone(),
        values: result.map(|r| r.values.clone()).unwrap_or_default(),
        value_text: result
            .map(InstanceResult::evaluation_string)
            .unwrap_or_default(),
        value: result.and_then(|r| r.value),
    };
    let mut labels = base.clone();
    if !rule.labels.is_empty() {
        let context = data.context();
        for (name, template) in &rule.labels {
            labels.insert(name.clone(), expand(template, &context));
        }
    }
    labels.insert(ALERTNAME_LABEL.into(), rule.title.clone());
    labels.insert(FOLDER_LABEL.into(), folder_title.to_string());
    data.labels = labels.clone();
    let context = data.context();
    let annotations = rule
        .annotations
        .iter()
        .map(|(name, template)| (name.clone(), expand(template, &context)))
        .collect();
    (labels, annotations)
}

/// Applies one evaluation (made at `at`, epoch ms) of `rule` to its instances' `previous` states.
pub fn apply_evaluation(
    rule: &CompiledRule,
    folder_title: &str,
    previous: &[InstanceState],
    outcome: &EvalOutcome,
    at: i64,
) -> StepOutcome {
    // An evaluation no newer than one already applied changes nothing.
    if previous.iter().any(|p| p.last_evaluated_at >= at) {
        return StepOutcome {
            states: previous.to_vec(),
            ..Default::default()
        };
    }
    let pending_ms = i64::try_from(rule.pending_period.as_millis()).unwrap_or(i64::MAX);
    let by_fp: BTreeMap<Fingerprint, &InstanceState> =
        previous.iter().map(|p| (p.fingerprint, p)).collect();
    let mut out = StepOutcome::default();

    let settle = |out: &mut StepOutcome,
                  prev: Option<&InstanceState>,
                  labels: Labels,
                  annotations: BTreeMap<String, String>,
                  target: Target,
                  value: Option<f64>,
                  values: BTreeMap<String, Option<f64>>,
                  error: Option<String>| {
        let fingerprint = Fingerprint::of(&labels);
        let (state, reason, since) = next(prev, target, pending_ms, at);
        let new = InstanceState {
            rule_uid: rule.uid.clone(),
            fingerprint,
            labels,
            state,
            reason,
            since,
            last_evaluated_at: at,
            value: finite(value),
            values,
            annotations,
            error,
            missing_evaluations: 0,
        };
        let (from, from_reason, previous_since) =
            prev.map_or((State::Normal, None, at), |p| (p.state, p.reason, p.since));
        if from != state {
            out.transitions
                .push(transition(&new, from, from_reason, previous_since));
        }
        out.states.push(new);
    };

    let mut seen: BTreeSet<Fingerprint> = BTreeSet::new();
    match outcome {
        EvalOutcome::Instances(results) => {
            for result in results {
                let (labels, annotations) = instance_labels_and_annotations(
                    rule,
                    folder_title,
                    Some(result),
                    &result.labels,
                );
                let fingerprint = Fingerprint::of(&labels);
                if !seen.insert(fingerprint) {
                    continue; // two series whose labels the rule's labels made equal
                }
                let target = match result.verdict {
                    Verdict::Normal => Target::Normal(None),
                    Verdict::Firing => Target::Active(State::Alerting, None),
                    Verdict::NoData => no_data_target(rule.no_data_state),
                };
                let values = result
                    .values
                    .iter()
                    .map(|(k, (_, v))| (k.clone(), finite(*v)))
                    .collect();
                settle(
                    &mut out,
                    by_fp.get(&fingerprint).copied(),
                    labels,
                    annotations,
                    target,
                    result.value,
                    values,
                    None,
                );
            }
            // Instances this evaluation did not mention.
            for prev in previous.iter().filter(|p| !seen.contains(&p.fingerprint)) {
                let missing = prev.missing_evaluations + 1;
                if missing < MISSING_EVALUATIONS_TO_RESOLVE {
                    let mut kept = prev.clone();
                    kept.missing_evaluations = missing;
                    kept.last_evaluated_at = at;
                    out.states.push(kept);
                    continue;
                }
                out.removed.push(prev.fingerprint);
                if prev.state != State::Normal {
                    let mut resolved = prev.clone();
                    resolved.state = State::Normal;
                    resolved.reason = Some(Reason::MissingSeries);
                    resolved.since = at;
                    resolved.last_evaluated_at = at;
                    out.transitions.push(transition(
                        &resolved,
                        prev.state,
                        prev.reason,
                        prev.since,
                    ));
                }
            }
        }
        EvalOutcome::NoData | EvalOutcome::Error(_) => {
            let (target, error) = match outcome {
                EvalOutcome::Error(e) => (error_target(rule.exec_err_state), Some(e.clone())),
                _ => (no_data_target(rule.no_data_state), None),
            };
            if previous.is_empty() {
                let (labels, annotations) =
                    instance_labels_and_annotations(rule, folder_title, None, &Labels::new());
                settle(
                    &mut out,
                    None,
                    labels,
                    annotations,
                    target,
                    None,
                    BTreeMap::new(),
                    error,
                );
            } else {
                for prev in previous {
                    let error = if target == Target::KeepLast {
                        prev.error.clone()
                    } else {
                        error.clone()
                    };
                    settle(
                        &mut out,
                        Some(prev),
                        prev.labels.clone(),
                        prev.annotations.clone(),
                        target,
                        prev.value,
                        prev.values.clone(),
                        error,
                    );
                }
            }
        }
    }
    out
}

fn transition(
    new: &InstanceState,
    from: State,
    from_reason: Option<Reason>,
    previous_since: i64,
) -> Transition {
    Transition {
        rule_uid: new.rule_uid.clone(),
        fingerprint: new.fingerprint,
        labels: new.labels.clone(),
        from,
        from_reason,
        to: new.state,
        to_reason: new.reason,
        at: new.last_evaluated_at,
        previous_since,
        value: new.value,
        values: new.values.clone(),
        annotations: new.annotations.clone(),
        error: new.error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_rule;
    use crate::labels::labels;
    use crate::model::AlertRule;
    use serde_json::json;

    const MIN: i64 = 60_000;
    const T0: i64 = 1_700_000_000_000;

    fn rule_with(for_: &str, no_data: &str, exec_err: &str) -> CompiledRule {
        let r: AlertRule = serde_json::from_value(json!({
            "uid": "cpu", "title": "CPU high", "condition": "B", "for": for_,
            "noDataState": no_data, "execErrState": exec_err,
            "labels": {"severity": "page", "host": "{{ $labels.host }}-x"},
            "annotations": {"summary": "{{ $labels.host }} {{ $labels.severity }} {{ humanize $value }}"},
            "data": [
                {"refId": "A", "datasourceUid": "prom", "relativeTimeRange": {"from": 300, "to": 0}, "model": {}},
                {"refId": "B", "datasourceUid": "__expr__", "model": {"type": "math", "expression": "$A > 5"}}
            ]
        }))
        .unwrap();
        compile_rule(&r).unwrap()
    }

    fn rule(for_: &str) -> CompiledRule {
        rule_with(for_, "NoData", "Error")
    }

    fn result(host: &str, verdict: Verdict, value: Option<f64>) -> InstanceResult {
        InstanceResult {
            labels: labels(&[("host", host)]),
            verdict,
            value,
            values: BTreeMap::from([("A".to_string(), (labels(&[("host", host)]), Some(7.5)))]),
        }
    }

    fn firing(host: &str) -> InstanceResult {
        result(host, Verdict::Firing, Some(1.0))
    }

    fn normal(host: &str) -> InstanceResult {
        result(host, Verdict::Normal, Some(0.0))
    }

    /// Runs evaluations one minute apart from T0; returns every step's outcome.
    fn run(rule: &CompiledRule, outcomes: &[EvalOutcome]) -> Vec<StepOutcome> {
        let mut states: Vec<InstanceState> = Vec::new();
        let mut steps = Vec::new();
        for (i, outcome) in outcomes.iter().enumerate() {
            let step = apply_evaluation(rule, "Infra", &states, outcome, T0 + i as i64 * MIN);
            states = step.states.clone();
            steps.push(step);
        }
        steps
    }

    fn moves(steps: &[StepOutcome]) -> Vec<(usize, State, State)> {
        steps
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.transitions.iter().map(move |t| (i, t.from, t.to)))
            .collect()
    }

    fn instances(list: Vec<InstanceResult>) -> EvalOutcome {
        EvalOutcome::Instances(list)
    }

    #[test]
    fn normal_pending_alerting_normal() {
        let r = rule("2m");
        let steps = run(
            &r,
            &[
                instances(vec![normal("a")]),
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                instances(vec![normal("a")]),
            ],
        );
        assert_eq!(
            moves(&steps),
            vec![
                (1, State::Normal, State::Pending),
                (3, State::Pending, State::Alerting),
                (5, State::Alerting, State::Normal)
            ]
        );
        let alerting = &steps[4].states[0];
        assert_eq!(alerting.state, State::Alerting);
        assert_eq!(alerting.since, T0 + 3 * MIN, "since is when Alerting began");
        assert_eq!(alerting.last_evaluated_at, T0 + 4 * MIN);
        let fire = &steps[3].transitions[0];
        assert_eq!(fire.previous_since, T0 + MIN);
        assert_eq!(
            fire.key(),
            format!("cpu/{}/Alerting/{}", fire.fingerprint, T0 + 3 * MIN)
        );
        assert!(!fire.is_resolution());
        assert!(steps[5].transitions[0].is_resolution());
        // Labels: series labels, the rule's (templated, overriding), alertname and folder.
        assert_eq!(
            fire.labels,
            labels(&[
                ("alertname", "CPU high"),
                ("grafana_folder", "Infra"),
                ("host", "a-x"),
                ("severity", "page")
            ])
        );
        assert_eq!(fire.fingerprint, Fingerprint::of(&fire.labels));
        // Annotations see the final labels and the value.
        assert_eq!(fire.annotations["summary"], "a-x page 1");
        assert_eq!(fire.values["A"], Some(7.5));
        assert_eq!(fire.value, Some(1.0));
    }

    #[test]
    fn zero_pending_period_fires_at_once_and_pending_can_clear() {
        let steps = run(&rule("0s"), &[instances(vec![firing("a")])]);
        assert_eq!(moves(&steps), vec![(0, State::Normal, State::Alerting)]);

        let steps = run(
            &rule("5m"),
            &[
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                instances(vec![normal("a")]),
            ],
        );
        assert_eq!(
            moves(&steps),
            vec![
                (0, State::Normal, State::Pending),
                (2, State::Pending, State::Normal)
            ]
        );
        // A first evaluation that is normal creates the instance without a transition.
        let steps = run(&rule("5m"), &[instances(vec![normal("a")])]);
        assert!(steps[0].transitions.is_empty());
        assert_eq!(steps[0].states[0].state, State::Normal);
        assert_eq!(steps[0].states[0].since, T0);
    }

    #[test]
    fn instances_are_independent() {
        let steps = run(
            &rule("0s"),
            &[
                instances(vec![firing("a"), normal("b")]),
                instances(vec![normal("a"), firing("b")]),
            ],
        );
        let summary: Vec<(usize, String, State)> = steps
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.transitions
                    .iter()
                    .map(move |t| (i, t.labels["host"].clone(), t.to))
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (0, "a-x".into(), State::Alerting),
                (1, "a-x".into(), State::Normal),
                (1, "b-x".into(), State::Alerting)
            ]
        );
    }

    #[test]
    fn no_data_for_the_whole_rule_follows_no_data_state() {
        // No instance yet: one instance with only the rule's labels.
        let steps = run(&rule_with("0s", "NoData", "Error"), &[EvalOutcome::NoData]);
        let t = &steps[0].transitions[0];
        assert_eq!((t.from, t.to), (State::Normal, State::NoData));
        assert_eq!(
            t.labels,
            labels(&[
                ("alertname", "CPU high"),
                ("grafana_folder", "Infra"),
                ("host", "[no value]-x"),
                ("severity", "page")
            ])
        );

        // Existing instances take it, each by itself; the pending period applies.
        let steps = run(
            &rule_with("1m", "Alerting", "Error"),
            &[
                instances(vec![normal("a")]),
                EvalOutcome::NoData,
                EvalOutcome::NoData,
                EvalOutcome::NoData,
            ],
        );
        assert_eq!(
            moves(&steps),
            vec![
                (1, State::Normal, State::Pending),
                (2, State::Pending, State::Alerting)
            ]
        );
        assert_eq!(steps[2].states[0].reason, Some(Reason::NoData));
        assert_eq!(steps[3].states[0].state, State::Alerting);
        assert_eq!(
            steps[3].states[0].values["A"],
            Some(7.5),
            "last values are kept"
        );

        let steps = run(
            &rule_with("0s", "OK", "Error"),
            &[instances(vec![firing("a")]), EvalOutcome::NoData],
        );
        assert_eq!(
            moves(&steps),
            vec![
                (0, State::Normal, State::Alerting),
                (1, State::Alerting, State::Normal)
            ]
        );
        assert_eq!(steps[1].states[0].reason, Some(Reason::NoData));

        let steps = run(
            &rule_with("0s", "KeepLast", "Error"),
            &[instances(vec![firing("a")]), EvalOutcome::NoData],
        );
        assert_eq!(moves(&steps), vec![(0, State::Normal, State::Alerting)]);
        assert_eq!(steps[1].states[0].state, State::Alerting);
    }

    #[test]
    fn a_null_condition_value_is_no_data_for_that_instance() {
        let steps = run(
            &rule_with("0s", "NoData", "Error"),
            &[instances(vec![
                result("a", Verdict::NoData, None),
                firing("b"),
            ])],
        );
        let to: Vec<State> = steps[0].transitions.iter().map(|t| t.to).collect();
        assert_eq!(to, vec![State::NoData, State::Alerting]);
    }

    #[test]
    fn errors_follow_exec_err_state_and_the_pending_period() {
        let boom = EvalOutcome::Error("query A failed: connection refused".into());
        let steps = run(
            &rule_with("1m", "NoData", "Error"),
            &[instances(vec![normal("a")]), boom.clone(), boom.clone()],
        );
        assert_eq!(
            moves(&steps),
            vec![
                (1, State::Normal, State::Pending),
                (2, State::Pending, State::Error)
            ]
        );
        let t = &steps[2].transitions[0];
        assert_eq!(
            t.error.as_deref(),
            Some("query A failed: connection refused")
        );
        // Already active: Alerting → Error at once, and back to Alerting at once.
        let steps = run(
            &rule_with("5m", "NoData", "Error"),
            &[
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                instances(vec![firing("a")]),
                boom.clone(),
                instances(vec![firing("a")]),
            ],
        );
        assert_eq!(
            moves(&steps),
            vec![
                (0, State::Normal, State::Pending),
                (5, State::Pending, State::Alerting),
                (6, State::Alerting, State::Error),
                (7, State::Error, State::Alerting)
            ]
        );
        assert_eq!(
            steps[7].states[0].error, None,
            "the error clears with a good evaluation"
        );
        // Alerting via the error: same state, no new transition, reason recorded.
        let steps = run(
            &rule_with("0s", "NoData", "Alerting"),
            &[instances(vec![firing("a")]), boom.clone()],
        );
        assert_eq!(moves(&steps), vec![(0, State::Normal, State::Alerting)]);
        assert_eq!(steps[1].states[0].reason, Some(Reason::Error));
        // OK: errors leave instances Normal.
        let steps = run(&rule_with("0s", "NoData", "OK"), &[boom]);
        assert!(steps[0].transitions.is_empty());
        assert_eq!(steps[0].states[0].state, State::Normal);
        assert_eq!(steps[0].states[0].reason, Some(Reason::Error));
    }

    #[test]
    fn missing_series_resolve_after_two_evaluations() {
        let steps = run(
            &rule("0s"),
            &[
                instances(vec![firing("a"), normal("b")]),
                instances(vec![normal("c")]),
                instances(vec![normal("c")]),
            ],
        );
        // Step 1: a and b missing once, kept.
        assert_eq!(steps[1].states.len(), 3);
        assert!(steps[1].transitions.is_empty());
        assert_eq!(
            steps[1]
                .states
                .iter()
                .find(|s| s.labels["host"] == "a-x")
                .unwrap()
                .missing_evaluations,
            1
        );
        // Step 2: dropped; the firing one is resolved with reason MissingSeries, the normal one silently.
        assert_eq!(steps[2].states.len(), 1);
        assert_eq!(steps[2].removed.len(), 2);
        assert_eq!(steps[2].transitions.len(), 1);
        let t = &steps[2].transitions[0];
        assert_eq!(
            (t.from, t.to, t.to_reason),
            (State::Alerting, State::Normal, Some(Reason::MissingSeries))
        );
        assert_eq!(t.at, T0 + 2 * MIN);
        // A series that comes back in time is just found again.
        let steps = run(
            &rule("0s"),
            &[
                instances(vec![firing("a")]),
                instances(vec![]),
                instances(vec![firing("a")]),
            ],
        );
        assert_eq!(moves(&steps), vec![(0, State::Normal, State::Alerting)]);
        assert_eq!(steps[2].states[0].missing_evaluations, 0);
        assert_eq!(steps[2].states[0].since, T0);
    }

    #[test]
    fn a_new_lease_holder_resumes_from_persisted_state_without_repeating_itself() {
        let r = rule("2m");
        let ticks: Vec<EvalOutcome> = (0..6).map(|_| instances(vec![firing("a")])).collect();
        // One holder runs all six ticks.
        let straight = run(&r, &ticks);
        // Another: the first holder runs three ticks and persists; a new holder loads the JSON,
        // re-runs tick 2 (it does not know the old holder finished it), then carries on.
        let mut states = Vec::new();
        let mut seen = Vec::new();
        for (i, tick) in ticks.iter().enumerate().take(3) {
            let step = apply_evaluation(&r, "Infra", &states, tick, T0 + i as i64 * MIN);
            seen.extend(step.transitions.clone());
            states = step.states;
        }
        let persisted = serde_json::to_string(&states).unwrap();
        let mut states: Vec<InstanceState> = serde_json::from_str(&persisted).unwrap();
        for (i, tick) in ticks.iter().enumerate().skip(2) {
            let step = apply_evaluation(&r, "Infra", &states, tick, T0 + i as i64 * MIN);
            seen.extend(step.transitions.clone());
            states = step.states;
        }
        let expected: Vec<Transition> = straight
            .iter()
            .flat_map(|s| s.transitions.clone())
            .collect();
        assert_eq!(seen, expected, "every transition once, none repeated");
        assert_eq!(states, straight[5].states);
        // The pending period kept counting across the handover: Pending at T0, Alerting at T0+2m.
        assert_eq!(expected.len(), 2);
        assert_eq!(expected[1].at, T0 + 2 * MIN);
        // An evaluation older than the state is ignored too.
        let stale = apply_evaluation(&r, "Infra", &states, &instances(vec![normal("a")]), T0);
        assert!(stale.transitions.is_empty());
        assert_eq!(stale.states, states);
    }

    #[test]
    fn persisted_state_has_a_stable_json_shape() {
        let steps = run(&rule("0s"), &[instances(vec![firing("a")])]);
        let json = serde_json::to_value(&steps[0].states[0]).unwrap();
        assert_eq!(json["state"], "Alerting");
        assert_eq!(json["ruleUid"], "cpu");
        assert_eq!(json["since"], T0);
        assert_eq!(json["fingerprint"].as_str().unwrap().len(), 16);
        let t = serde_json::to_value(&steps[0].transitions[0]).unwrap();
        assert_eq!(
            (t["from"].as_str(), t["to"].as_str()),
            (Some("Normal"), Some("Alerting"))
        );
        let back: Transition = serde_json::from_value(t).unwrap();
        assert_eq!(back, steps[0].transitions[0]);
    }

    #[test]
    fn next_state_table() {
        let prev = |state, since| InstanceState {
            rule_uid: "r".into(),
            fingerprint: Fingerprint(1),
            labels: Labels::new(),
            state,
            reason: None,
            since,
            last_evaluated_at: since,
            value: None,
            values: BTreeMap::new(),
            annotations: BTreeMap::new(),
            error: None,
            missing_evaluations: 0,
        };
        let alerting = Target::Active(State::Alerting, None);
        let error = Target::Active(State::Error, None);
        // (previous, target, pending ms, now) -> (state, since)
        let cases = [
            (None, alerting, 0, 10, (State::Alerting, 10)),
            (None, alerting, 5, 10, (State::Pending, 10)),
            (
                Some(prev(State::Pending, 10)),
                alerting,
                5,
                14,
                (State::Pending, 10),
            ),
            (
                Some(prev(State::Pending, 10)),
                alerting,
                5,
                15,
                (State::Alerting, 15),
            ),
            (
                Some(prev(State::Pending, 10)),
                error,
                5,
                15,
                (State::Error, 15),
            ),
            (
                Some(prev(State::Alerting, 10)),
                alerting,
                5,
                20,
                (State::Alerting, 10),
            ),
            (
                Some(prev(State::Alerting, 10)),
                error,
                5,
                20,
                (State::Error, 20),
            ),
            (
                Some(prev(State::NoData, 10)),
                alerting,
                5,
                20,
                (State::Alerting, 20),
            ),
            (
                Some(prev(State::Alerting, 10)),
                Target::Normal(None),
                5,
                20,
                (State::Normal, 20),
            ),
            (
                Some(prev(State::Normal, 10)),
                Target::Normal(None),
                5,
                20,
                (State::Normal, 10),
            ),
            (None, Target::Normal(None), 5, 20, (State::Normal, 20)),
            (
                Some(prev(State::Error, 10)),
                Target::KeepLast,
                5,
                20,
                (State::Error, 10),
            ),
            (None, Target::KeepLast, 5, 20, (State::Normal, 20)),
        ];
        for (p, target, pending, now, (state, since)) in cases {
            let (s, _, at) = next(p.as_ref(), target, pending, now);
            assert_eq!(
                (s, at),
                (state, since),
                "{:?} {target:?} {pending} {now}",
                p.map(|p| p.state)
            );
        }
    }
}
