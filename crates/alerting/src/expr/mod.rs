//! Server-side expressions, as Grafana's `__expr__` datasource models them: `math`, `reduce`,
//! `threshold` and `classic_conditions`. [`Expression::from_model`] reads a query `model`
//! (checking it the way validation needs), [`Expression::dependencies`] names the refIds it
//! reads, and [`Expression::execute`] runs it over their results.
//!
//! Left out: `resample` and `sql` expressions and recovery thresholds (`unloadEvaluator`, which
//! need state between evaluations); a rule using them is refused with a message that says so.

pub mod classic;
pub mod data;
pub mod math;

use serde_json::Value;

pub use data::{Data, Item, Number, Series};
pub use math::MathExpr;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    Math(MathExpr),
    Reduce {
        input: String,
        reducer: Reducer,
        mode: ReduceMode,
    },
    Threshold {
        input: String,
        evaluator: Evaluator,
    },
    ClassicConditions(classic::ClassicConditions),
}

/// A reducer of the `reduce` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reducer {
    Last,
    Mean,
    Min,
    Max,
    Sum,
    Count,
    Median,
}

impl Reducer {
    pub fn by_name(name: &str) -> Option<Reducer> {
        Some(match name {
            "last" => Reducer::Last,
            "mean" => Reducer::Mean,
            "min" => Reducer::Min,
            "max" => Reducer::Max,
            "sum" => Reducer::Sum,
            "count" => Reducer::Count,
            "median" => Reducer::Median,
            _ => return None,
        })
    }
}

/// How `reduce` treats null, NaN and infinite points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReduceMode {
    /// Any null or NaN point makes the result NaN (`last` returns the last point as it is).
    Strict,
    /// Such points are dropped first; a NaN result becomes null.
    DropNonNumbers,
    /// Such points are replaced by the value first; a NaN result becomes it too.
    ReplaceNonNumbers(f64),
}

/// A threshold test (`gt`, `lt`, `within_range`, ...).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evaluator {
    Gt(f64),
    Lt(f64),
    Eq(f64),
    Ne(f64),
    Gte(f64),
    Lte(f64),
    /// Strictly between the two parameters, as Grafana writes them (`params[0] < v < params[1]`).
    WithinRange(f64, f64),
    OutsideRange(f64, f64),
    WithinRangeIncluded(f64, f64),
    OutsideRangeIncluded(f64, f64),
}

impl Evaluator {
    /// Reads `{"type": "gt", "params": [5]}`.
    pub fn from_json(value: &Value) -> Result<Evaluator, String> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or("the evaluator has no type")?;
        let params: Vec<f64> = match value.get("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|p| {
                    p.as_f64()
                        .ok_or_else(|| format!("evaluator parameter {p} is not a number"))
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("evaluator params must be a list, not {other}")),
        };
        let one = |make: fn(f64) -> Evaluator| -> Result<Evaluator, String> {
            match params.first() {
                Some(v) => Ok(make(*v)),
                None => Err(format!("evaluator {kind} needs 1 parameter, got 0")),
            }
        };
        let two = |make: fn(f64, f64) -> Evaluator| -> Result<Evaluator, String> {
            match params.as_slice() {
                [a, b, ..] => Ok(make(*a, *b)),
                _ => Err(format!(
                    "evaluator {kind} needs 2 parameters, got {}",
                    params.len()
                )),
            }
        };
        match kind {
            "gt" => one(Evaluator::Gt),
            "lt" => one(Evaluator::Lt),
            "eq" => one(Evaluator::Eq),
            "ne" => one(Evaluator::Ne),
            "gte" => one(Evaluator::Gte),
            "lte" => one(Evaluator::Lte),
            "within_range" => two(Evaluator::WithinRange),
            "outside_range" => two(Evaluator::OutsideRange),
            "within_range_included" => two(Evaluator::WithinRangeIncluded),
            "outside_range_included" => two(Evaluator::OutsideRangeIncluded),
            other => Err(format!(
                "unknown evaluator type {other:?} (expected gt, lt, eq, ne, gte, lte, within_range, \
                 outside_range, within_range_included or outside_range_included)"
            )),
        }
    }

    pub fn test(self, v: f64) -> bool {
        match self {
            Evaluator::Gt(p) => v > p,
            Evaluator::Lt(p) => v < p,
            Evaluator::Eq(p) => v == p,
            Evaluator::Ne(p) => v != p,
            Evaluator::Gte(p) => v >= p,
            Evaluator::Lte(p) => v <= p,
            Evaluator::WithinRange(a, b) => v > a && v < b,
            Evaluator::OutsideRange(a, b) => v < a || v > b,
            Evaluator::WithinRangeIncluded(a, b) => v >= a && v <= b,
            Evaluator::OutsideRangeIncluded(a, b) => v <= a || v >= b,
        }
    }
}

