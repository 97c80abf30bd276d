//! Frame encoding throughput: 100 series × 10,000 points encoded as `/api/ds/query` sends them;
//! and decoding plus encoding of a 10 × 1,000 Prometheus answer (the CPU of one such query).
//! Prints numbers; run with `cargo bench -p pharos-datasource --bench frames`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use pharos_datasource::{Field, FieldValues, Frame};

const SERIES: usize = 100;
const POINTS: usize = 10_000;

fn frames() -> Vec<Frame> {
    (0..SERIES)
        .map(|s| {
            let times = (0..POINTS as i64)
                .map(|i| 1_700_000_000_000 + i * 15_000)
                .collect();
            let values = (0..POINTS)
                .map(|i| Some((s * POINTS + i) as f64 * 0.731 + 0.123))
                .collect();
            Frame::new(vec![
                Field::new("Time", FieldValues::Time(times)),
                Field::new("Value", FieldValues::Number(values))
                    .with_labels([("instance".to_string(), format!("host-{s}:9100"))].into()),
            ])
        })
        .collect()
}

/// Runs `f` repeatedly for about `budget`, returning the median of the runs.
fn median_time(budget: Duration, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let started = Instant::now();
    let mut bytes = 0;
    while started.elapsed() < budget || times.len() < 5 {
        let t = Instant::now();
        bytes = black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], bytes)
}

fn main() {
    decode_and_encode();
    let frames = frames();
    let points = (SERIES * POINTS) as f64;
    let (t, bytes) = median_time(Duration::from_secs(3), || {
        let encoded: Vec<_> = frames.iter().map(|f| f.encode("A")).collect();
        serde_json::to_vec(&encoded).unwrap().len()
    });
    println!(
        "encode {SERIES} series x {POINTS} points: median {:.1} ms, {:.1} M points/s, {:.0} MB/s of JSON ({:.1} MB)",
        t.as_secs_f64() * 1e3,
        points / t.as_secs_f64() / 1e6,
        bytes as f64 / t.as_secs_f64() / 1e6,
        bytes as f64 / 1e6
    );
}

/// A Prometheus `query_range` answer of `series` × `points`, as Prometheus writes it.
fn prometheus_answer(series: usize, points: usize) -> Vec<u8> {
    let mut out = String::from(r#"{"status":"success","data":{"resultType":"matrix","result":["#);
    for s in 0..series {
        if s > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"metric":{{"__name__":"x","series":"{s}"}},"values":["#
        ));
        for i in 0..points {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!(
                "[{},\"{}\"]",
                1_700_000_000 + i,
                1_700_000_000.0 + i as f64 * 0.25
            ));
        }
        out.push_str("]}");
    }
    out.push_str("]}}");
    out.into_bytes()
}

/// Decoding a 10 × 1,000 Prometheus answer into frames and encoding them: the CPU Pharos adds to
/// one `/api/ds/query` of that size.
fn decode_and_encode() {
    let body = prometheus_answer(10, 1000);
    let plan = pharos_datasource::prometheus::PromPlan {
        expr: "x".into(),
        start_ms: 0,
        end_ms: 999_000,
        step_ms: 1000,
        range: true,
        instant: false,
        legend: None,
        table: false,
        post: true,
    };
    let (t, _) = median_time(Duration::from_secs(2), || {
        pharos_datasource::prometheus::to_frames(&body, &plan)
            .unwrap()
            .len()
    });
    println!(
        "decode a Prometheus answer of 10 series x 1000 points ({} KB): median {:.3} ms",
        body.len() / 1024,
        t.as_secs_f64() * 1e3
    );
    let frames = pharos_datasource::prometheus::to_frames(&body, &plan).unwrap();
    let (t, bytes) = median_time(Duration::from_secs(2), || {
        let encoded: Vec<_> = frames.iter().map(|f| f.encode("A")).collect();
        serde_json::to_vec(&encoded).unwrap().len()
    });
    println!(
        "encode those frames ({} KB): median {:.3} ms",
        bytes / 1024,
        t.as_secs_f64() * 1e3
    );
}
