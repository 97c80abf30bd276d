//! Validation: turns an [`AlertRule`] into a [`CompiledRule`] that can be evaluated, or says
//! clearly why it cannot (for a 400 when the rule is saved).
//!
//! Checked: title and condition present; refIds present and unique; the condition names one of
//! them; every datasource query names a datasource and a range whose `from` is before its `to`;
//! every expression is of a known type, well formed, and reads only refIds that exist; the
//! expression graph has no cycle (its topological order is the evaluation order); `for` is a
//! duration; every annotation and label template parses. For a group, also the interval (a
//! positive multiple of Grafana's 10 s base interval) and unique rule titles and uids.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use thiserror::Error;

use crate::duration::parse_duration;
use crate::expr::{Expression, ModelError};
use crate::model::{AlertRule, ExecErrState, NoDataState, RelativeTimeRange, RuleGroup};
use crate::template::Template;
use crate::BASE_INTERVAL_SECONDS;

/// Why a rule or group cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    #[error("the rule has no title")]
    MissingTitle,
    #[error("the title is longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("uid {0:?} is invalid: at most {MAX_UID_CHARS} letters, digits, '-' or '_'")]
    InvalidUid(String),
    #[error("a {0} has an empty name")]
    EmptyName(&'static str),
    #[error("the rule has no queries or expressions (data is empty)")]
    NoData,
    #[error("query {index} has no refId")]
    MissingRefId { index: usize },
    #[error("refId {0} is used more than once")]
    DuplicateRefId(String),
    #[error("the rule has no condition (the refId whose result decides the alert state)")]
    MissingCondition,
    #[error("condition {0} is not one of the rule's refIds")]
    UnknownCondition(String),
    #[error("query {ref_id} has no datasourceUid")]
    MissingDatasource { ref_id: String },
    #[error("query {ref_id} has an invalid relativeTimeRange (from {from}s must be further back than to {to}s)")]
    InvalidTimeRange { ref_id: String, from: i64, to: i64 },
    #[error("expression {ref_id} has an unknown type {kind:?} (expected math, reduce, threshold or classic_conditions)")]
    UnknownExpressionType { ref_id: String, kind: String },
    #[error("expression {ref_id}: {message}")]
    InvalidExpression { ref_id: String, message: String },
    #[error("expression {ref_id} refers to {missing}, which is not a refId of this rule")]
    UnknownReference { ref_id: String, missing: String },
    #[error("the expressions form a cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    #[error("for {0:?} is not a duration (examples: 0s, 5m, 1h30m)")]
    InvalidFor(String),
    #[error("the template of {kind} {name:?} does not parse: {message}")]
    Template {
        kind: &'static str,
        name: String,
        message: String,
    },
    #[error("the group has no title")]
    MissingGroupTitle,
    #[error("the group title is longer than {MAX_TITLE_CHARS} characters")]
    GroupTitleTooLong,
    #[error("the group interval {0}s must be a positive multiple of {BASE_INTERVAL_SECONDS}s")]
    InvalidInterval(i64),
    #[error("the group has two rules titled {0:?}")]
    DuplicateTitle(String),
    #[error("the group has two rules with uid {0:?}")]
    DuplicateUid(String),
    #[error("rule {title:?}: {error}")]
    InGroup {
        title: String,
        error: Box<RuleError>,
    },
}

/// One entry of a compiled rule, in evaluation order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A datasource query; its result comes from outside.
    Query {
        ref_id: String,
        datasource_uid: String,
        range: RelativeTimeRange,
    },
    Expression {
        ref_id: String,
        expression: Expression,
    },
}

impl Step {
    pub fn ref_id(&self) -> &str {
        match self {
            Step::Query { ref_id, .. } | Step::Expression { ref_id, .. } => ref_id,
        }
    }
}

