//! Peers and helpers for alerting tests and benchmarks: an exporter whose series the test sets
//! (scraped by a real Prometheus), a webhook receiver that keeps every body it is sent, a builder
//! of Grafana's threshold-rule model, and the API calls that point an org's notifications at a
//! webhook with timings short enough for a test.
//!
//! The two HTTP peers are a few lines of HTTP/1.1 over tokio (one request per connection,
//! `Connection: close`): enough for Prometheus' scraper and Pharos' webhook notifier, and no web
//! framework in the testkit's dependencies.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::prometheus::{Prometheus, Target};
use crate::{Client, Pharos};

/// One HTTP request as the peers below see it.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// Reads one request (head and a `Content-Length` body) from `stream`; `None` on a malformed or
/// cut-off one.
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buffer.len() > 1 << 20 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(Request { method, path, body })
}

/// Serves `handle` on a free loopback port, one task per connection; returns `host:port`.
async fn serve<H>(handle: H) -> String
where
    H: Fn(Request) -> (u16, String, String) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("local address").to_string();
    let handle = Arc::new(handle);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let handle = handle.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut stream).await else {
                    return;
                };
                let (status, content_type, body) = handle(request);
                let response = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    if status < 400 { "OK" } else { "Error" },
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    address
}

/// An exporter of one gauge whose series and values the test sets: `GET /metrics`.
pub struct Exporter {
    /// `127.0.0.1:port`, as a Prometheus target.
    pub address: String,
    /// The series' label sets (Prometheus text, such as `host="web-1"`) and their values.
    series: Arc<Mutex<BTreeMap<String, f64>>>,
}

impl Exporter {
    /// Starts exporting `metric` with no series yet.
    pub async fn start(metric: &str) -> Exporter {
        let series = Arc::new(Mutex::new(BTreeMap::<String, f64>::new()));
        let exported = series.clone();
        let metric = metric.to_string();
        let address = serve(move |request| {
            if request.method != "GET" || !request.path.starts_with("/metrics") {
                return (404, "text/plain".into(), "not found\n".into());
            }
            let mut text = format!("# TYPE {metric} gauge\n");
            for (labels, value) in exported.lock().unwrap().iter() {
                text.push_str(&format!("{metric}{{{labels}}} {value}\n"));
            }
            (200, "text/plain; version=0.0.4".into(), text)
        })
        .await;
        Exporter { address, series }
    }

    /// A Prometheus scraping this exporter every second (started once the exporter has been
    /// scraped).
    pub async fn scraped(&self) -> Prometheus {
        Prometheus::start(
            &[Target {
                job: "exporter".into(),
                addresses: vec![self.address.clone()],
            }],
            Duration::from_secs(1),
        )
        .await
    }

    /// Sets (or adds) the series with `labels` (Prometheus text: `host="web-1"`) to `value`.
    pub fn set(&self, labels: &str, value: f64) {
        self.series
            .lock()
            .unwrap()
            .insert(labels.to_string(), value);
    }
}

/// A webhook receiver that keeps every JSON body posted to `/hook`, in arrival order.
pub struct WebhookReceiver {
    /// The URL to configure a webhook contact point with.
    pub url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let sink = bodies.clone();
        let address = serve(move |request| {
            if request.method != "POST" || request.path != "/hook" {
                return (404, "text/plain".into(), "not found\n".into());
            }
            match serde_json::from_slice::<Value>(&request.body) {
                Ok(body) => {
                    sink.lock().unwrap().push(body);
                    (200, "text/plain".into(), "ok".into())
                }
                Err(e) => (400, "text/plain".into(), format!("not JSON: {e}")),
            }
        })
        .await;
        WebhookReceiver {
            url: format!("http://{address}/hook"),
            bodies,
        }
    }

    /// Every body received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }
}

