//! The e-mail notifier against a minimal SMTP sink this test runs (no SMTP server package is in
//! use here, so the peer is a small fake: greeting, EHLO, MAIL, RCPT, DATA, QUIT). It checks the
//! envelope, the headers (From, To, Subject from a template, the idempotency key, Message-ID),
//! the body, one message per address versus `singleEmail`, SMTP 4xx/5xx as retryable/permanent,
//! and the timeout on a server that never greets.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pharos_alerting::group::Alert;
use pharos_alerting::notify::{
    EmailNotifier, EmailSettings, Notification, Notifier, SmtpConfig, SmtpTls,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Default)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
}

#[derive(Clone, Default)]
struct Sink {
    mails: Arc<Mutex<Vec<Mail>>>,
    /// The reply to RCPT (`250 OK` when empty).
    rcpt_reply: Arc<Mutex<String>>,
    /// Accept connections but never greet.
    silent: bool,
}

impl Sink {
    async fn start(silent: bool) -> (u16, Sink) {
        let sink = Sink {
            silent,
            ..Sink::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(socket).await;
                });
            }
        });
        (port, sink)
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    async fn session(&self, socket: tokio::net::TcpStream) -> std::io::Result<()> {
        if self.silent {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink ESMTP\r\n").await?;
        let mut mail = Mail::default();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            let reply = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                "250 sink".to_string()
            } else if upper.starts_with("MAIL FROM:") {
                mail = Mail {
                    from: command[10..].trim().to_string(),
                    ..Mail::default()
                };
                "250 OK".to_string()
            } else if upper.starts_with("RCPT TO:") {
                let reply = self.rcpt_reply.lock().unwrap().clone();
                if reply.is_empty() {
                    mail.to.push(command[8..].trim().to_string());
                    "250 OK".to_string()
                } else {
                    reply
                }
            } else if upper == "DATA" {
                write.write_all(b"354 go on\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                mail.data = data;
                self.mails.lock().unwrap().push(std::mem::take(&mut mail));
                "250 queued".to_string()
            } else if upper == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                "250 OK".to_string()
            };
            write.write_all(format!("{reply}\r\n").as_bytes()).await?;
        }
    }
}

fn smtp(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        username: None,
        password: None,
        from_address: "alerts@example.com".into(),
        from_name: Some("Pharos".into()),
        tls: SmtpTls::None,
        timeout: Duration::from_secs(5),
    }
}

fn notification() -> Notification {
    let alert = |instance: &str| Alert {
        labels: BTreeMap::from([
            ("alertname".to_string(), "DiskFull".to_string()),
            ("instance".to_string(), instance.to_string()),
        ]),
        annotations: BTreeMap::from([("summary".to_string(), format!("{instance} disk full"))]),
        starts_at: 1_767_225_600_000,
        ends_at: None,
        generator_url: "http://pharos:3000/alerting/grafana/disk/view".into(),
        values: BTreeMap::new(),
        value_string: String::new(),
    };
    Notification {
        log_key: "mail/{}:{alertname=\"DiskFull\"}/1767225630000".into(),
        receiver: "mail".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: BTreeMap::from([("alertname".to_string(), "DiskFull".to_string())]),
        alerts: vec![alert("a"), alert("b")],
        org_id: 1,
        external_url: "http://pharos:3000".into(),
    }
}

fn header<'a>(data: &'a str, name: &str) -> Option<&'a str> {
    data.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

