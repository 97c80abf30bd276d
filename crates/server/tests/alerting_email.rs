//! E-mail contact points over a real SMTP server: Debian's python3-aiosmtpd, run by this test with
//! AUTH required (the user and password of Pharos' `[smtp]` section, set through `PHAROS_SMTP_*`),
//! writing every message it accepts to a directory. The receiver test and a firing rule each
//! deliver a message with the expected sender, recipient, subject and body; the SMTP password
//! appears in no log line and no answer.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;

const SMTP_USER: &str = "pharos-mailer";
const SMTP_PASSWORD: &str = "smtp-s3cret-do-not-leak";

/// aiosmtpd's Controller with an authenticator for one user; each accepted message is written to
/// `<dir>/<n>.eml` with its envelope recipients on a first `X-Envelope-To:` line.
const SERVER: &str = r#"
import sys, os, time, itertools
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, out_dir, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
counter = itertools.count()

class Keep:
    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        path = os.path.join(out_dir, f"{n}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Envelope-To: " + ",".join(envelope.rcpt_tos) + "\r\n").encode())
            f.write(envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)

controller = Controller(Keep(), hostname="127.0.0.1", port=port, authenticator=authenticate,
                        auth_required=True, auth_require_tls=False)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"#;

struct SmtpServer {
    port: u16,
    dir: PathBuf,
    child: Child,
}

