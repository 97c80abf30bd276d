//! One evaluation of a compiled rule: given the result of each datasource query, run the
//! expressions in order and read the condition. Each number in the condition's result is one
//! alert instance, identified by its labels: non-zero (NaN included, as in Grafana) fires, zero
//! is normal, null is no data. A condition that still holds time series is an error (reduce it
//! first), as in Grafana.

use std::collections::{BTreeMap, BTreeSet};

use crate::compile::{CompiledRule, Step};
use crate::expr::{Data, Item};
use crate::labels::{format_labels, is_subset, Labels};

static NO_LABELS: Labels = Labels::new();

/// A refId's numbers: the refId, the numbers by labels, and the numbers in order.
type Capture<'a> = (
    &'a String,
    BTreeMap<&'a Labels, Option<f64>>,
    Vec<(&'a Labels, Option<f64>)>,
);

/// What the condition said about one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Normal,
    Firing,
    NoData,
}

/// One instance's result.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceResult {
    /// The labels of the condition's item (the rule's own labels are added by the state step).
    pub labels: Labels,
    pub verdict: Verdict,
    /// The condition's value.
    pub value: Option<f64>,
    /// For `$values`: each refId's number for this instance (the one with the same labels, else
    /// one whose labels are a subset or superset of the instance's).
    pub values: BTreeMap<String, (Labels, Option<f64>)>,
}

