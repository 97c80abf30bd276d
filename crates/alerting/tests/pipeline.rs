//! The whole pure pipeline on a rule as Grafana exports it: JSON → compile → evaluate over
//! query results → state step, tick by tick, with the texts a notification would carry.

use std::collections::BTreeMap;

use pharos_alerting::eval::QueryResult;
use pharos_alerting::expr::{Data, Series};
use pharos_alerting::state::State;
use pharos_alerting::{apply_evaluation, compile_rule, evaluate, AlertRule, InstanceState, Labels};
use serde_json::json;

const MIN: i64 = 60_000;
const T0: i64 = 1_764_000_000_000;

fn rule() -> AlertRule {
    serde_json::from_value(json!({
        "uid": "disk-full",
        "orgID": 1,
        "folderUID": "infra",
        "ruleGroup": "storage",
        "title": "Disk almost full",
        "condition": "C",
        "data": [
            {"refId": "A", "queryType": "", "relativeTimeRange": {"from": 600, "to": 0},
             "datasourceUid": "prom",
             "model": {"expr": "disk_used_ratio", "refId": "A", "intervalMs": 1000, "maxDataPoints": 43200}},
            {"refId": "B", "queryType": "", "relativeTimeRange": {"from": 0, "to": 0},
             "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "mean", "settings": {"mode": "dropNN"}, "refId": "B"}},
            {"refId": "C", "queryType": "", "relativeTimeRange": {"from": 0, "to": 0},
             "datasourceUid": "__expr__",
             "model": {"type": "math", "expression": "$B > 0.9 && $B <= 1", "refId": "C"}}
        ],
        "noDataState": "NoData",
        "execErrState": "Error",
        "for": "1m",
        "labels": {"severity": "{{ if eq $labels.device \"sda\" }}page{{ else }}ticket{{ end }}"},
        "annotations": {
            "summary": "{{ $labels.device }} on {{ $labels.host }} is {{ humanizePercentage $values.B.Value }} full",
            "description": "{{ $value }}"
        },
        "isPaused": false
    }))
    .unwrap()
}

fn disk(host: &str, device: &str, ratios: &[Option<f64>]) -> Series {
    let labels: Labels = [("host", host), ("device", device)]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Series {
        labels,
        points: ratios
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 15_000, *v))
            .collect(),
    }
}

fn tick(series: Vec<Series>) -> BTreeMap<String, QueryResult> {
    BTreeMap::from([("A".to_string(), Ok(Data::series(series)))])
}

#[test]
fn grafana_rule_fires_once_per_disk_and_resolves() {
    let compiled = compile_rule(&rule()).unwrap();
    let full = |host| disk(host, "sda", &[Some(0.97), None, Some(0.97)]);
    let fine = |host| disk(host, "sda", &[Some(0.5), Some(0.5)]);
    let ticks = [
        tick(vec![full("web-1"), fine("web-2")]),
        tick(vec![full("web-1"), fine("web-2")]),
        tick(vec![full("web-1"), fine("web-2")]),
        tick(vec![fine("web-1"), fine("web-2")]),
    ];
    let mut states: Vec<InstanceState> = Vec::new();
    let mut transitions = Vec::new();
    for (i, queries) in ticks.iter().enumerate() {
        let outcome = evaluate(&compiled, queries);
        let step = apply_evaluation(
            &compiled,
            "Infrastructure",
            &states,
            &outcome,
            T0 + i as i64 * MIN,
        );
        transitions.extend(step.transitions);
        states = step.states;
    }
    let moves: Vec<(i64, State, State)> = transitions
        .iter()
        .map(|t| ((t.at - T0) / MIN, t.from, t.to))
        .collect();
    assert_eq!(
        moves,
        vec![
            (0, State::Normal, State::Pending),
            (1, State::Pending, State::Alerting),
            (3, State::Alerting, State::Normal)
        ]
    );
    let firing = &transitions[1];
    assert_eq!(firing.labels["alertname"], "Disk almost full");
    assert_eq!(firing.labels["grafana_folder"], "Infrastructure");
    assert_eq!(firing.labels["host"], "web-1");
    assert_eq!(firing.labels["severity"], "page");
    assert_eq!(firing.annotations["summary"], "sda on web-1 is 97% full");
    assert_eq!(
        firing.annotations["description"],
        "[ var='B' labels={device=sda, host=web-1} value=0.97 ], [ var='C' labels={device=sda, host=web-1} value=1 ]"
    );
    assert_eq!(firing.values["B"], Some(0.97));
    assert_eq!(states.len(), 2, "web-1 and web-2, both Normal now");
    assert!(states.iter().all(|s| s.state == State::Normal));
}

