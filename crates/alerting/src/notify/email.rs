//! Grafana's `email` integration over SMTP (the `lettre` crate; rustls for STARTTLS).
//!
//! `addresses` are separated by `;`, `,` or newlines, as in Grafana. With `singleEmail` one
//! message goes to all of them; otherwise each address gets its own. `subject` and `message` are
//! templates ([`crate::template`], over [`Notification::template_context`]); when empty, the
//! default title and a plain-text list of the alerts are used. Every message carries the
//! idempotency key as `X-Pharos-Idempotency-Key` and in a stable `Message-ID`.
//!
//! SMTP replies 4xx, connection and TLS trouble are retryable; 5xx replies, bad addresses and a
//! server without the STARTTLS the configuration requires are permanent.

use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::{parse_template, render_or, BoxFuture, Notification, NotifyError};
use crate::template::Template;

/// The integration's `settings`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EmailSettings {
    pub addresses: String,
    #[serde(default, rename = "singleEmail")]
    pub single_email: bool,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP (a local relay).
    None,
    /// STARTTLS when the server offers it, plain otherwise.
    Opportunistic,
    /// STARTTLS or fail.
    StartTls,
}

/// The server's SMTP configuration (Grafana's `[smtp]` section). Its debug form leaves the
/// password out, so a logged configuration does not leak it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    pub from_address: String,
    #[serde(default)]
    pub from_name: Option<String>,
    pub tls: SmtpTls,
    /// Bounds each SMTP command (connecting, each reply).
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// An SMTP server as the server configures it: the connection, and whether a TLS certificate
/// that does not verify is accepted (Grafana's `skip_verify`, for a self-signed relay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub config: SmtpConfig,
    pub skip_verify: bool,
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

#[derive(Clone)]
struct IdempotencyKeyHeader(String);

impl Header for IdempotencyKeyHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Pharos-Idempotency-Key")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(IdempotencyKeyHeader(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

