//! `classic_conditions`: Grafana's legacy-alerting condition list ("WHEN avg() OF A IS ABOVE 3
//! AND ..."). Each condition reduces every series of its query (nulls skipped, as legacy alerting
//! did) and fires when any series passes its evaluator; conditions combine left to right with
//! their `and`/`or` operator. The result is one number without labels: 1 firing, 0 not, or no
//! data when the combined conditions found none.

use serde_json::Value;

use super::data::{Data, Item, Number};

#[derive(Debug, Clone, PartialEq)]
pub struct ClassicConditions {
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub query: String,
    pub reducer: ClassicReducer,
    pub evaluator: ClassicEvaluator,
    /// `or` when true, else `and` (ignored on the first condition).
    pub or: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassicReducer {
    Avg,
    Min,
    Max,
    Sum,
    Count,
    Last,
    Median,
    Diff,
    DiffAbs,
    PercentDiff,
    PercentDiffAbs,
    CountNonNull,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClassicEvaluator {
    Gt(f64),
    Lt(f64),
    /// Between the two parameters, in either order, bounds excluded.
    WithinRange(f64, f64),
    OutsideRange(f64, f64),
    NoValue,
}

impl ClassicEvaluator {
    fn test(self, v: Option<f64>) -> bool {
        let Some(v) = v else {
            return self == ClassicEvaluator::NoValue;
        };
        match self {
            ClassicEvaluator::Gt(p) => v > p,
            ClassicEvaluator::Lt(p) => v < p,
            ClassicEvaluator::WithinRange(a, b) => v > a.min(b) && v < a.max(b),
            ClassicEvaluator::OutsideRange(a, b) => v < a.min(b) || v > a.max(b),
            ClassicEvaluator::NoValue => false,
        }
    }
}

fn params(value: Option<&Value>) -> Result<Vec<f64>, String> {
    match value.and_then(|e| e.get("params")) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|p| {
                p.as_f64()
                    .ok_or_else(|| format!("evaluator parameter {p} is not a number"))
            })
            .collect(),
        Some(other) => Err(format!("evaluator params must be a list, not {other}")),
    }
}