/// Polls `check` every 250 ms until it holds; panics naming `what` when `within` has passed.
pub async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A Grafana alert rule's model (the provisioning API's `data` and the fields around it) that
/// fires while the last value of `expr` (on datasource `prom`, over the last minute) is above
/// `threshold` for `pending` (such as `"10s"`), with `labels` and `annotations` (JSON objects).
pub fn threshold_rule(
    title: &str,
    expr: &str,
    threshold: f64,
    pending: &str,
    labels: Value,
    annotations: Value,
) -> Value {
    json!({
        "title": title,
        "condition": "C",
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": 60, "to": 0}, "datasourceUid": "prom",
             "model": {"expr": expr, "refId": "A", "intervalMs": 1000, "maxDataPoints": 43200}},
            {"refId": "B", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "last", "refId": "B"}},
            {"refId": "C", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"type": "threshold", "expression": "B", "refId": "C",
                       "conditions": [{"evaluator": {"type": "gt", "params": [threshold]}}]}}
        ],
        "noDataState": "NoData",
        "execErrState": "Error",
        "for": pending,
        "labels": labels,
        "annotations": annotations,
    })
}

/// Creates the Prometheus datasource `prom` at `prometheus_url` and the folder `infra`
/// ("Infrastructure") through the API: what the alerting tests' rules live in and query.
pub async fn prometheus_datasource_and_folder(admin: &Client, prometheus_url: &str) {
    let (s, body) = admin
        .post(
            "/api/datasources",
            json!({"name": "Prometheus", "type": "prometheus", "uid": "prom",
                   "url": prometheus_url, "access": "proxy"}),
        )
        .await;
    assert!(s.is_success(), "creating the Prometheus datasource: {body}");
    let (s, body) = admin
        .post(
            "/api/folders",
            json!({"uid": "infra", "title": "Infrastructure"}),
        )
        .await;
    assert!(s.is_success(), "creating the folder: {body}");
}

/// Points org 1's notifications at contact point `receiver` through the provisioning API: one
/// integration per `(type, settings)` in `integrations`, and the [`fast_policy`] to it.
pub async fn notify_through(admin: &Client, receiver: &str, integrations: &[(&str, Value)]) {
    for (kind, settings) in integrations {
        let (s, body) = admin
            .post(
                "/api/v1/provisioning/contact-points",
                json!({"name": receiver, "type": kind, "settings": settings}),
            )
            .await;
        assert!(s.is_success(), "creating a {kind} contact point: {body}");
    }
    let (s, body) = admin
        .put("/api/v1/provisioning/policies", fast_policy(receiver))
        .await;
    assert!(s.is_success(), "saving the notification policy: {body}");
}

/// The notification policy the tests use: everything to `receiver`, one group per alert rule
/// (`alertname`), sent at once (`group_wait` 0 s), changes flushed every second, no repeats
/// within a test (4 h).
pub fn fast_policy(receiver: &str) -> Value {
    json!({
        "receiver": receiver,
        "group_by": ["alertname"],
        "group_wait": "0s",
        "group_interval": "1s",
        "repeat_interval": "4h",
    })
}

/// The id of the cluster member answering at `px`, and the member holding lease `lease` as `px`
/// sees it (`None` while nobody holds it).
pub async fn member_and_lease_holder(px: &Pharos, lease: &str) -> (String, Option<String>) {
    let (s, status) = px.admin().get("/api/cluster").await;
    assert!(s.is_success(), "GET /api/cluster: {status}");
    let me = status["members"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["self"] == true)
        .and_then(|m| m["id"].as_str())
        .unwrap_or_else(|| panic!("no member marked self in {status}"))
        .to_string();
    let holder = status["leases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["name"] == lease && l["held"] == true)
        .and_then(|l| l["holder"].as_str())
        .filter(|h| !h.is_empty())
        .map(str::to_string);
    (me, holder)
}

/// Reads one sample of Pharos' `/metrics` text: the value on the line starting with `series`
/// (name and labels as printed, such as `pharos_alerting_evaluations_total`).
pub async fn metric(px: &Pharos, series: &str) -> Option<f64> {
    let (_, text) = px.anonymous().get("/metrics").await;
    let text = text.as_str().unwrap_or_default();
    text.lines()
        .find(|l| {
            l.strip_prefix(series)
                .is_some_and(|rest| rest.starts_with(' '))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