impl InstanceResult {
    /// Grafana's evaluation string, `[ var='B' labels={host=a} value=3 ], [ var='C' ... ]`.
    pub fn evaluation_string(&self) -> String {
        self.values
            .iter()
            .map(|(ref_id, (labels, value))| {
                let value = match value {
                    Some(v) => crate::template::format_float_g(*v, None),
                    None => "null".into(),
                };
                format!(
                    "[ var='{ref_id}' labels={} value={value} ]",
                    format_labels(labels)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The outcome of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalOutcome {
    /// One result per instance (never empty).
    Instances(Vec<InstanceResult>),
    /// The condition had no data at all.
    NoData,
    /// A query or an expression failed.
    Error(String),
}

/// The result of one datasource query, as the scheduler hands it in.
pub type QueryResult = Result<Data, String>;

/// Runs every expression of `rule` over its queries' results (keyed by refId) and returns the
/// result of every refId, queries included: what a rule editor's preview shows. The first query
/// or expression that failed is the error.
pub fn evaluate_all(
    rule: &CompiledRule,
    queries: &BTreeMap<String, QueryResult>,
) -> Result<BTreeMap<String, Data>, String> {
    let mut results: BTreeMap<String, Data> = BTreeMap::new();
    for step in &rule.steps {
        match step {
            Step::Query { ref_id, .. } => match queries.get(ref_id) {
                Some(Ok(data)) => {
                    results.insert(ref_id.clone(), data.clone());
                }
                Some(Err(e)) => return Err(format!("query {ref_id} failed: {e}")),
                None => return Err(format!("query {ref_id} was not run")),
            },
            Step::Expression { ref_id, expression } => {
                let data = expression
                    .execute(&|name| results.get(name).cloned())
                    .map_err(|e| format!("expression {ref_id} failed: {e}"))?;
                results.insert(ref_id.clone(), data);
            }
        }
    }
    Ok(results)
}

/// Evaluates `rule` over its queries' results (keyed by refId).
pub fn evaluate(rule: &CompiledRule, queries: &BTreeMap<String, QueryResult>) -> EvalOutcome {
    let results = match evaluate_all(rule, queries) {
        Ok(results) => results,
        Err(e) => return EvalOutcome::Error(e),
    };
    let Some(condition) = results.get(&rule.condition) else {
        return EvalOutcome::Error(format!("condition {} has no result", rule.condition));
    };
    let items = match condition {
        Data::NoData => return EvalOutcome::NoData,
        Data::Items(items) => items,
    };
    // Each refId's numbers, indexed by labels for the exact match (the usual case).
    let captures: Vec<Capture> = results
        .iter()
        .map(|(ref_id, data)| {
            let list: Vec<(&Labels, Option<f64>)> = data
                .items()
                .iter()
                .filter_map(|other| match other {
                    Item::Number(n) => Some((&n.labels, n.value)),
                    Item::Scalar(v) => Some((&NO_LABELS, *v)),
                    Item::Series(_) => None,
                })
                .collect();
            let index = list.iter().map(|(l, v)| (*l, *v)).collect();
            (ref_id, index, list)
        })
        .collect();
    let mut seen: BTreeSet<Labels> = BTreeSet::new();
    let mut instances: Vec<InstanceResult> = Vec::with_capacity(items.len());
    for item in items {
        let (labels, value) = match item {
            Item::Number(n) => (n.labels.clone(), n.value),
            Item::Scalar(v) => (Labels::new(), *v),
            Item::Series(_) => {
                return EvalOutcome::Error(format!(
                    "invalid format of evaluation results for the alert definition {}: looks like time series data, only reduced data can be alerted on (add a reduce expression)",
                    rule.condition
                ))
            }
        };
        if !seen.insert(labels.clone()) {
            return EvalOutcome::Error(format!(
                "invalid format of evaluation results for the alert definition {}: has duplicate results with labels {}",
                rule.condition,
                format_labels(&labels)
            ));
        }
        let verdict = match value {
            None => Verdict::NoData,
            Some(v) => {
                if v == 0.0 {
                    Verdict::Normal
                } else {
                    Verdict::Firing
                }
            }
        };
        // As Grafana captures them: per refId, the number with exactly these labels, else one
        // whose labels are a subset or a superset of these.
        let mut values = BTreeMap::new();
        for (ref_id, index, list) in &captures {
            let found = match index.get(&labels) {
                Some(v) => Some((labels.clone(), *v)),
                None => list
                    .iter()
                    .find(|(other, _)| is_subset(other, &labels) || is_subset(&labels, other))
                    .map(|(other, v)| ((*other).clone(), *v)),
            };
            if let Some(found) = found {
                values.insert((*ref_id).clone(), found);
            }
        }
        instances.push(InstanceResult {
            labels,
            verdict,
            value,
            values,
        });
    }
    EvalOutcome::Instances(instances)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_rule;
    use crate::expr::{Number, Series};
    use crate::labels::labels;
    use crate::model::AlertRule;
    use serde_json::json;

    fn rule(condition_model: serde_json::Value) -> CompiledRule {
        let r: AlertRule = serde_json::from_value(json!({
            "uid": "u", "title": "t", "condition": "C", "for": "0s",
            "data": [
                {"refId": "A", "datasourceUid": "prom", "relativeTimeRange": {"from": 300, "to": 0}, "model": {}},
                {"refId": "B", "datasourceUid": "__expr__", "model": {"type": "reduce", "expression": "A", "reducer": "last"}},
                {"refId": "C", "datasourceUid": "__expr__", "model": condition_model}
            ]
        }))
        .unwrap();
        compile_rule(&r).unwrap()
    }

    fn threshold() -> CompiledRule {
        rule(
            json!({"type": "threshold", "expression": "B", "conditions": [{"evaluator": {"type": "gt", "params": [5]}}]}),
        )
    }

    fn series(host: &str, last: Option<f64>) -> Series {
        Series {
            labels: labels(&[("host", host)]),
            points: vec![(0, Some(0.0)), (1000, last)],
        }
    }

    fn input(data: Data) -> BTreeMap<String, QueryResult> {
        BTreeMap::from([("A".to_string(), Ok(data))])
    }

    #[test]
    fn one_instance_per_series() {
        let out = evaluate(
            &threshold(),
            &input(Data::series(vec![
                series("a", Some(9.0)),
                series("b", Some(1.0)),
                series("c", None),
            ])),
        );
        let EvalOutcome::Instances(list) = out else {
            panic!("{out:?}")
        };
        let verdicts: Vec<(String, Verdict)> = list
            .iter()
            .map(|i| (i.labels["host"].clone(), i.verdict))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                ("a".into(), Verdict::Firing),
                ("b".into(), Verdict::Normal),
                ("c".into(), Verdict::NoData)
            ]
        );
        assert_eq!(list[0].values["B"], (labels(&[("host", "a")]), Some(9.0)));
        assert_eq!(list[0].values["C"], (labels(&[("host", "a")]), Some(1.0)));
        assert!(!list[0].values.contains_key("A"), "series are not values");
        assert_eq!(
            list[0].evaluation_string(),
            "[ var='B' labels={host=a} value=9 ], [ var='C' labels={host=a} value=1 ]"
        );
    }

    #[test]
    fn no_data_errors_and_series_conditions() {
        assert_eq!(
            evaluate(&threshold(), &input(Data::NoData)),
            EvalOutcome::NoData
        );
        let failed = BTreeMap::from([("A".to_string(), Err("connection refused".to_string()))]);
        assert_eq!(
            evaluate(&threshold(), &failed),
            EvalOutcome::Error("query A failed: connection refused".into())
        );
        assert_eq!(
            evaluate(&threshold(), &BTreeMap::new()),
            EvalOutcome::Error("query A was not run".into())
        );
        let on_series = rule(
            json!({"type": "threshold", "expression": "A", "conditions": [{"evaluator": {"type": "gt", "params": [5]}}]}),
        );
        let out = evaluate(
            &on_series,
            &input(Data::series(vec![series("a", Some(9.0))])),
        );
        assert!(
            matches!(&out, EvalOutcome::Error(m) if m.contains("only reduced data")),
            "{out:?}"
        );
    }

    #[test]
    fn math_conditions_and_nan() {
        let math = rule(json!({"type": "math", "expression": "$B > 5 || is_nan($B)"}));
        let out = evaluate(
            &math,
            &input(Data::series(vec![
                series("a", Some(f64::NAN)),
                series("b", Some(1.0)),
            ])),
        );
        let EvalOutcome::Instances(list) = out else {
            panic!("{out:?}")
        };
        assert_eq!(list[0].verdict, Verdict::Firing);
        assert_eq!(list[1].verdict, Verdict::Normal);
        // NaN itself fires (Go: NaN != 0), as in Grafana.
        let nan = rule(json!({"type": "math", "expression": "$B"}));
        let out = evaluate(
            &nan,
            &input(Data::series(vec![series("a", Some(f64::NAN))])),
        );
        let EvalOutcome::Instances(list) = out else {
            panic!("{out:?}")
        };
        assert_eq!(list[0].verdict, Verdict::Firing);
        // A constant condition is one instance without labels.
        let constant = rule(json!({"type": "math", "expression": "1 > 0"}));
        let out = evaluate(&constant, &input(Data::NoData));
        let EvalOutcome::Instances(list) = out else {
            panic!("{out:?}")
        };
        assert_eq!(list.len(), 1);
        assert!(list[0].labels.is_empty());
    }

    #[test]
    fn values_match_equal_then_subset_or_superset_labels() {
        let direct = rule(json!({"type": "math", "expression": "$A > 0"}));
        let data = Data::numbers(vec![
            Number {
                labels: labels(&[("host", "a")]),
                value: Some(1.0),
            },
            Number {
                labels: labels(&[("host", "b")]),
                value: Some(0.0),
            },
        ]);
        let EvalOutcome::Instances(list) = evaluate(&direct, &input(data)) else {
            panic!()
        };
        assert_eq!(
            list[1].values["A"],
            (labels(&[("host", "b")]), Some(0.0)),
            "the exact match"
        );
        // B's reduce of a wider series set: superset labels still match the instance.
        let wide = rule(json!({"type": "math", "expression": "1"}));
        let data = Data::numbers(vec![Number {
            labels: labels(&[("host", "a"), ("dc", "x")]),
            value: Some(3.0),
        }]);
        let EvalOutcome::Instances(list) = evaluate(&wide, &input(data)) else {
            panic!()
        };
        assert_eq!(list[0].values["A"].1, Some(3.0));
    }

    #[test]
    fn duplicate_instances_are_an_error() {
        let same = rule(json!({"type": "math", "expression": "$A > 0"}));
        let data = Data::numbers(vec![
            Number {
                labels: labels(&[("host", "a")]),
                value: Some(1.0),
            },
            Number {
                labels: labels(&[("host", "a")]),
                value: Some(2.0),
            },
        ]);
        let out = evaluate(&same, &input(data));
        assert!(
            matches!(&out, EvalOutcome::Error(m) if m.contains("duplicate results with labels {host=a}")),
            "{out:?}"
        );
    }

    #[test]
    fn every_ref_id_result_is_available_for_a_preview() {
        let all = evaluate_all(
            &threshold(),
            &input(Data::series(vec![series("a", Some(9.0))])),
        )
        .unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), vec!["A", "B", "C"]);
        assert_eq!(
            all["B"],
            Data::numbers(vec![Number {
                labels: labels(&[("host", "a")]),
                value: Some(9.0)
            }])
        );
        assert!(matches!(all["A"], Data::Items(ref items) if matches!(items[0], Item::Series(_))));
    }

    #[test]
    fn numbers_from_table_queries_work_directly() {
        let direct = rule(
            json!({"type": "threshold", "expression": "A", "conditions": [{"evaluator": {"type": "lt", "params": [1]}}]}),
        );
        let data = Data::numbers(vec![
            Number {
                labels: labels(&[("svc", "x")]),
                value: Some(0.5),
            },
            Number {
                labels: labels(&[("svc", "y")]),
                value: Some(2.0),
            },
        ]);
        let EvalOutcome::Instances(list) = evaluate(&direct, &input(data)) else {
            panic!()
        };
        assert_eq!(list[0].verdict, Verdict::Firing);
        assert_eq!(list[1].verdict, Verdict::Normal);
        assert_eq!(list[0].values["A"].1, Some(0.5));
    }
}