/// A rule ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledRule {
    pub uid: String,
    pub title: String,
    pub condition: String,
    /// Queries and expressions in an order where each comes after what it reads.
    pub steps: Vec<Step>,
    pub pending_period: Duration,
    pub no_data_state: NoDataState,
    pub exec_err_state: ExecErrState,
    /// The rule's labels as templates (static text parses as a template too).
    pub labels: BTreeMap<String, Template>,
    pub annotations: BTreeMap<String, Template>,
    pub is_paused: bool,
}

impl CompiledRule {
    /// The datasource queries to run before evaluating.
    pub fn queries(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Query { .. }))
    }
}

/// Grafana's limits on a rule's title and uid.
pub const MAX_TITLE_CHARS: usize = 190;
pub const MAX_UID_CHARS: usize = 40;

/// Checks a rule and prepares it for evaluation.
pub fn compile_rule(rule: &AlertRule) -> Result<CompiledRule, RuleError> {
    if rule.title.trim().is_empty() {
        return Err(RuleError::MissingTitle);
    }
    if rule.title.chars().count() > MAX_TITLE_CHARS {
        return Err(RuleError::TitleTooLong);
    }
    if let Some(uid) = rule.uid.as_deref().filter(|u| !u.is_empty()) {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if uid.len() > MAX_UID_CHARS || !uid.chars().all(allowed) {
            return Err(RuleError::InvalidUid(uid.to_string()));
        }
    }
    if rule.labels.keys().any(|k| k.trim().is_empty()) {
        return Err(RuleError::EmptyName("label"));
    }
    if rule.annotations.keys().any(|k| k.trim().is_empty()) {
        return Err(RuleError::EmptyName("annotation"));
    }
    if rule.data.is_empty() {
        return Err(RuleError::NoData);
    }
    let mut by_ref: HashMap<&str, usize> = HashMap::new();
    for (index, query) in rule.data.iter().enumerate() {
        if query.ref_id.trim().is_empty() {
            return Err(RuleError::MissingRefId { index });
        }
        if by_ref.insert(query.ref_id.as_str(), index).is_some() {
            return Err(RuleError::DuplicateRefId(query.ref_id.clone()));
        }
    }
    if rule.condition.trim().is_empty() {
        return Err(RuleError::MissingCondition);
    }
    if !by_ref.contains_key(rule.condition.as_str()) {
        return Err(RuleError::UnknownCondition(rule.condition.clone()));
    }

    let mut steps = Vec::with_capacity(rule.data.len());
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(rule.data.len());
    for query in &rule.data {
        let ref_id = query.ref_id.clone();
        if !query.is_expression() {
            if query.datasource_uid.trim().is_empty() {
                return Err(RuleError::MissingDatasource { ref_id });
            }
            let range = query.relative_time_range;
            if range.from <= range.to || range.to < 0 {
                return Err(RuleError::InvalidTimeRange {
                    ref_id,
                    from: range.from,
                    to: range.to,
                });
            }
            steps.push(Step::Query {
                ref_id,
                datasource_uid: query.datasource_uid.clone(),
                range,
            });
            deps.push(Vec::new());
            continue;
        }
        let expression = Expression::from_model(&query.model).map_err(|e| match e {
            ModelError::UnknownType(kind) => RuleError::UnknownExpressionType {
                ref_id: ref_id.clone(),
                kind,
            },
            ModelError::Unsupported(message) | ModelError::Invalid(message) => {
                RuleError::InvalidExpression {
                    ref_id: ref_id.clone(),
                    message,
                }
            }
        })?;
        let mut mine = Vec::new();
        for dep in expression.dependencies() {
            match by_ref.get(dep.as_str()) {
                Some(i) => mine.push(*i),
                None => {
                    return Err(RuleError::UnknownReference {
                        ref_id,
                        missing: dep,
                    })
                }
            }
        }
        deps.push(mine);
        steps.push(Step::Expression { ref_id, expression });
    }

    let order = topological_order(&deps).map_err(|cycle| {
        RuleError::Cycle(
            cycle
                .into_iter()
                .map(|i| rule.data[i].ref_id.clone())
                .collect(),
        )
    })?;
    let mut slots: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
    let steps = order.into_iter().filter_map(|i| slots[i].take()).collect();

    let pending_period = parse_duration(&rule.for_duration)
        .ok_or_else(|| RuleError::InvalidFor(rule.for_duration.clone()))?;

    let templates = |kind: &'static str, map: &BTreeMap<String, String>| {
        map.iter()
            .map(|(name, text)| {
                Template::parse(text)
                    .map(|t| (name.clone(), t))
                    .map_err(|e| RuleError::Template {
                        kind,
                        name: name.clone(),
                        message: e.0,
                    })
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
    };
    let labels = templates("label", &rule.labels)?;
    let annotations = templates("annotation", &rule.annotations)?;

    Ok(CompiledRule {
        uid: rule.uid.clone().unwrap_or_default(),
        title: rule.title.clone(),
        condition: rule.condition.clone(),
        steps,
        pending_period,
        no_data_state: rule.no_data_state,
        exec_err_state: rule.exec_err_state,
        labels,
        annotations,
        is_paused: rule.is_paused,
    })
}

/// Checks a group: its interval, then every rule; titles and uids must be unique in it.
pub fn validate_group(group: &RuleGroup) -> Result<Vec<CompiledRule>, RuleError> {
    if group.title.trim().is_empty() {
        return Err(RuleError::MissingGroupTitle);
    }
    if group.title.chars().count() > MAX_TITLE_CHARS {
        return Err(RuleError::GroupTitleTooLong);
    }
    if group.interval <= 0 || group.interval % BASE_INTERVAL_SECONDS != 0 {
        return Err(RuleError::InvalidInterval(group.interval));
    }
    let mut titles = HashMap::new();
    let mut uids = HashMap::new();
    let mut out = Vec::with_capacity(group.rules.len());
    for rule in &group.rules {
        if titles.insert(rule.title.as_str(), ()).is_some() {
            return Err(RuleError::DuplicateTitle(rule.title.clone()));
        }
        if let Some(uid) = rule.uid.as_deref().filter(|u| !u.is_empty()) {
            if uids.insert(uid, ()).is_some() {
                return Err(RuleError::DuplicateUid(uid.to_string()));
            }
        }
        let compiled = compile_rule(rule).map_err(|error| RuleError::InGroup {
            title: rule.title.clone(),
            error: Box::new(error),
        })?;
        out.push(compiled);
    }
    Ok(out)
}

/// Orders nodes so each comes after the nodes it depends on (`deps[i]` are i's dependencies);
/// among ready nodes the earliest in the rule comes first, so the order is deterministic. On a
/// cycle, returns one: the nodes around it, the first repeated at the end.
pub fn topological_order(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = deps.len();
    let mut remaining: Vec<usize> = deps
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.sort_unstable();
            d.dedup();
            d.len()
        })
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, d) in deps.iter().enumerate() {
        let mut d = d.clone();
        d.sort_unstable();
        d.dedup();
        for j in d {
            dependents[j].push(i);
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|i| remaining[*i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &k in &dependents[i] {
            remaining[k] -= 1;
            if remaining[k] == 0 {
                ready.insert(k);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Find a cycle among the nodes left: follow unresolved dependencies until one repeats.
    let left: Vec<bool> = (0..n).map(|i| remaining[i] > 0).collect();
    let start = (0..n).find(|i| left[*i]).unwrap_or(0);
    let mut path = vec![start];
    let mut current = start;
    loop {
        let next = deps[current]
            .iter()
            .copied()
            .find(|d| left[*d])
            .unwrap_or(current);
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(next);
            return Err(cycle);
        }
        path.push(next);
        current = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn rule(data: Value, condition: &str) -> AlertRule {
        serde_json::from_value(json!({
            "uid": "r1", "title": "High CPU", "folderUID": "f", "ruleGroup": "g", "orgID": 1,
            "condition": condition, "data": data, "for": "5m",
            "labels": {"severity": "page", "team": "{{ $labels.team }}"},
            "annotations": {"summary": "{{ $labels.instance }} at {{ humanize $value }}"}
        }))
        .unwrap()
    }

    fn query(ref_id: &str) -> Value {
        json!({"refId": ref_id, "datasourceUid": "prom", "relativeTimeRange": {"from": 600, "to": 0},
               "model": {"expr": "up", "refId": ref_id}})
    }

    fn expr(ref_id: &str, model: Value) -> Value {
        json!({"refId": ref_id, "datasourceUid": "__expr__", "relativeTimeRange": {"from": 0, "to": 0}, "model": model})
    }

    fn good() -> AlertRule {
        rule(
            json!([
                expr(
                    "C",
                    json!({"type": "threshold", "expression": "B", "conditions": [{"evaluator": {"type": "gt", "params": [1]}}]})
                ),
                query("A"),
                expr(
                    "B",
                    json!({"type": "reduce", "expression": "A", "reducer": "last"})
                ),
            ]),
            "C",
        )
    }

    #[test]
    fn a_good_rule_compiles_in_dependency_order() {
        let compiled = compile_rule(&good()).unwrap();
        let order: Vec<&str> = compiled.steps.iter().map(Step::ref_id).collect();
        assert_eq!(order, vec!["A", "B", "C"]);
        assert_eq!(compiled.pending_period, Duration::from_secs(300));
        assert_eq!(compiled.queries().count(), 1);
        assert_eq!(compiled.labels.len(), 2);
        assert_eq!(compiled.annotations.len(), 1);
        assert_eq!(compiled.uid, "r1");
    }

    fn err_of(mut edit: impl FnMut(&mut AlertRule)) -> RuleError {
        let mut r = good();
        edit(&mut r);
        compile_rule(&r).unwrap_err()
    }

    #[test]
    fn each_mistake_has_its_own_clear_error() {
        assert_eq!(
            err_of(|r| r.condition = "Z".into()),
            RuleError::UnknownCondition("Z".into())
        );
        assert_eq!(err_of(|r| r.condition.clear()), RuleError::MissingCondition);
        assert_eq!(err_of(|r| r.title = " ".into()), RuleError::MissingTitle);
        assert_eq!(
            err_of(|r| r.title = "t".repeat(191)),
            RuleError::TitleTooLong
        );
        assert_eq!(
            err_of(|r| r.uid = Some("a/b".into())),
            RuleError::InvalidUid("a/b".into())
        );
        assert_eq!(
            err_of(|r| r.uid = Some("u".repeat(41))),
            RuleError::InvalidUid("u".repeat(41))
        );
        assert_eq!(
            err_of(|r| {
                r.labels.insert(String::new(), "x".into());
            }),
            RuleError::EmptyName("label")
        );
        assert_eq!(err_of(|r| r.data.clear()), RuleError::NoData);
        assert_eq!(
            err_of(|r| r.data[2].ref_id = "A".into()),
            RuleError::DuplicateRefId("A".into())
        );
        assert_eq!(
            err_of(|r| r.data[1].ref_id.clear()),
            RuleError::MissingRefId { index: 1 }
        );
        assert_eq!(
            err_of(|r| r.for_duration = "5 minutes".into()),
            RuleError::InvalidFor("5 minutes".into())
        );
        assert_eq!(
            err_of(|r| r.data[1].datasource_uid.clear()),
            RuleError::MissingDatasource { ref_id: "A".into() }
        );
        assert_eq!(
            err_of(|r| r.data[1].relative_time_range = RelativeTimeRange { from: 0, to: 600 }),
            RuleError::InvalidTimeRange {
                ref_id: "A".into(),
                from: 0,
                to: 600
            }
        );
        assert_eq!(
            err_of(|r| r.data[2].model =
                json!({"type": "reduce", "expression": "Q", "reducer": "last"})),
            RuleError::UnknownReference {
                ref_id: "B".into(),
                missing: "Q".into()
            }
        );
        assert_eq!(
            err_of(|r| r.data[2].model = json!({"type": "magic"})),
            RuleError::UnknownExpressionType {
                ref_id: "B".into(),
                kind: "magic".into()
            }
        );
        let e = err_of(|r| r.data[2].model = json!({"type": "math", "expression": "$A +"}));
        assert!(
            matches!(&e, RuleError::InvalidExpression { ref_id, .. } if ref_id == "B"),
            "{e}"
        );
        let e = err_of(|r| {
            r.annotations
                .insert("description".into(), "{{ $labels.instance ".into());
        });
        assert!(
            matches!(&e, RuleError::Template { kind: "annotation", name, .. } if name == "description"),
            "{e}"
        );
        assert!(e.to_string().contains("unclosed action"), "{e}");
        let e = err_of(|r| {
            r.labels.insert("x".into(), "{{ nosuch }}".into());
        });
        assert!(
            matches!(&e, RuleError::Template { kind: "label", .. }),
            "{e}"
        );
    }

    #[test]
    fn cycles_are_named() {
        let r = rule(
            json!([
                query("A"),
                expr("B", json!({"type": "math", "expression": "$A + $D"})),
                expr(
                    "C",
                    json!({"type": "reduce", "expression": "B", "reducer": "last"})
                ),
                expr(
                    "D",
                    json!({"type": "threshold", "expression": "C", "conditions": [{"evaluator": {"type": "gt", "params": [1]}}]})
                ),
            ]),
            "D",
        );
        let err = compile_rule(&r).unwrap_err();
        assert_eq!(
            err,
            RuleError::Cycle(vec!["B".into(), "D".into(), "C".into(), "B".into()])
        );
        assert_eq!(
            err.to_string(),
            "the expressions form a cycle: B -> D -> C -> B"
        );
        let selfish = rule(
            json!([expr("A", json!({"type": "math", "expression": "$A * 2"}))]),
            "A",
        );
        assert_eq!(
            compile_rule(&selfish).unwrap_err(),
            RuleError::Cycle(vec!["A".into(), "A".into()])
        );
    }

    #[test]
    fn topological_order_is_deterministic() {
        // 0 <- 2, 1 <- 2, 3 free
        assert_eq!(
            topological_order(&[vec![], vec![], vec![0, 1, 1], vec![]]),
            Ok(vec![0, 1, 2, 3])
        );
        assert_eq!(topological_order(&[vec![1], vec![]]), Ok(vec![1, 0]));
        assert_eq!(topological_order(&[vec![1], vec![0]]), Err(vec![0, 1, 0]));
    }

    #[test]
    fn groups_check_interval_titles_and_uids() {
        let mut untitled = RuleGroup {
            title: " ".into(),
            folder_uid: "f".into(),
            interval: 60,
            rules: vec![],
            extra: Default::default(),
        };
        assert_eq!(
            validate_group(&untitled).unwrap_err(),
            RuleError::MissingGroupTitle
        );
        untitled.title = "g".repeat(191);
        assert_eq!(
            validate_group(&untitled).unwrap_err(),
            RuleError::GroupTitleTooLong
        );
        let group = |interval: i64, rules: Vec<AlertRule>| RuleGroup {
            title: "g".into(),
            folder_uid: "f".into(),
            interval,
            rules,
            extra: Default::default(),
        };
        assert_eq!(validate_group(&group(60, vec![good()])).unwrap().len(), 1);
        for bad in [0, -10, 15, 5] {
            assert_eq!(
                validate_group(&group(bad, vec![good()])).unwrap_err(),
                RuleError::InvalidInterval(bad)
            );
        }
        let mut second = good();
        second.uid = Some("r2".into());
        assert_eq!(
            validate_group(&group(10, vec![good(), second.clone()])).unwrap_err(),
            RuleError::DuplicateTitle("High CPU".into())
        );
        second.title = "Other".into();
        second.uid = Some("r1".into());
        assert_eq!(
            validate_group(&group(10, vec![good(), second.clone()])).unwrap_err(),
            RuleError::DuplicateUid("r1".into())
        );
        second.uid = None;
        second.condition = "nope".into();
        let err = validate_group(&group(10, vec![good(), second])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rule \"Other\": condition nope is not one of the rule's refIds"
        );
    }
}