/// The kinds of expression Grafana has; the ones Pharos runs are [`Expression`]'s variants.
pub const KNOWN_TYPES: &[&str] = &[
    "math",
    "reduce",
    "threshold",
    "classic_conditions",
    "resample",
    "sql",
];

fn string_field<'a>(model: &'a Value, name: &str) -> Result<&'a str, String> {
    match model.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(format!("{name} is missing")),
        Some(other) => Err(format!("{name} must be a string, not {other}")),
    }
}

/// A refId written as `A` or `$A` (reduce and threshold take the bare name; `$` is tolerated).
fn ref_name(text: &str) -> String {
    let t = text.trim();
    let t = t.strip_prefix('$').unwrap_or(t);
    let t = t
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(t);
    t.to_string()
}

/// Why a model is not an expression Pharos can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// `type` is not one of Grafana's expression types.
    UnknownType(String),
    /// A Grafana expression type Pharos does not run (yet).
    Unsupported(String),
    /// The model is malformed.
    Invalid(String),
}

impl Expression {
    /// Reads an expression from a query `model`.
    pub fn from_model(model: &Value) -> Result<Expression, ModelError> {
        let kind = match model.get("type") {
            Some(Value::String(s)) => s.as_str(),
            _ => return Err(ModelError::Invalid("the expression has no type".into())),
        };
        let invalid = ModelError::Invalid;
        match kind {
            "math" => {
                let text = string_field(model, "expression").map_err(invalid)?;
                math::parse(text).map(Expression::Math).map_err(invalid)
            }
            "reduce" => {
                let input = ref_name(string_field(model, "expression").map_err(invalid)?);
                let name = string_field(model, "reducer").map_err(invalid)?;
                let reducer = Reducer::by_name(name).ok_or_else(|| {
                    invalid(format!(
                        "unknown reducer {name:?} (expected last, mean, min, max, sum, count or median)"
                    ))
                })?;
                let settings = model.get("settings");
                let mode = match settings.and_then(|s| s.get("mode")).and_then(Value::as_str) {
                    None | Some("") | Some("strict") => ReduceMode::Strict,
                    Some("dropNN") => ReduceMode::DropNonNumbers,
                    Some("replaceNN") => {
                        let value = settings
                            .and_then(|s| s.get("replaceWithValue"))
                            .and_then(Value::as_f64)
                            .ok_or_else(|| {
                                invalid("replaceNN needs a numeric replaceWithValue".into())
                            })?;
                        ReduceMode::ReplaceNonNumbers(value)
                    }
                    Some(other) => {
                        return Err(invalid(format!(
                            "unknown reduce mode {other:?} (expected strict, dropNN or replaceNN)"
                        )))
                    }
                };
                Ok(Expression::Reduce {
                    input,
                    reducer,
                    mode,
                })
            }
            "threshold" => {
                let input = ref_name(string_field(model, "expression").map_err(invalid)?);
                let conditions = model
                    .get("conditions")
                    .and_then(Value::as_array)
                    .ok_or_else(|| invalid("threshold needs conditions".into()))?;
                let [condition] = conditions.as_slice() else {
                    return Err(invalid(format!(
                        "threshold needs exactly one condition, got {}",
                        conditions.len()
                    )));
                };
                if condition
                    .get("unloadEvaluator")
                    .is_some_and(|u| !u.is_null())
                {
                    return Err(ModelError::Unsupported(
                        "recovery thresholds (unloadEvaluator) are not supported yet".into(),
                    ));
                }
                let evaluator = condition
                    .get("evaluator")
                    .ok_or_else(|| invalid("threshold condition has no evaluator".into()))
                    .and_then(|e| Evaluator::from_json(e).map_err(invalid))?;
                Ok(Expression::Threshold { input, evaluator })
            }
            "classic_conditions" => classic::ClassicConditions::from_model(model)
                .map(Expression::ClassicConditions)
                .map_err(invalid),
            "resample" | "sql" => Err(ModelError::Unsupported(format!(
                "{kind} expressions are not supported yet"
            ))),
            other => Err(ModelError::UnknownType(other.to_string())),
        }
    }