impl ClassicConditions {
    pub fn from_model(model: &Value) -> Result<ClassicConditions, String> {
        let list = model
            .get("conditions")
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
            .ok_or("classic_conditions needs at least one condition")?;
        let mut conditions = Vec::new();
        for (i, c) in list.iter().enumerate() {
            let n = i + 1;
            let query = c
                .pointer("/query/params/0")
                .and_then(Value::as_str)
                .filter(|q| !q.is_empty())
                .ok_or_else(|| format!("condition {n} names no query (query.params[0])"))?
                .to_string();
            let reducer_name = c
                .pointer("/reducer/type")
                .and_then(Value::as_str)
                .unwrap_or("avg");
            let reducer = match reducer_name {
                "avg" => ClassicReducer::Avg,
                "min" => ClassicReducer::Min,
                "max" => ClassicReducer::Max,
                "sum" => ClassicReducer::Sum,
                "count" => ClassicReducer::Count,
                "last" => ClassicReducer::Last,
                "median" => ClassicReducer::Median,
                "diff" => ClassicReducer::Diff,
                "diff_abs" => ClassicReducer::DiffAbs,
                "percent_diff" => ClassicReducer::PercentDiff,
                "percent_diff_abs" => ClassicReducer::PercentDiffAbs,
                "count_non_null" => ClassicReducer::CountNonNull,
                other => return Err(format!("condition {n}: unknown reducer {other:?}")),
            };
            let evaluator_json = c.get("evaluator");
            let kind = evaluator_json
                .and_then(|e| e.get("type"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("condition {n} has no evaluator type"))?;
            let p = params(evaluator_json).map_err(|e| format!("condition {n}: {e}"))?;
            let need = |count: usize| -> Result<(), String> {
                if p.len() < count {
                    Err(format!(
                        "condition {n}: evaluator {kind} needs {count} parameter(s)"
                    ))
                } else {
                    Ok(())
                }
            };
            let evaluator = match kind {
                "gt" => need(1).map(|_| ClassicEvaluator::Gt(p[0]))?,
                "lt" => need(1).map(|_| ClassicEvaluator::Lt(p[0]))?,
                "within_range" => need(2).map(|_| ClassicEvaluator::WithinRange(p[0], p[1]))?,
                "outside_range" => need(2).map(|_| ClassicEvaluator::OutsideRange(p[0], p[1]))?,
                "no_value" => ClassicEvaluator::NoValue,
                other => return Err(format!("condition {n}: unknown evaluator type {other:?}")),
            };
            let or = match c.pointer("/operator/type").and_then(Value::as_str) {
                None | Some("and") => false,
                Some("or") => true,
                Some(other) => return Err(format!("condition {n}: unknown operator {other:?}")),
            };
            conditions.push(Condition {
                query,
                reducer,
                evaluator,
                or,
            });
        }
        Ok(ClassicConditions { conditions })
    }

    pub fn dependencies(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.conditions {
            if !out.contains(&c.query) {
                out.push(c.query.clone());
            }
        }
        out
    }

    pub fn execute(&self, vars: &dyn Fn(&str) -> Option<Data>) -> Result<Data, String> {
        let mut firing = false;
        let mut no_data = false;
        for (i, c) in self.conditions.iter().enumerate() {
            let data = vars(&c.query).ok_or_else(|| format!("no result for {}", c.query))?;
            let mut cond_firing = false;
            let cond_no_data = data.items().is_empty();
            for item in data.items() {
                let reduced = match item {
                    Item::Series(s) => {
                        let values: Vec<Option<f64>> = s.points.iter().map(|(_, v)| *v).collect();
                        classic_reduce(c.reducer, &values)
                    }
                    Item::Number(n) => n.value,
                    Item::Scalar(v) => *v,
                };
                if c.evaluator.test(reduced) {
                    cond_firing = true;
                }
            }
            if i == 0 {
                firing = cond_firing;
                no_data = cond_no_data;
            } else if c.or {
                firing = firing || cond_firing;
                no_data = no_data || cond_no_data;
            } else {
                firing = firing && cond_firing;
                no_data = no_data && cond_no_data;
            }
        }
        if no_data && !firing {
            return Ok(Data::NoData);
        }
        Ok(Data::numbers(vec![Number {
            labels: Default::default(),
            value: Some(if firing { 1.0 } else { 0.0 }),
        }]))
    }
}

/// Legacy reducers: null points are skipped; a reducer with nothing to work on gives null.
pub fn classic_reduce(reducer: ClassicReducer, values: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    match reducer {
        ClassicReducer::Count => return Some(values.len() as f64),
        ClassicReducer::CountNonNull => return Some(present.len() as f64),
        _ => {}
    }
    let first = *present.first()?;
    let last = *present.last()?;
    Some(match reducer {
        ClassicReducer::Avg => present.iter().sum::<f64>() / present.len() as f64,
        ClassicReducer::Sum => present.iter().sum(),
        ClassicReducer::Min => present.iter().copied().fold(f64::INFINITY, f64::min),
        ClassicReducer::Max => present.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ClassicReducer::Last => last,
        ClassicReducer::Median => {
            let mut sorted = present.clone();
            sorted.sort_by(f64::total_cmp);
            let mid = sorted.len() / 2;
            if sorted.len() % 2 == 0 {
                (sorted[mid - 1] + sorted[mid]) / 2.0
            } else {
                sorted[mid]
            }
        }
        ClassicReducer::Diff => last - first,
        ClassicReducer::DiffAbs => (last - first).abs(),
        ClassicReducer::PercentDiff => (last - first) / first.abs() * 100.0,
        ClassicReducer::PercentDiffAbs => ((last - first) / first * 100.0).abs(),
        ClassicReducer::Count | ClassicReducer::CountNonNull => unreachable!("handled above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::data::Series;
    use crate::labels::labels;
    use serde_json::json;

    fn cond(query: &str, reducer: &str, evaluator: &str, params: &[f64], op: &str) -> Value {
        json!({
            "type": "query", "query": {"params": [query]}, "reducer": {"type": reducer, "params": []},
            "evaluator": {"type": evaluator, "params": params}, "operator": {"type": op}
        })
    }

    fn series(points: &[Option<f64>]) -> Series {
        Series {
            labels: labels(&[("host", "a")]),
            points: points
                .iter()
                .enumerate()
                .map(|(i, v)| (i as i64, *v))
                .collect(),
        }
    }

    fn run(model: Value, a: Data, b: Data) -> Data {
        let cc = ClassicConditions::from_model(&model).unwrap();
        cc.execute(&|name| match name {
            "A" => Some(a.clone()),
            "B" => Some(b.clone()),
            _ => None,
        })
        .unwrap()
    }

    fn one(v: f64) -> Data {
        Data::numbers(vec![Number {
            labels: Default::default(),
            value: Some(v),
        }])
    }

    #[test]
    fn reducers_skip_nulls() {
        let v = [Some(2.0), None, Some(4.0), Some(9.0)];
        assert_eq!(classic_reduce(ClassicReducer::Avg, &v), Some(5.0));
        assert_eq!(classic_reduce(ClassicReducer::Count, &v), Some(4.0));
        assert_eq!(classic_reduce(ClassicReducer::CountNonNull, &v), Some(3.0));
        assert_eq!(
            classic_reduce(ClassicReducer::Last, &[Some(1.0), None]),
            Some(1.0)
        );
        assert_eq!(classic_reduce(ClassicReducer::Diff, &v), Some(7.0));
        assert_eq!(classic_reduce(ClassicReducer::PercentDiff, &v), Some(350.0));
        assert_eq!(classic_reduce(ClassicReducer::Median, &v), Some(4.0));
        assert_eq!(classic_reduce(ClassicReducer::Min, &v), Some(2.0));
        assert_eq!(classic_reduce(ClassicReducer::Max, &v), Some(9.0));
        assert_eq!(classic_reduce(ClassicReducer::Avg, &[None, None]), None);
    }

    #[test]
    fn any_series_fires_a_condition_and_operators_combine() {
        let a = Data::series(vec![series(&[Some(1.0)]), series(&[Some(10.0)])]);
        let b = Data::series(vec![series(&[Some(1.0)])]);
        let model = |op: &str| {
            json!({"type": "classic_conditions", "conditions": [
                cond("A", "avg", "gt", &[5.0], "and"),
                cond("B", "max", "gt", &[5.0], op)
            ]})
        };
        assert_eq!(run(model("and"), a.clone(), b.clone()), one(0.0));
        assert_eq!(run(model("or"), a, b), one(1.0));
    }

    #[test]
    fn no_data_and_no_value() {
        let model = json!({"type": "classic_conditions", "conditions": [cond("A", "avg", "gt", &[5.0], "and")]});
        assert_eq!(run(model, Data::NoData, Data::NoData), Data::NoData);
        let model = json!({"type": "classic_conditions", "conditions": [cond("A", "avg", "no_value", &[], "and")]});
        assert_eq!(
            run(model, Data::series(vec![series(&[None])]), Data::NoData),
            one(1.0)
        );
    }

    #[test]
    fn bad_models_are_explained() {
        for (model, expect) in [
            (
                json!({"type": "classic_conditions", "conditions": []}),
                "at least one condition",
            ),
            (
                json!({"conditions": [{"evaluator": {"type": "gt", "params": [1]}}]}),
                "names no query",
            ),
            (
                json!({"conditions": [cond("A", "p95", "gt", &[1.0], "and")]}),
                "unknown reducer",
            ),
            (
                json!({"conditions": [cond("A", "avg", "above", &[1.0], "and")]}),
                "unknown evaluator",
            ),
            (
                json!({"conditions": [cond("A", "avg", "within_range", &[1.0], "and")]}),
                "needs 2",
            ),
            (
                json!({"conditions": [cond("A", "avg", "gt", &[1.0], "xor")]}),
                "unknown operator",
            ),
        ] {
            let err = ClassicConditions::from_model(&model).unwrap_err();
            assert!(err.contains(expect), "{model}: {err}");
        }
    }
}