/// The body (after the blank line), decoded when it is quoted-printable.
fn body(data: &str) -> String {
    let (head, body) = data.split_once("\r\n\r\n").unwrap();
    if !head.contains("Content-Transfer-Encoding: quoted-printable") {
        return body.to_string();
    }
    let bytes = body.replace("=\r\n", "").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

const TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn one_message_per_address_with_templated_subject_and_idempotency_key() {
    let (port, sink) = Sink::start(false).await;
    let e = EmailNotifier::new(
        EmailSettings {
            addresses: "oncall@example.com;lead@example.com".into(),
            single_email: false,
            subject: Some(
                "[{{ .Status | toUpper }}] {{ .GroupLabels.alertname }} ({{ len .Alerts }})".into(),
            ),
            message: Some(
                "{{ range .Alerts }}{{ .Labels.instance }}: {{ .Annotations.summary }}\n{{ end }}"
                    .into(),
            ),
        },
        smtp(port),
    )
    .unwrap();
    let n = notification();
    e.notify(&n, TIMEOUT).await.unwrap();
    let mails = sink.mails();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].from, "<alerts@example.com>");
    assert_eq!(mails[0].to, ["<oncall@example.com>"]);
    assert_eq!(mails[1].to, ["<lead@example.com>"]);
    for (i, m) in mails.iter().enumerate() {
        let d = &m.data;
        assert_eq!(header(d, "Subject"), Some("[FIRING] DiskFull (2)"), "{d}");
        assert_eq!(
            header(d, "From"),
            Some("Pharos <alerts@example.com>"),
            "{d}"
        );
        assert_eq!(
            header(d, "X-Pharos-Idempotency-Key"),
            Some(n.idempotency_key().as_str()),
            "{d}"
        );
        assert_eq!(
            header(d, "Message-ID"),
            Some(format!("<{}.{i}@pharos>", n.idempotency_key()).as_str())
        );
        assert_eq!(header(d, "Content-Type"), Some("text/plain; charset=utf-8"));
        let b = body(d);
        assert!(b.contains("a: a disk full\r\nb: b disk full"), "{b}");
    }
    assert_eq!(header(&mails[1].data, "To"), Some("lead@example.com"));
}

#[tokio::test]
async fn single_email_and_the_default_subject_and_body() {
    let (port, sink) = Sink::start(false).await;
    let e = EmailNotifier::new(
        EmailSettings {
            addresses: "a@example.com, b@example.com".into(),
            single_email: true,
            subject: None,
            message: None,
        },
        smtp(port),
    )
    .unwrap();
    e.notify(&notification(), TIMEOUT).await.unwrap();
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["<a@example.com>", "<b@example.com>"]);
    assert_eq!(
        header(&mails[0].data, "Subject"),
        Some("[FIRING:2] DiskFull")
    );
    let b = body(&mails[0].data);
    assert!(b.contains(" - instance = b"), "{b}");
    assert!(
        b.contains("Source: http://pharos:3000/alerting/grafana/disk/view"),
        "{b}"
    );
}

#[tokio::test]
async fn smtp_errors_are_classified_and_a_silent_server_times_out() {
    let (port, sink) = Sink::start(false).await;
    let e = EmailNotifier::new(
        EmailSettings {
            addresses: "a@example.com".into(),
            ..Default::default()
        },
        smtp(port),
    )
    .unwrap();
    *sink.rcpt_reply.lock().unwrap() = "450 mailbox busy".into();
    let err = e.notify(&notification(), TIMEOUT).await.unwrap_err();
    assert!(err.retryable, "{err}");
    *sink.rcpt_reply.lock().unwrap() = "550 no such user".into();
    let err = e.notify(&notification(), TIMEOUT).await.unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(sink.mails().is_empty());

    let (port, _silent) = Sink::start(true).await;
    let e = EmailNotifier::new(
        EmailSettings {
            addresses: "a@example.com".into(),
            ..Default::default()
        },
        smtp(port),
    )
    .unwrap();
    let started = Instant::now();
    let err = e
        .notify(&notification(), Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// STARTTLS when offered: the sink offers none, so opportunistic TLS sends in plain text and
/// required STARTTLS refuses to send (permanently: a configuration mismatch).
#[tokio::test]
async fn opportunistic_tls_falls_back_and_required_starttls_refuses() {
    let (port, sink) = Sink::start(false).await;
    let notifier = |tls: SmtpTls| {
        let mut config = smtp(port);
        config.tls = tls;
        EmailNotifier::new(
            EmailSettings {
                addresses: "a@example.com".into(),
                ..Default::default()
            },
            config,
        )
        .unwrap()
    };
    notifier(SmtpTls::Opportunistic)
        .notify(&notification(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(sink.mails().len(), 1);
    let err = notifier(SmtpTls::StartTls)
        .notify(&notification(), TIMEOUT)
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(
        err.message.to_ascii_uppercase().contains("STARTTLS"),
        "{err}"
    );
    assert_eq!(sink.mails().len(), 1);
}