    /// The refIds this expression reads.
    pub fn dependencies(&self) -> Vec<String> {
        match self {
            Expression::Math(m) => m.variables(),
            Expression::Reduce { input, .. } | Expression::Threshold { input, .. } => {
                vec![input.clone()]
            }
            Expression::ClassicConditions(c) => c.dependencies(),
        }
    }

    /// Runs the expression; `vars` gives the result of each refId it depends on.
    pub fn execute(&self, vars: &dyn Fn(&str) -> Option<Data>) -> Result<Data, String> {
        let var = |name: &str| vars(name).ok_or_else(|| format!("no result for {name}"));
        match self {
            Expression::Math(m) => math::evaluate(m, vars),
            Expression::Reduce {
                input,
                reducer,
                mode,
            } => Ok(match var(input)? {
                Data::NoData => Data::NoData,
                Data::Items(items) => Data::Items(
                    items
                        .into_iter()
                        .map(|item| match item {
                            Item::Series(s) => Item::Number(Number {
                                value: reduce(*reducer, *mode, &s.points),
                                labels: s.labels,
                            }),
                            // A number is already reduced (Grafana passes it through too).
                            Item::Number(n) => Item::Number(n),
                            Item::Scalar(v) => Item::Number(Number {
                                labels: Default::default(),
                                value: v,
                            }),
                        })
                        .collect(),
                ),
            }),
            Expression::Threshold { input, evaluator } => {
                let test = |v: Option<f64>| v.map(|x| if evaluator.test(x) { 1.0 } else { 0.0 });
                Ok(match var(input)? {
                    Data::NoData => Data::NoData,
                    Data::Items(items) => Data::Items(
                        items
                            .into_iter()
                            .map(|item| match item {
                                Item::Series(s) => Item::Series(Series {
                                    points: s
                                        .points
                                        .into_iter()
                                        .map(|(t, v)| (t, test(v)))
                                        .collect(),
                                    labels: s.labels,
                                }),
                                Item::Number(n) => Item::Number(Number {
                                    value: test(n.value),
                                    labels: n.labels,
                                }),
                                Item::Scalar(v) => Item::Scalar(test(v)),
                            })
                            .collect(),
                    ),
                })
            }
            Expression::ClassicConditions(c) => c.execute(vars),
        }
    }
}

