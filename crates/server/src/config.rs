//! Settings: defaults, then a TOML file, then `PHAROS_<SECTION>_<KEY>` environment variables, then
//! command-line flags. Every field has a doc comment; docs/configuration.md is checked against
//! [`Settings::default`] by a test, so the two cannot drift.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub auth: AuthSettings,
    pub query: QuerySettings,
    pub dashboards: DashboardsSettings,
    pub cluster: ClusterSettings,
    pub alerting: AlertingSettings,
    pub smtp: SmtpSettings,
    pub log: LogSettings,
    pub paths: PathsSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address and port the HTTP server listens on.
    pub listen: String,
    /// The public URL users reach Pharos at; used for links and to mark cookies `Secure` when https.
    pub root_url: String,
    /// Largest request body accepted, in bytes; larger bodies get 413.
    pub max_body_bytes: u64,
    /// Trust the first address of `X-Forwarded-For` as the client's (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// On first start with an empty database, create a TestData datasource and a demo dashboard.
    pub demo_data: bool,
    /// Serve the web UI from this directory (a Vite build) instead of the one embedded in the binary;
    /// empty for the embedded one.
    pub web_dir: String,
    /// How long a write's `Idempotency-Key` and its stored response are kept (at least).
    pub idempotency_ttl: String,
    /// After SIGTERM, how long the replica keeps serving with `/readyz` at 503 (so the balancer
    /// takes it out) before it stops accepting connections; `0s` for none.
    pub drain_period: String,
    /// After it stops accepting, how long in-flight requests may run before they are abandoned.
    pub shutdown_timeout: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` for one node, `postgres://USER@HOST:PORT/DB` for replicas sharing state.
    pub url: String,
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long a request waits for a free connection before the database counts as unavailable.
    pub acquire_timeout: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// Login of the server admin created on first start.
    pub admin_user: String,
    /// Password of that admin on first start (a warning is logged while it is the default).
    pub admin_password: String,
    /// E-mail of that admin.
    pub admin_email: String,
    /// Key for encrypting secrets at rest; every replica of one database must share it.
    pub secret_key: String,
    /// Failed logins for one user (or, times four, from one address) within `login_failure_window`
    /// before further attempts get 429.
    pub login_max_failures: u32,
    /// The window over which failed logins are counted.
    pub login_failure_window: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// A session unused for this long is logged out.
    pub session_inactive_lifetime: String,
    /// A session older than this is logged out however active it is.
    pub session_max_lifetime: String,
    /// How often a session's token is replaced by a new one.
    pub session_rotation_interval: String,
    /// Name of the session cookie.
    pub cookie_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QuerySettings {
    /// How long one datasource query may take before it answers 504 (Grafana's dataproxy timeout).
    pub timeout: String,
    /// Keep query results in memory so identical queries do not ask the source again.
    pub cache_enabled: bool,
    /// How long a result whose range lies wholly in the past is kept. Results ending near now are
    /// kept at most one step (their aligned range cannot change within a step).
    pub cache_ttl: String,
    /// How far before now a range must end to count as in the past (late samples land within it).
    pub cache_tolerance: String,
    /// Most values (points × fields) the result cache holds on one replica.
    pub cache_max_values: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardsSettings {
    /// How many versions of each dashboard are kept (Grafana's `versions_to_keep`); the
    /// maintenance job deletes older ones. At least 1 (the current version is never deleted).
    pub versions_to_keep: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// The address other replicas and operators reach this replica at, as listed by `/api/cluster`;
    /// empty for the address the server listens on.
    pub advertise_address: String,
    /// How often this replica refreshes its row in the members table.
    pub heartbeat_interval: String,
    /// A member whose last heartbeat is older than this counts as dead and is removed.
    pub member_timeout: String,
    /// Length of a lease term; the holder renews every third of it and stops the lease's job when
    /// a renewal fails.
    pub lease_ttl: String,
    /// How often the replica holding the `maintenance` lease deletes expired sessions, old
    /// failed-login records, old idempotency keys, old change-feed rows and dashboard versions
    /// beyond `dashboards.versions_to_keep`.
    pub maintenance_interval: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingSettings {
    /// Evaluate alert rules and send notifications (on the one replica holding the `alerting`
    /// lease); `false` leaves this replica out of the election.
    pub enabled: bool,
    /// Length of the `alerting` lease's term: how long evaluation may pause when its holder dies.
    pub lease_ttl: String,
    /// The longest one datasource query of a rule may run; past it the evaluation is an error.
    pub evaluation_timeout: String,
    /// How many rules' queries run at once.
    pub max_concurrent_evaluations: u32,
    /// The longest one notification may take before it counts as failed (and is retried).
    pub notification_timeout: String,
}

/// Grafana's `[smtp]` section: the server e-mail contact points send through.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// Send e-mail; when off, e-mail contact points save but every send fails with "SMTP is not
    /// configured".
    pub enabled: bool,
    /// The SMTP server as `host:port`.
    pub host: String,
    /// User name for SMTP AUTH; empty for none.
    pub user: String,
    /// Password for SMTP AUTH (never logged nor answered by the API).
    pub password: String,
    /// The sender's address.
    pub from_address: String,
    /// The sender's display name.
    pub from_name: String,
    /// Accept a TLS certificate that does not verify (a self-signed relay).
    pub skip_verify: bool,
    /// `OpportunisticStartTLS` (STARTTLS when offered), `MandatoryStartTLS` or `NoStartTLS`;
    /// empty is opportunistic, as in Grafana.
    pub starttls_policy: String,
}

/// Written out without the password, so a logged configuration does not leak it.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("enabled", &self.enabled)
            .field("host", &self.host)
            .field("user", &self.user)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "[REDACTED]"
                },
            )
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("skip_verify", &self.skip_verify)
            .field("starttls_policy", &self.starttls_policy)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PathsSettings {
    /// Directory of provisioning files (`datasources/`, `dashboards/` in Grafana's YAML format),
    /// relative to the working directory; empty turns provisioning off.
    pub provisioning: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` for a terminal, `json` for log shippers.
    pub format: String,
    /// A tracing filter, such as `info` or `pharos=debug,sqlx=warn`.
    pub level: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                listen: "0.0.0.0:3000".into(),
                root_url: "http://localhost:3000/".into(),
                max_body_bytes: 10 * 1024 * 1024,
                trust_forwarded_for: false,
                demo_data: true,
                web_dir: String::new(),
                idempotency_ttl: "24h".into(),
                drain_period: "5s".into(),
                shutdown_timeout: "30s".into(),
            },
            database: DatabaseSettings {
                url: "sqlite://data/pharos.db".into(),
                max_connections: 16,
                acquire_timeout: "2s".into(),
            },
            security: SecuritySettings {
                admin_user: "admin".into(),
                admin_password: DEFAULT_ADMIN_PASSWORD.into(),
                admin_email: "admin@localhost".into(),
                secret_key: DEFAULT_SECRET_KEY.into(),
                login_max_failures: 5,
                login_failure_window: "5m".into(),
            },
            auth: AuthSettings {
                session_inactive_lifetime: "7d".into(),
                session_max_lifetime: "30d".into(),
                session_rotation_interval: "10m".into(),
                cookie_name: "pharos_session".into(),
            },
            query: QuerySettings {
                timeout: "30s".into(),
                cache_enabled: true,
                cache_ttl: "5m".into(),
                cache_tolerance: "1m".into(),
                cache_max_values: 5_000_000,
            },
            dashboards: DashboardsSettings {
                versions_to_keep: 20,
            },
            cluster: ClusterSettings {
                advertise_address: String::new(),
                heartbeat_interval: "5s".into(),
                member_timeout: "30s".into(),
                lease_ttl: "15s".into(),
                maintenance_interval: "5m".into(),
            },
            alerting: AlertingSettings {
                enabled: true,
                lease_ttl: "15s".into(),
                evaluation_timeout: "30s".into(),
                max_concurrent_evaluations: 16,
                notification_timeout: "30s".into(),
            },
            smtp: SmtpSettings {
                enabled: false,
                host: "localhost:25".into(),
                user: String::new(),
                password: String::new(),
                from_address: "admin@pharos.localhost".into(),
                from_name: "Pharos".into(),
                skip_verify: false,
                starttls_policy: String::new(),
            },
            log: LogSettings {
                format: "text".into(),
                level: "info".into(),
            },
            paths: PathsSettings {
                provisioning: "provisioning".into(),
            },
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Settings::default().server
    }
}
impl Default for DatabaseSettings {
    fn default() -> Self {
        Settings::default().database
    }
}
impl Default for SecuritySettings {
    fn default() -> Self {
        Settings::default().security
    }
}
impl Default for AuthSettings {
    fn default() -> Self {
        Settings::default().auth
    }
}
impl Default for QuerySettings {
    fn default() -> Self {
        Settings::default().query
    }
}
impl Default for DashboardsSettings {
    fn default() -> Self {
        Settings::default().dashboards
    }
}
impl Default for ClusterSettings {
    fn default() -> Self {
        Settings::default().cluster
    }
}
impl Default for AlertingSettings {
    fn default() -> Self {
        Settings::default().alerting
    }
}
impl Default for SmtpSettings {
    fn default() -> Self {
        Settings::default().smtp
    }
}
impl Default for PathsSettings {
    fn default() -> Self {
        Settings::default().paths
    }
}
impl Default for LogSettings {
    fn default() -> Self {
        Settings::default().log
    }
}

pub const DEFAULT_ADMIN_PASSWORD: &str = "admin";
pub const DEFAULT_SECRET_KEY: &str = "pharos-default-secret-key-change-me";

/// A setting that stops start-up; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {reason}")]
pub struct SettingError {
    pub name: String,
    pub reason: String,
}

fn bad(name: &str, reason: impl Into<String>) -> SettingError {
    SettingError {
        name: name.into(),
        reason: reason.into(),
    }
}

/// Settings after validation, with durations and addresses parsed.
#[derive(Debug, Clone)]
pub struct Config {
    pub raw: Settings,
    pub listen: SocketAddr,
    pub root_url: url::Url,
    pub cookie_secure: bool,
    pub acquire_timeout: Duration,
    pub drain_period: Duration,
    pub shutdown_timeout: Duration,
    pub login_failure_window: Duration,
    pub session_inactive_lifetime: Duration,
    pub session_max_lifetime: Duration,
    pub session_rotation_interval: Duration,
    pub query_timeout: Duration,
    pub query_cache_ttl: Duration,
    pub query_cache_tolerance: Duration,
    pub heartbeat_interval: Duration,
    pub member_timeout: Duration,
    pub lease_ttl: Duration,
    pub maintenance_interval: Duration,
    pub idempotency_ttl: Duration,
    pub alerting_lease_ttl: Duration,
    pub alerting_evaluation_timeout: Duration,
    pub alerting_notification_timeout: Duration,
    /// The SMTP server e-mail contact points send through (`None` when `smtp.enabled` is off).
    pub smtp: Option<pharos_alerting::notify::SmtpServer>,
}

/// Flag values that override everything else (`None` when not given).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub log_format: Option<String>,
}

impl Settings {
    /// Loads settings: defaults, then `file` (or `pharos.toml` when present and no file is named),
    /// then the environment, then `overrides`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Settings, SettingError> {
        let mut table = toml::Value::try_from(Settings::default())
            .map_err(|e| bad("defaults", e.to_string()))?;
        let default_file = Path::new("pharos.toml");
        let file = file.or_else(|| default_file.exists().then_some(default_file));
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| bad("--config", format!("cannot read {}: {e}", path.display())))?;
            let from_file: toml::Value = toml::from_str(&text)
                .map_err(|e| bad("--config", format!("{}: {}", path.display(), e.message())))?;
            merge_file(&mut table, from_file)?;
        }
        for (key, value) in env {
            if let Some(rest) = key.strip_prefix("PHAROS_") {
                apply_env(&mut table, rest, &value)?;
            }
        }
        let flags = [
            ("server", "listen", &overrides.listen),
            ("database", "url", &overrides.database_url),
            ("log", "format", &overrides.log_format),
        ];
        for (section, key, value) in flags {
            if let Some(value) = value {
                set(&mut table, section, key, &format!("{section}.{key}"), value)?;
            }
        }
        table
            .try_into()
            .map_err(|e: toml::de::Error| bad("settings", e.message().to_string()))
    }

    /// Checks every setting and parses the ones with structure.
    pub fn validate(self) -> Result<Config, SettingError> {
        let listen: SocketAddr = self.server.listen.parse().map_err(|_| {
            bad(
                "server.listen",
                format!("{:?} is not an address:port", self.server.listen),
            )
        })?;
        let root_url = url::Url::parse(&self.server.root_url).map_err(|e| {
            bad(
                "server.root_url",
                format!("{:?}: {e}", self.server.root_url),
            )
        })?;
        if !matches!(root_url.scheme(), "http" | "https") {
            return Err(bad("server.root_url", "must be an http:// or https:// URL"));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(bad("server.max_body_bytes", "must be at least 1024"));
        }
        if !self.server.web_dir.is_empty() && !Path::new(&self.server.web_dir).is_dir() {
            return Err(bad(
                "server.web_dir",
                format!("{:?} is not a directory", self.server.web_dir),
            ));
        }
        let db = &self.database.url;
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            return Err(bad(
                "database.url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if self.database.max_connections == 0 {
            return Err(bad("database.max_connections", "must be at least 1"));
        }
        if self.security.admin_user.trim().is_empty() {
            return Err(bad("security.admin_user", "must not be empty"));
        }
        if self.security.admin_password.len() < 4 {
            return Err(bad(
                "security.admin_password",
                "must be at least 4 characters",
            ));
        }
        if self.security.secret_key.len() < 16 {
            return Err(bad("security.secret_key", "must be at least 16 characters"));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(bad("log.format", "must be text or json"));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(bad(
                "log.level",
                format!("{:?} is not a log filter", self.log.level),
            ));
        }
        let cookie = &self.auth.cookie_name;
        if cookie.is_empty()
            || !cookie
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad("auth.cookie_name", "must be letters, digits, - or _"));
        }
        if self.dashboards.versions_to_keep < 1 {
            return Err(bad("dashboards.versions_to_keep", "must be at least 1"));
        }
        let advertise = &self.cluster.advertise_address;
        if advertise.chars().any(char::is_whitespace) {
            return Err(bad(
                "cluster.advertise_address",
                "must be an address such as 10.0.0.5:3000, without spaces",
            ));
        }
        let heartbeat_interval = duration(
            "cluster.heartbeat_interval",
            &self.cluster.heartbeat_interval,
        )?;
        let member_timeout = duration("cluster.member_timeout", &self.cluster.member_timeout)?;
        if member_timeout < heartbeat_interval * 2 {
            return Err(bad(
                "cluster.member_timeout",
                "must be at least twice cluster.heartbeat_interval",
            ));
        }
        let lease_ttl = duration("cluster.lease_ttl", &self.cluster.lease_ttl)?;
        if lease_ttl < Duration::from_secs(1) {
            return Err(bad("cluster.lease_ttl", "must be at least 1s"));
        }
        let maintenance_interval = duration(
            "cluster.maintenance_interval",
            &self.cluster.maintenance_interval,
        )?;
        let idempotency_ttl = duration("server.idempotency_ttl", &self.server.idempotency_ttl)?;
        if idempotency_ttl < Duration::from_secs(60) {
            return Err(bad("server.idempotency_ttl", "must be at least 1m"));
        }
        let alerting_lease_ttl = duration("alerting.lease_ttl", &self.alerting.lease_ttl)?;
        if alerting_lease_ttl < Duration::from_secs(1) {
            return Err(bad("alerting.lease_ttl", "must be at least 1s"));
        }
        if self.alerting.max_concurrent_evaluations == 0 {
            return Err(bad(
                "alerting.max_concurrent_evaluations",
                "must be at least 1",
            ));
        }
        let smtp = self.smtp.server()?;
        Ok(Config {
            smtp,
            alerting_lease_ttl,
            alerting_evaluation_timeout: duration(
                "alerting.evaluation_timeout",
                &self.alerting.evaluation_timeout,
            )?,
            alerting_notification_timeout: duration(
                "alerting.notification_timeout",
                &self.alerting.notification_timeout,
            )?,
            idempotency_ttl,
            heartbeat_interval,
            member_timeout,
            lease_ttl,
            maintenance_interval,
            cookie_secure: root_url.scheme() == "https",
            listen,
            root_url,
            acquire_timeout: duration("database.acquire_timeout", &self.database.acquire_timeout)?,
            drain_period: duration_or_zero("server.drain_period", &self.server.drain_period)?,
            shutdown_timeout: duration("server.shutdown_timeout", &self.server.shutdown_timeout)?,
            login_failure_window: duration(
                "security.login_failure_window",
                &self.security.login_failure_window,
            )?,
            session_inactive_lifetime: duration(
                "auth.session_inactive_lifetime",
                &self.auth.session_inactive_lifetime,
            )?,
            session_max_lifetime: duration(
                "auth.session_max_lifetime",
                &self.auth.session_max_lifetime,
            )?,
            session_rotation_interval: duration(
                "auth.session_rotation_interval",
                &self.auth.session_rotation_interval,
            )?,
            query_timeout: duration("query.timeout", &self.query.timeout)?,
            query_cache_ttl: duration("query.cache_ttl", &self.query.cache_ttl)?,
            query_cache_tolerance: duration("query.cache_tolerance", &self.query.cache_tolerance)?,
            raw: self,
        })
    }
}

fn duration(name: &str, text: &str) -> Result<Duration, SettingError> {
    let d = humantime::parse_duration(text).map_err(|e| {
        bad(
            name,
            format!("{text:?} is not a duration such as 30s, 10m or 7d: {e}"),
        )
    })?;
    if d.is_zero() {
        return Err(bad(name, "must be longer than zero"));
    }
    Ok(d)
}

/// A duration where `0s` is meaningful (no drain period, say).
fn duration_or_zero(name: &str, text: &str) -> Result<Duration, SettingError> {
    humantime::parse_duration(text).map_err(|e| {
        bad(
            name,
            format!("{text:?} is not a duration such as 0s, 5s or 1m: {e}"),
        )
    })
}

/// Copies the file's values over the defaults, refusing unknown sections and keys by name.
fn merge_file(table: &mut toml::Value, file: toml::Value) -> Result<(), SettingError> {
    let toml::Value::Table(sections) = file else {
        return Err(bad("--config", "must be a TOML table"));
    };
    for (section, values) in sections {
        let toml::Value::Table(values) = values else {
            return Err(bad(&section, "must be a [section]"));
        };
        for (key, value) in values {
            let name = format!("{section}.{key}");
            // Grafana spells one [smtp] key in mixed case (`startTLS_policy`).
            let key = if section == "smtp" {
                key.to_lowercase()
            } else {
                key
            };
            let slot = slot(table, &section, &key, &name)?;
            if std::mem::discriminant(slot) != std::mem::discriminant(&value) {
                return Err(bad(
                    &name,
                    format!("expected {}, got {}", slot.type_str(), value.type_str()),
                ));
            }
            // Every integer setting is a count or a size.
            if value
                .as_integer()
                .is_some_and(|n| !(0..=i64::from(u32::MAX)).contains(&n))
            {
                return Err(bad(
                    &name,
                    format!("expected a whole number from 0 to {}", u32::MAX),
                ));
            }
            *slot = value;
        }
    }
    Ok(())
}

/// `SECTION_KEY=value` (the part after `PHAROS_`): the section is the first word. Variables whose
/// first word is no section (`PHAROS_BIN`, `PHAROS_TEST_...`) belong to other tools and are ignored;
/// a known section with an unknown key is a typo and stops start-up.
fn apply_env(table: &mut toml::Value, rest: &str, value: &str) -> Result<(), SettingError> {
    let env_name = format!("PHAROS_{rest}");
    let Some((section, key)) = rest.split_once('_') else {
        return Ok(());
    };
    if table.get(section.to_lowercase().as_str()).is_none() {
        return Ok(());
    }
    set(
        table,
        &section.to_lowercase(),
        &key.to_lowercase(),
        &env_name,
        value,
    )
}

fn set(
    table: &mut toml::Value,
    section: &str,
    key: &str,
    name: &str,
    value: &str,
) -> Result<(), SettingError> {
    let slot = slot(table, section, key, name)?;
    *slot = match slot {
        toml::Value::String(_) => toml::Value::String(value.to_string()),
        toml::Value::Integer(_) => toml::Value::Integer(
            value
                .trim()
                .parse()
                .ok()
                .filter(|n: &i64| (0..=i64::from(u32::MAX)).contains(n))
                .ok_or_else(|| {
                    bad(
                        name,
                        format!(
                            "expected a whole number from 0 to {}, got {value:?}",
                            u32::MAX
                        ),
                    )
                })?,
        ),
        toml::Value::Boolean(_) => {
            toml::Value::Boolean(match value.trim().to_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => return Err(bad(name, format!("expected true or false, got {value:?}"))),
            })
        }
        other => {
            return Err(bad(
                name,
                format!("cannot be set from text ({})", other.type_str()),
            ))
        }
    };
    Ok(())
}

fn slot<'a>(
    table: &'a mut toml::Value,
    section: &str,
    key: &str,
    name: &str,
) -> Result<&'a mut toml::Value, SettingError> {
    table
        .get_mut(section)
        .ok_or_else(|| bad(name, format!("unknown section [{section}]")))?
        .get_mut(key)
        .ok_or_else(|| bad(name, format!("unknown setting {key:?} in [{section}]")))
}

impl SmtpSettings {
    /// The SMTP server as the e-mail notifier takes it, checked (`None` when disabled).
    fn server(&self) -> Result<Option<pharos_alerting::notify::SmtpServer>, SettingError> {
        use pharos_alerting::notify::{SmtpConfig, SmtpServer, SmtpTls};
        if !self.enabled {
            return Ok(None);
        }
        let (host, port) = self
            .host
            .trim()
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
            .filter(|(h, _)| !h.is_empty())
            .ok_or_else(|| {
                bad(
                    "smtp.host",
                    "must be host:port, such as smtp.example.com:587",
                )
            })?;
        if self.from_address.trim().is_empty() || !self.from_address.contains('@') {
            return Err(bad("smtp.from_address", "must be an e-mail address"));
        }
        let tls = match self.starttls_policy.trim() {
            "" | "OpportunisticStartTLS" => SmtpTls::Opportunistic,
            "MandatoryStartTLS" => SmtpTls::StartTls,
            "NoStartTLS" => SmtpTls::None,
            other => {
                return Err(bad(
                    "smtp.startTLS_policy",
                    format!(
                    "must be OpportunisticStartTLS, MandatoryStartTLS or NoStartTLS, got {other:?}"
                ),
                ))
            }
        };
        let non_empty = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        Ok(Some(SmtpServer {
            config: SmtpConfig {
                host: host.to_string(),
                port,
                username: non_empty(&self.user),
                password: non_empty(&self.password),
                from_address: self.from_address.trim().to_string(),
                from_name: non_empty(&self.from_name),
                tls,
                timeout: Duration::from_secs(30),
            },
            skip_verify: self.skip_verify,
        }))
    }
}

impl Settings {
    /// Every setting as `section.key = default`, in declaration order (for the docs check).
    pub fn documented_defaults() -> Vec<(String, String)> {
        let table = toml::Value::try_from(Settings::default()).expect("defaults serialize");
        let mut out = Vec::new();
        if let toml::Value::Table(sections) = table {
            for (section, values) in sections {
                if let toml::Value::Table(values) = values {
                    for (key, value) in values {
                        out.push((format!("{section}.{key}"), value.to_string()));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn smtp_takes_grafanas_names_and_hides_its_password() {
        let dir = std::env::temp_dir().join(format!("pharos-smtp-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("p.toml");
        std::fs::write(
            &file,
            "[smtp]\nenabled = true\nhost = \"mail.example.com:587\"\nuser = \"u\"\n\
             startTLS_policy = \"MandatoryStartTLS\"\nskip_verify = true\n",
        )
        .unwrap();
        let s = Settings::load(
            Some(&file),
            env(&[("PHAROS_SMTP_PASSWORD", "hunter2")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.smtp.password, "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let config = s.validate().unwrap();
        let smtp = config.smtp.clone().unwrap();
        assert_eq!(smtp.config.host, "mail.example.com");
        assert_eq!(smtp.config.port, 587);
        assert_eq!(smtp.config.username.as_deref(), Some("u"));
        assert_eq!(smtp.config.password.as_deref(), Some("hunter2"));
        assert_eq!(smtp.config.tls, pharos_alerting::notify::SmtpTls::StartTls);
        assert!(smtp.skip_verify);
        std::fs::remove_dir_all(&dir).unwrap();
        // Off: no server, whatever else is set.
        let off = Settings::load(None, env(&[]), &Overrides::default()).unwrap();
        assert!(off.validate().unwrap().smtp.is_none());
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = std::env::temp_dir().join(format!("pharos-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("p.toml");
        std::fs::write(
            &file,
            "[server]\nlisten = \"127.0.0.1:4000\"\n[database]\nmax_connections = 3\n",
        )
        .unwrap();
        let s = Settings::load(
            Some(&file),
            env(&[("PHAROS_DATABASE_MAX_CONNECTIONS", "7"), ("OTHER", "x")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:4000");
        assert_eq!(s.database.max_connections, 7);
        let s = Settings::load(
            Some(&file),
            env(&[("PHAROS_SERVER_LISTEN", "127.0.0.1:5000")]),
            &Overrides {
                listen: Some("127.0.0.1:6000".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:6000");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_settings_are_named() {
        let err = Settings::load(
            None,
            env(&[("PHAROS_DATABASE_MAX_CONNECTIONS", "many")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(err.name, "PHAROS_DATABASE_MAX_CONNECTIONS");
        let err = Settings::load(
            None,
            env(&[("PHAROS_SERVER_MAX_BODY_BYTES", "-5")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(err.name, "PHAROS_SERVER_MAX_BODY_BYTES");
        let err = Settings::load(
            None,
            env(&[("PHAROS_SERVER_LISTN", "x")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("listn"), "{err}");
        // Other tools' variables that share the prefix are not settings.
        let others = env(&[("PHAROS_BIN", "/x"), ("PHAROS_TEST_VENV", "/y")]);
        assert!(Settings::load(None, others, &Overrides::default()).is_ok());
        let mut s = Settings::default();
        s.server.listen = "nowhere".into();
        assert_eq!(s.validate().unwrap_err().name, "server.listen");
        let mut s = Settings::default();
        s.auth.session_max_lifetime = "forever".into();
        assert_eq!(s.validate().unwrap_err().name, "auth.session_max_lifetime");
        let mut s = Settings::default();
        s.database.url = "mysql://x".into();
        assert_eq!(s.validate().unwrap_err().name, "database.url");
        let mut s = Settings::default();
        s.cluster.member_timeout = "6s".into();
        assert_eq!(s.validate().unwrap_err().name, "cluster.member_timeout");
        let mut s = Settings::default();
        s.cluster.lease_ttl = "500ms".into();
        assert_eq!(s.validate().unwrap_err().name, "cluster.lease_ttl");
        let s = Settings::load(
            None,
            env(&[("PHAROS_CLUSTER_HEARTBEAT_INTERVAL", "1s")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            s.validate().unwrap().heartbeat_interval,
            Duration::from_secs(1)
        );
    }

    #[test]
    fn drain_settings_parse_and_the_drain_period_may_be_zero() {
        let c = Settings::default().validate().unwrap();
        assert_eq!(c.drain_period, Duration::from_secs(5));
        assert_eq!(c.shutdown_timeout, Duration::from_secs(30));
        assert!(
            c.acquire_timeout <= Duration::from_secs(3),
            "requests must fail fast"
        );
        let s = Settings::load(
            None,
            env(&[
                ("PHAROS_SERVER_DRAIN_PERIOD", "0s"),
                ("PHAROS_SERVER_SHUTDOWN_TIMEOUT", "250ms"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        let c = s.validate().unwrap();
        assert_eq!(c.drain_period, Duration::ZERO);
        assert_eq!(c.shutdown_timeout, Duration::from_millis(250));
        let mut s = Settings::default();
        s.server.shutdown_timeout = "0s".into();
        assert_eq!(s.validate().unwrap_err().name, "server.shutdown_timeout");
        let mut s = Settings::default();
        s.server.drain_period = "soon".into();
        assert_eq!(s.validate().unwrap_err().name, "server.drain_period");
    }

    #[test]
    fn versions_to_keep_is_at_least_one() {
        assert_eq!(Settings::default().dashboards.versions_to_keep, 20);
        let s = Settings::load(
            None,
            env(&[("PHAROS_DASHBOARDS_VERSIONS_TO_KEEP", "0")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            s.validate().unwrap_err().name,
            "dashboards.versions_to_keep"
        );
        let s = Settings::load(
            None,
            env(&[("PHAROS_DASHBOARDS_VERSIONS_TO_KEEP", "1")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.validate().unwrap().raw.dashboards.versions_to_keep, 1);
    }

    #[test]
    fn https_root_url_makes_cookies_secure() {
        let mut s = Settings::default();
        assert!(!s.clone().validate().unwrap().cookie_secure);
        s.server.root_url = "https://dash.example.com/".into();
        assert!(s.validate().unwrap().cookie_secure);
    }

    #[test]
    fn every_setting_is_documented_with_its_default() {
        let doc = include_str!("../../../docs/configuration.md");
        for (name, default) in Settings::documented_defaults() {
            assert!(
                doc.contains(&format!("`{name}`")),
                "docs/configuration.md lacks `{name}`"
            );
            assert!(
                doc.contains(&format!("`{default}`")),
                "docs/configuration.md lacks the default `{default}` of {name}"
            );
        }
    }
}