#[test]
fn a_failing_query_and_an_empty_answer_reach_the_error_and_no_data_states() {
    let compiled = compile_rule(&rule()).unwrap();
    let failed = BTreeMap::from([("A".to_string(), Err("502 from Prometheus".to_string()))]);
    let mut states = Vec::new();
    let mut seen = Vec::new();
    for (i, queries) in [
        failed.clone(),
        failed,
        tick(vec![]),
        tick(vec![]),
        tick(vec![]),
    ]
    .iter()
    .enumerate()
    {
        let step = apply_evaluation(
            &compiled,
            "Infra",
            &states,
            &evaluate(&compiled, queries),
            T0 + i as i64 * MIN,
        );
        seen.extend(
            step.transitions
                .iter()
                .map(|t| (t.from, t.to, t.error.clone())),
        );
        states = step.states;
    }
    assert_eq!(
        seen,
        vec![
            (
                State::Normal,
                State::Pending,
                Some("query A failed: 502 from Prometheus".into())
            ),
            (
                State::Pending,
                State::Error,
                Some("query A failed: 502 from Prometheus".into())
            ),
            (State::Error, State::NoData, None),
        ]
    );
}

#[test]
fn a_label_that_depends_on_the_value_makes_a_new_instance_when_the_value_moves() {
    // As in Grafana: the labels are the instance's identity, so a templated label that reads
    // $values gives a recovered disk another identity; the old instance resolves as missing.
    let mut r = rule();
    r.labels.insert(
        "severity".into(),
        "{{ if gt $values.B.Value 0.95 }}page{{ else }}ticket{{ end }}".into(),
    );
    let compiled = compile_rule(&r).unwrap();
    let ticks = [
        tick(vec![disk("web-1", "sda", &[Some(0.97)])]),
        tick(vec![disk("web-1", "sda", &[Some(0.97)])]),
        tick(vec![disk("web-1", "sda", &[Some(0.5)])]),
        tick(vec![disk("web-1", "sda", &[Some(0.5)])]),
    ];
    let mut states: Vec<InstanceState> = Vec::new();
    let mut seen = Vec::new();
    for (i, queries) in ticks.iter().enumerate() {
        let outcome = evaluate(&compiled, queries);
        let step = apply_evaluation(&compiled, "Infra", &states, &outcome, T0 + i as i64 * MIN);
        seen.extend(step.transitions.iter().map(|t| {
            (
                (t.at - T0) / MIN,
                t.labels["severity"].clone(),
                t.to,
                t.to_reason,
            )
        }));
        states = step.states;
    }
    use pharos_alerting::state::Reason;
    assert_eq!(
        seen,
        vec![
            (0, "page".to_string(), State::Pending, None),
            (1, "page".to_string(), State::Alerting, None),
            (
                3,
                "page".to_string(),
                State::Normal,
                Some(Reason::MissingSeries)
            ),
        ]
    );
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].labels["severity"], "ticket");
}

#[test]
fn a_rule_over_many_series_evaluates_quickly() {
    // 2000 series: the per-instance work (joins, labels, $values, fingerprints, state) must stay
    // linear; comparing every pair of series took minutes here before the joins were indexed.
    let compiled = compile_rule(&rule()).unwrap();
    let many: Vec<Series> = (0..2000)
        .map(|i| {
            disk(
                &format!("host-{i}"),
                "sda",
                &[Some(if i % 2 == 0 { 0.97 } else { 0.5 })],
            )
        })
        .collect();
    let queries = tick(many);
    let started = std::time::Instant::now();
    let mut states = Vec::new();
    let mut fired = 0;
    for i in 0..3 {
        let outcome = evaluate(&compiled, &queries);
        let step = apply_evaluation(&compiled, "Infra", &states, &outcome, T0 + i * MIN);
        fired += step
            .transitions
            .iter()
            .filter(|t| t.to == State::Alerting)
            .count();
        states = step.states;
    }
    assert_eq!(states.len(), 2000);
    assert_eq!(fired, 1000);
    let took = started.elapsed();
    assert!(
        took.as_secs_f64() < 5.0,
        "three evaluations of 2000 series took {took:?}"
    );
}