pub struct EmailNotifier {
    to: Vec<Mailbox>,
    from: Mailbox,
    single_email: bool,
    subject: Option<Template>,
    message: Option<Template>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl EmailNotifier {
    pub fn new(settings: EmailSettings, smtp: SmtpConfig) -> Result<EmailNotifier, String> {
        EmailNotifier::for_server(
            settings,
            SmtpServer {
                config: smtp,
                skip_verify: false,
            },
        )
    }

    /// As [`EmailNotifier::new`], with the server's certificate check as configured.
    pub fn for_server(
        settings: EmailSettings,
        server: SmtpServer,
    ) -> Result<EmailNotifier, String> {
        let SmtpServer {
            config: smtp,
            skip_verify,
        } = server;
        let to = settings
            .addresses
            .split([';', ',', '\n'])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse::<Mailbox>()
                    .map_err(|e| format!("e-mail address {a:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err("e-mail: addresses is required".into());
        }
        let from_address = smtp
            .from_address
            .parse()
            .map_err(|e| format!("SMTP from_address {:?}: {e}", smtp.from_address))?;
        let from = Mailbox::new(
            smtp.from_name.clone().filter(|n| !n.is_empty()),
            from_address,
        );
        let subject = parse_template("subject", settings.subject.as_deref().unwrap_or(""))?;
        let message = parse_template("message", settings.message.as_deref().unwrap_or(""))?;
        let tls = match smtp.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Opportunistic | SmtpTls::StartTls => {
                let params = TlsParameters::builder(smtp.host.clone())
                    .dangerous_accept_invalid_certs(skip_verify)
                    .dangerous_accept_invalid_hostnames(skip_verify)
                    .build()
                    .map_err(|e| format!("SMTP TLS: {e}"))?;
                if smtp.tls == SmtpTls::StartTls {
                    Tls::Required(params)
                } else {
                    Tls::Opportunistic(params)
                }
            }
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
                .port(smtp.port)
                .tls(tls)
                .timeout(Some(smtp.timeout));
        if let Some(user) = smtp.username.clone().filter(|u| !u.is_empty()) {
            builder = builder.credentials(Credentials::new(
                user,
                smtp.password.clone().unwrap_or_default(),
            ));
        }
        Ok(EmailNotifier {
            to,
            from,
            single_email: settings.single_email,
            subject,
            message,
            transport: builder.build(),
        })
    }

    /// The messages for `n`: one, or one per address.
    pub fn messages(&self, n: &Notification) -> Result<Vec<Message>, NotifyError> {
        let context = n.template_context();
        let subject = render_or(&self.subject, &context, || n.default_title());
        // A subject is one line.
        let subject = subject.replace(['\r', '\n'], " ");
        let body = render_or(&self.message, &context, || n.default_message());
        let key = n.idempotency_key();
        let recipients: Vec<Vec<Mailbox>> = if self.single_email {
            vec![self.to.clone()]
        } else {
            self.to.iter().map(|m| vec![m.clone()]).collect()
        };
        recipients
            .into_iter()
            .enumerate()
            .map(|(i, to)| {
                let mut builder = Message::builder()
                    .from(self.from.clone())
                    .subject(subject.clone())
                    .message_id(Some(format!("<{key}.{i}@pharos>")))
                    .header(IdempotencyKeyHeader(key.clone()))
                    .header(ContentType::TEXT_PLAIN);
                for m in to {
                    builder = builder.to(m);
                }
                builder
                    .body(body.clone())
                    .map_err(|e| NotifyError::permanent(format!("building the e-mail: {e}")))
            })
            .collect()
    }
}

fn smtp_error(e: lettre::transport::smtp::Error) -> NotifyError {
    // 5xx replies, and client errors such as a server without the STARTTLS the settings require:
    // sending again will not help.
    if e.is_permanent() || e.is_client() {
        NotifyError::permanent(format!("SMTP: {e}"))
    } else {
        NotifyError::retryable(format!("SMTP: {e}"))
    }
}

impl super::Notifier for EmailNotifier {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            for message in self.messages(n)? {
                self.transport.send(message).await.map_err(smtp_error)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::sample_notification;

    fn smtp() -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 25,
            username: None,
            password: None,
            from_address: "pharos@example.com".into(),
            from_name: Some("Pharos".into()),
            tls: SmtpTls::None,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn one_message_per_address_unless_single() {
        let settings = EmailSettings {
            addresses: "a@example.com; b@example.com".into(),
            subject: Some("{{ .Status }}: {{ .GroupLabels.alertname }}".into()),
            ..Default::default()
        };
        let e = EmailNotifier::new(settings.clone(), smtp()).unwrap();
        let n = sample_notification();
        let messages = e.messages(&n).unwrap();
        assert_eq!(messages.len(), 2);
        let text = String::from_utf8(messages[0].formatted()).unwrap();
        assert!(text.contains("Subject: firing: Down"), "{text}");
        assert!(text.contains("To: a@example.com"), "{text}");
        assert!(text.contains(&format!(
            "X-Pharos-Idempotency-Key: {}",
            n.idempotency_key()
        )));
        let single = EmailNotifier::new(
            EmailSettings {
                single_email: true,
                ..settings
            },
            smtp(),
        )
        .unwrap();
        assert_eq!(single.messages(&n).unwrap().len(), 1);
    }

    #[test]
    fn the_debug_form_hides_the_password() {
        let mut config = smtp();
        config.password = Some("hunter2".into());
        let text = format!("{config:?}");
        assert!(
            !text.contains("hunter2") && text.contains("REDACTED"),
            "{text}"
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let bad = |addresses: &str| {
            EmailNotifier::new(
                EmailSettings {
                    addresses: addresses.into(),
                    ..Default::default()
                },
                smtp(),
            )
            .err()
            .unwrap()
        };
        assert!(bad("").contains("required"));
        assert!(bad("not an address").contains("not an address"));
        let mut s = smtp();
        s.from_address = "nobody".into();
        assert!(EmailNotifier::new(
            EmailSettings {
                addresses: "a@example.com".into(),
                ..Default::default()
            },
            s
        )
        .is_err());
    }
}
