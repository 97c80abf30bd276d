//! Frame encoding throughput: 100 series × 10,000 points encoded as `/api/ds/query` sends them,
//! and Prometheus answer parsing for the same volume. Prints numbers; run with
//! `cargo bench -p pharos-datasource --bench frames`.

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