/// Reduces the points of one series, following Grafana's rules for each mode.
pub fn reduce(reducer: Reducer, mode: ReduceMode, points: &[(i64, Option<f64>)]) -> Option<f64> {
    let non_number = |v: Option<f64>| v.is_none_or(|x| !x.is_finite());
    let values: Vec<Option<f64>> = match mode {
        ReduceMode::Strict => points.iter().map(|(_, v)| *v).collect(),
        ReduceMode::DropNonNumbers => points
            .iter()
            .map(|(_, v)| *v)
            .filter(|v| !non_number(*v))
            .collect(),
        ReduceMode::ReplaceNonNumbers(r) => points
            .iter()
            .map(|(_, v)| if non_number(*v) { Some(r) } else { *v })
            .collect(),
    };
    let strict = |f: fn(&[f64]) -> f64| -> Option<f64> {
        let mut plain = Vec::with_capacity(values.len());
        for v in &values {
            match v {
                Some(x) if !x.is_nan() => plain.push(*x),
                _ => return Some(f64::NAN),
            }
        }
        Some(f(&plain))
    };
    let result = match reducer {
        Reducer::Count => Some(values.len() as f64),
        Reducer::Last => match values.last() {
            None => Some(f64::NAN),
            Some(v) => *v,
        },
        Reducer::Sum => strict(|v| v.iter().sum()),
        Reducer::Mean => strict(|v| v.iter().sum::<f64>() / v.len() as f64),
        Reducer::Min => strict(|v| v.iter().copied().reduce(f64::min).unwrap_or(f64::NAN)),
        Reducer::Max => strict(|v| v.iter().copied().reduce(f64::max).unwrap_or(f64::NAN)),
        Reducer::Median => strict(|v| {
            if v.is_empty() {
                return f64::NAN;
            }
            let mut sorted = v.to_vec();
            sorted.sort_by(f64::total_cmp);
            let mid = sorted.len() / 2;
            if sorted.len() % 2 == 0 {
                (sorted[mid - 1] + sorted[mid]) / 2.0
            } else {
                sorted[mid]
            }
        }),
    };
    match mode {
        ReduceMode::Strict => result,
        ReduceMode::DropNonNumbers => result.filter(|v| !v.is_nan()),
        ReduceMode::ReplaceNonNumbers(r) => match result {
            Some(v) if v.is_nan() => Some(r),
            other => other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn pts(values: &[Option<f64>]) -> Vec<(i64, Option<f64>)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 1000, *v))
            .collect()
    }

    #[test]
    fn reducers_in_strict_mode() {
        let p = pts(&[Some(3.0), Some(1.0), Some(2.0), Some(6.0)]);
        let r = |reducer| reduce(reducer, ReduceMode::Strict, &p);
        assert_eq!(r(Reducer::Last), Some(6.0));
        assert_eq!(r(Reducer::Mean), Some(3.0));
        assert_eq!(r(Reducer::Min), Some(1.0));
        assert_eq!(r(Reducer::Max), Some(6.0));
        assert_eq!(r(Reducer::Sum), Some(12.0));
        assert_eq!(r(Reducer::Count), Some(4.0));
        assert_eq!(r(Reducer::Median), Some(2.5));
        // A null or NaN point makes the result NaN; last returns what the last point is.
        let holes = pts(&[Some(1.0), None, Some(f64::NAN), Some(4.0)]);
        assert!(reduce(Reducer::Sum, ReduceMode::Strict, &holes)
            .unwrap()
            .is_nan());
        assert!(reduce(Reducer::Max, ReduceMode::Strict, &holes)
            .unwrap()
            .is_nan());
        assert_eq!(reduce(Reducer::Last, ReduceMode::Strict, &holes), Some(4.0));
        assert_eq!(
            reduce(Reducer::Last, ReduceMode::Strict, &pts(&[Some(1.0), None])),
            None
        );
        assert_eq!(
            reduce(Reducer::Count, ReduceMode::Strict, &holes),
            Some(4.0)
        );
        // Empty series.
        assert_eq!(reduce(Reducer::Sum, ReduceMode::Strict, &[]), Some(0.0));
        assert!(reduce(Reducer::Mean, ReduceMode::Strict, &[])
            .unwrap()
            .is_nan());
        assert!(reduce(Reducer::Last, ReduceMode::Strict, &[])
            .unwrap()
            .is_nan());
        assert_eq!(reduce(Reducer::Count, ReduceMode::Strict, &[]), Some(0.0));
    }

    #[test]
    fn drop_and_replace_modes() {
        let holes = pts(&[
            Some(1.0),
            None,
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(4.0),
        ]);
        assert_eq!(
            reduce(Reducer::Sum, ReduceMode::DropNonNumbers, &holes),
            Some(5.0)
        );
        assert_eq!(
            reduce(Reducer::Count, ReduceMode::DropNonNumbers, &holes),
            Some(2.0)
        );
        assert_eq!(reduce(Reducer::Mean, ReduceMode::DropNonNumbers, &[]), None);
        assert_eq!(
            reduce(
                Reducer::Last,
                ReduceMode::DropNonNumbers,
                &pts(&[Some(2.0), None])
            ),
            Some(2.0)
        );
        assert_eq!(
            reduce(Reducer::Sum, ReduceMode::ReplaceNonNumbers(10.0), &holes),
            Some(35.0)
        );
        assert_eq!(
            reduce(Reducer::Mean, ReduceMode::ReplaceNonNumbers(-1.0), &[]),
            Some(-1.0)
        );
        assert_eq!(
            reduce(
                Reducer::Last,
                ReduceMode::ReplaceNonNumbers(0.0),
                &pts(&[Some(2.0), None])
            ),
            Some(0.0)
        );
    }

    #[test]
    fn evaluators() {
        assert!(Evaluator::Gt(5.0).test(6.0) && !Evaluator::Gt(5.0).test(5.0));
        assert!(Evaluator::Lt(5.0).test(4.0) && !Evaluator::Lt(5.0).test(5.0));
        assert!(Evaluator::Gte(5.0).test(5.0) && Evaluator::Lte(5.0).test(5.0));
        assert!(Evaluator::Eq(5.0).test(5.0) && Evaluator::Ne(5.0).test(4.0));
        assert!(Evaluator::WithinRange(1.0, 3.0).test(2.0));
        assert!(!Evaluator::WithinRange(1.0, 3.0).test(3.0));
        assert!(Evaluator::WithinRangeIncluded(1.0, 3.0).test(3.0));
        assert!(Evaluator::OutsideRange(1.0, 3.0).test(4.0));
        assert!(!Evaluator::OutsideRange(1.0, 3.0).test(3.0));
        assert!(Evaluator::OutsideRangeIncluded(1.0, 3.0).test(3.0));
        let e = Evaluator::from_json(&json!({"type": "within_range", "params": [1, 2]})).unwrap();
        assert_eq!(e, Evaluator::WithinRange(1.0, 2.0));
        for (bad, expect) in [
            (json!({"type": "gt", "params": []}), "needs 1 parameter"),
            (
                json!({"type": "within_range", "params": [1]}),
                "needs 2 parameters",
            ),
            (
                json!({"type": "bigger", "params": [1]}),
                "unknown evaluator type \"bigger\"",
            ),
            (json!({"params": [1]}), "no type"),
            (json!({"type": "gt", "params": ["x"]}), "not a number"),
        ] {
            let err = Evaluator::from_json(&bad).unwrap_err();
            assert!(err.contains(expect), "{bad}: {err}");
        }
    }

    #[test]
    fn models_are_read_and_checked() {
        let reduce = Expression::from_model(&json!({
            "type": "reduce", "expression": "A", "reducer": "mean",
            "settings": {"mode": "replaceNN", "replaceWithValue": 0}
        }))
        .unwrap();
        assert_eq!(
            reduce,
            Expression::Reduce {
                input: "A".into(),
                reducer: Reducer::Mean,
                mode: ReduceMode::ReplaceNonNumbers(0.0)
            }
        );
        assert_eq!(reduce.dependencies(), vec!["A".to_string()]);
        let math =
            Expression::from_model(&json!({"type": "math", "expression": "$A * 2 > $B"})).unwrap();
        assert_eq!(math.dependencies(), vec!["A".to_string(), "B".to_string()]);
        let threshold = Expression::from_model(&json!({
            "type": "threshold", "expression": "$B",
            "conditions": [{"evaluator": {"type": "lt", "params": [3]}, "unloadEvaluator": null}]
        }))
        .unwrap();
        assert_eq!(threshold.dependencies(), vec!["B".to_string()]);

        let cases = [
            (
                json!({"type": "pivot"}),
                ModelError::UnknownType("pivot".into()),
            ),
            (
                json!({"type": "resample", "expression": "A"}),
                ModelError::Unsupported("resample expressions are not supported yet".into()),
            ),
            (
                json!({"expression": "A"}),
                ModelError::Invalid("the expression has no type".into()),
            ),
        ];
        for (model, expected) in cases {
            assert_eq!(Expression::from_model(&model).unwrap_err(), expected);
        }
        for (model, expect) in [
            (
                json!({"type": "reduce", "expression": "A", "reducer": "p99"}),
                "unknown reducer \"p99\"",
            ),
            (
                json!({"type": "reduce", "reducer": "last"}),
                "expression is missing",
            ),
            (
                json!({"type": "reduce", "expression": "A", "reducer": "last", "settings": {"mode": "replaceNN"}}),
                "replaceWithValue",
            ),
            (
                json!({"type": "reduce", "expression": "A", "reducer": "last", "settings": {"mode": "zero"}}),
                "unknown reduce mode",
            ),
            (json!({"type": "math", "expression": "$A +"}), "end"),
            (
                json!({"type": "threshold", "expression": "A", "conditions": []}),
                "exactly one condition",
            ),
            (
                json!({"type": "threshold", "expression": "A", "conditions": [{"evaluator": {"type": "gt", "params": [1]}, "unloadEvaluator": {"type": "lt", "params": [1]}}]}),
                "recovery thresholds",
            ),
        ] {
            let err = match Expression::from_model(&model).unwrap_err() {
                ModelError::Invalid(e)
                | ModelError::Unsupported(e)
                | ModelError::UnknownType(e) => e,
            };
            assert!(err.contains(expect), "{model}: {err}");
        }
    }

    #[test]
    fn reduce_then_threshold_per_series() {
        let a = Data::series(vec![
            Series {
                labels: labels(&[("host", "a")]),
                points: pts(&[Some(1.0), Some(9.0)]),
            },
            Series {
                labels: labels(&[("host", "b")]),
                points: pts(&[Some(1.0), Some(2.0)]),
            },
            Series {
                labels: labels(&[("host", "c")]),
                points: pts(&[Some(1.0), None]),
            },
        ]);
        let reduce = Expression::Reduce {
            input: "A".into(),
            reducer: Reducer::Last,
            mode: ReduceMode::Strict,
        };
        let vars = BTreeMap::from([("A".to_string(), a)]);
        let b = reduce.execute(&|n| vars.get(n).cloned()).unwrap();
        assert_eq!(
            b,
            Data::numbers(vec![
                Number {
                    labels: labels(&[("host", "a")]),
                    value: Some(9.0)
                },
                Number {
                    labels: labels(&[("host", "b")]),
                    value: Some(2.0)
                },
                Number {
                    labels: labels(&[("host", "c")]),
                    value: None
                },
            ])
        );
        let threshold = Expression::Threshold {
            input: "B".into(),
            evaluator: Evaluator::Gt(5.0),
        };
        let c = threshold
            .execute(&|n| (n == "B").then(|| b.clone()))
            .unwrap();
        assert_eq!(
            c,
            Data::numbers(vec![
                Number {
                    labels: labels(&[("host", "a")]),
                    value: Some(1.0)
                },
                Number {
                    labels: labels(&[("host", "b")]),
                    value: Some(0.0)
                },
                Number {
                    labels: labels(&[("host", "c")]),
                    value: None
                },
            ])
        );
        assert_eq!(
            threshold.execute(&|_| Some(Data::NoData)).unwrap(),
            Data::NoData
        );
        assert!(threshold
            .execute(&|_| None)
            .unwrap_err()
            .contains("no result for B"));
    }
}