impl SmtpServer {
    async fn start() -> SmtpServer {
        let python = ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .args(["-c", "import aiosmtpd"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .expect(
                "python3 with aiosmtpd (Debian package python3-aiosmtpd; scripts/install-deps)",
            );
        let dir = scratch_dir("pharos-smtp");
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("server.py");
        std::fs::write(&script, SERVER).unwrap();
        let mail_dir = dir.join("mail");
        std::fs::create_dir_all(&mail_dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .arg(&script)
            .arg(port.to_string())
            .arg(&mail_dir)
            .arg(SMTP_USER)
            .arg(SMTP_PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        SmtpServer {
            port,
            dir: mail_dir,
            child,
        }
    }

    /// Every message received so far, in arrival order.
    fn messages(&self) -> Vec<String> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| {
                let path = e.ok()?.path();
                let n = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".eml")?
                    .parse()
                    .ok()?;
                Some((n, path))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    async fn wait_for(&self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(m) = self.messages().into_iter().find(|m| matches(m)) {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: no such message; got {:?}",
                self.messages()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A header's value (first occurrence, unfolded).
fn header(message: &str, name: &str) -> String {
    let prefix = format!("{}:", name.to_lowercase());
    let mut lines = message.split("\r\n").flat_map(|l| l.split('\n'));
    let mut value = String::new();
    let mut found = false;
    for line in lines.by_ref() {
        if found {
            if line.starts_with(' ') || line.starts_with('\t') {
                value.push_str(line.trim_start());
                continue;
            }
            break;
        }
        if line.is_empty() {
            break;
        }
        if line.to_lowercase().starts_with(&prefix) {
            value = line[prefix.len()..].trim().to_string();
            found = true;
        }
    }
    value
}

fn body(message: &str) -> String {
    let normalized = message.replace("\r\n", "\n");
    normalized
        .split_once("\n\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

async fn start(smtp: &SmtpServer, password: &str) -> Pharos {
    let host = format!("127.0.0.1:{}", smtp.port);
    Pharos::start_with(
        Database::fresh(Backend::Sqlite),
        Options::default()
            .env("PHAROS_SMTP_ENABLED", "true")
            .env("PHAROS_SMTP_HOST", &host)
            .env("PHAROS_SMTP_USER", SMTP_USER)
            .env("PHAROS_SMTP_PASSWORD", password)
            .env("PHAROS_SMTP_FROM_ADDRESS", "alerts@pharos.test")
            .env("PHAROS_SMTP_FROM_NAME", "Pharos Alerts")
            .env("PHAROS_SMTP_STARTTLS_POLICY", "NoStartTLS")
            .env("PHAROS_LOG_LEVEL", "debug"),
    )
    .await
}

fn assert_no_password(px: &Pharos, answers: &[&Value]) {
    for line in px.logs() {
        assert!(
            !line.contains(SMTP_PASSWORD),
            "the password is logged: {line}"
        );
    }
    for answer in answers {
        assert!(
            !answer.to_string().contains(SMTP_PASSWORD),
            "the password is answered: {answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_test_and_a_firing_rule_send_e_mail_through_smtp() {
    let smtp = SmtpServer::start().await;
    let px = start(&smtp, SMTP_PASSWORD).await;
    let admin = px.admin();

    // An e-mail contact point with its own subject template.
    let (s, cp) = admin
        .post(
            "/api/v1/provisioning/contact-points",
            json!({"name": "mail", "type": "email", "uid": "mail",
                   "settings": {"addresses": "oncall@example.com;lead@example.com",
                                "subject": "{{ .Status }}: {{ .GroupLabels.alertname }}"}}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{cp}");

    // The receiver test: one message per address, from the configured sender.
    let (s, answer) = admin
        .post(
            "/api/alertmanager/grafana/config/api/v1/receivers/test",
            json!({"receivers": [{"name": "mail", "grafana_managed_receiver_configs": [
                {"uid": "mail", "name": "mail", "type": "email",
                 "settings": {"addresses": "oncall@example.com;lead@example.com",
                              "subject": "{{ .Status }}: {{ .GroupLabels.alertname }}"}}]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["receivers"][0]["grafana_managed_receiver_configs"][0]["status"],
        "ok"
    );
    let test_mail = smtp
        .wait_for("the receiver test", |m| {
            header(m, "X-Envelope-To") == "oncall@example.com"
        })
        .await;
    assert_eq!(header(&test_mail, "Subject"), "firing: TestAlert");
    assert_eq!(header(&test_mail, "To"), "oncall@example.com");
    assert!(
        header(&test_mail, "From").contains("alerts@pharos.test")
            && header(&test_mail, "From").contains("Pharos Alerts"),
        "{test_mail}"
    );
    assert!(
        body(&test_mail).contains("Notification test"),
        "{test_mail}"
    );
    assert!(!header(&test_mail, "X-Pharos-Idempotency-Key").is_empty());
    smtp.wait_for("the second address", |m| {
        header(m, "X-Envelope-To") == "lead@example.com"
    })
    .await;

    // A rule that fires at once, routed to the contact point.
    let (s, b) = admin
        .post("/api/folders", json!({"uid": "infra", "title": "Infra"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = admin
        .post(
            "/api/datasources",
            json!({"name": "TD", "type": "grafana-testdata-datasource", "uid": "td"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/policies",
            json!({"receiver": "mail", "group_by": ["alertname"], "group_wait": "0s",
                   "group_interval": "1s", "repeat_interval": "4h"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let rule = json!({
        "uid": "disk", "title": "Disk full", "folderUID": "infra", "ruleGroup": "fast",
        "condition": "C", "for": "0s",
        "labels": {"severity": "page"},
        "annotations": {"summary": "disk at {{ $values.B.Value }}"},
        "data": [
            {"refId": "A", "datasourceUid": "td", "relativeTimeRange": {"from": 600, "to": 0},
             "model": {"scenarioId": "csv_metric_values", "stringInput": "95,95,95"}},
            {"refId": "B", "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "last"}},
            {"refId": "C", "datasourceUid": "__expr__",
             "model": {"type": "threshold", "expression": "B",
                       "conditions": [{"evaluator": {"type": "gt", "params": [90]}}]}}
        ]
    });
    let (s, b) = admin
        .put(
            "/api/v1/provisioning/folder/infra/rule-groups/fast",
            json!({"interval": 10, "rules": [rule]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let fired = smtp
        .wait_for("the rule's notification", |m| {
            header(m, "Subject") == "firing: Disk full"
                && header(m, "X-Envelope-To") == "oncall@example.com"
        })
        .await;
    let text = body(&fired);
    assert!(text.contains("disk at 95"), "{fired}");
    assert!(text.contains("severity"), "{fired}");

    assert_no_password(&px, &[&cp, &answer]);
    let (_, listed) = admin.get("/api/v1/provisioning/contact-points").await;
    assert_no_password(&px, &[&listed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_smtp_password_fails_the_send_without_showing_the_password() {
    let smtp = SmtpServer::start().await;
    let wrong = "wrong-password-also-secret";
    let px = start(&smtp, wrong).await;
    let (s, answer) = px
        .admin()
        .post(
            "/api/alertmanager/grafana/config/api/v1/receivers/test",
            json!({"receivers": [{"name": "mail", "grafana_managed_receiver_configs": [
                {"name": "mail", "type": "email",
                 "settings": {"addresses": "oncall@example.com"}}]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::MULTI_STATUS, "{answer}");
    let result = &answer["receivers"][0]["grafana_managed_receiver_configs"][0];
    assert_eq!(result["status"], "failed", "{answer}");
    assert!(
        result["error"].as_str().unwrap().contains("SMTP"),
        "{answer}"
    );
    assert!(!answer.to_string().contains(wrong), "{answer}");
    for line in px.logs() {
        assert!(!line.contains(wrong), "the password is logged: {line}");
    }
    assert!(smtp.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_smtp_settings_stop_start_up_with_the_setting_named() {
    let db = Database::fresh(Backend::Sqlite);
    let err = Pharos::try_start(
        db.clone(),
        Options::default()
            .env("PHAROS_SMTP_ENABLED", "true")
            .env("PHAROS_SMTP_HOST", "no-port-here"),
    )
    .await
    .err()
    .expect("a host without a port is refused");
    assert!(err.contains("smtp.host"), "{err}");
    let err = Pharos::try_start(
        db,
        Options::default()
            .env("PHAROS_SMTP_ENABLED", "true")
            .env("PHAROS_SMTP_STARTTLS_POLICY", "Sometimes"),
    )
    .await
    .err()
    .expect("an unknown policy is refused");
    assert!(err.contains("startTLS_policy"), "{err}");
}
