//! `pharos`: the server and its admin commands.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pharos_server::config::{Overrides, Settings};

#[derive(Parser)]
#[command(
    name = "pharos",
    version,
    about = "A highly available, Grafana-compatible dashboard server"
)]
struct Cli {
    /// Settings file (TOML). Default: pharos.toml in the working directory, when present.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Overrides [server] listen.
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<String>,
    /// Overrides [database] url.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Overrides [log] format: text or json.
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Write a consistent backup of the database (every durable row, one compressed file).
    Backup {
        /// The file to write (`-` for standard output).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a backup into the configured database (empty, unless --force).
    Restore {
        /// The backup file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Replace what the database holds.
        #[arg(long)]
        force: bool,
    },
    /// Copy every durable row from one database to another (e.g. SQLite to PostgreSQL).
    MigrateDb {
        /// The database to copy (sqlite://... or postgres://...).
        #[arg(long, value_name = "URL")]
        from: String,
        /// The database to copy into: empty, unless --force.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Replace what the target database holds.
        #[arg(long)]
        force: bool,
    },
    /// Import folders, dashboards, datasources and alert rules from a running Grafana (or any
    /// server speaking its API) through its HTTP API; a second run changes nothing.
    ImportGrafana {
        /// The source's base URL, e.g. http://grafana:3000.
        #[arg(long, value_name = "URL")]
        url: String,
        /// A service account token (or API key) of the source, with Admin role to see everything.
        #[arg(
            long,
            value_name = "TOKEN",
            env = "GRAFANA_TOKEN",
            hide_env_values = true
        )]
        token: String,
        /// The org of this Pharos to import into.
        #[arg(long, default_value_t = 1)]
        org_id: i64,
    },
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the password of the admin user (security.admin_user), revoking its sessions.
    ResetAdminPassword {
        /// The new password; read from standard input when omitted.
        #[arg(long)]
        password: Option<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        listen: cli.listen.clone(),
        database_url: cli.database_url.clone(),
        log_format: cli.log_format.clone(),
    };
    let config = match Settings::load(cli.config.as_deref(), std::env::vars(), &overrides)
        .and_then(Settings::validate)
    {
        Ok(config) => config,
        Err(e) => {
            eprintln!("pharos: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    pharos_server::telemetry::init_logging(&config.raw.log.format, &config.raw.log.level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pharos: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => pharos_server::serve(config).await,
            Command::Migrate => pharos_server::open_store(&config).await.map(|_| ()),
            Command::Backup { out } => pharos_server::ops::backup(&config, &out).await,
            Command::Restore { input, force } => {
                pharos_server::ops::restore(&config, &input, force).await
            }
            Command::ImportGrafana { url, token, org_id } => {
                pharos_server::import_grafana::run(&config, &url, &token, org_id).await
            }
            Command::MigrateDb { from, to, force } => {
                pharos_server::ops::migrate_db(&config, &from, &to, force).await
            }
            Command::Admin {
                command: AdminCommand::ResetAdminPassword { password },
            } => reset_admin_password(config, password).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("pharos: {e:#}");
            // A setting that cannot work with this database is a configuration error, like an
            // invalid setting.
            if e.downcast_ref::<pharos_server::secrets::KeyMismatch>()
                .is_some()
            {
                std::process::ExitCode::from(2)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}

async fn reset_admin_password(
    config: pharos_server::config::Config,
    password: Option<String>,
) -> anyhow::Result<()> {
    let password = match password {
        Some(p) => p,
        None => {
            if std::io::stdin().is_terminal() {
                eprint!("New password for {}: ", config.raw.security.admin_user);
            }
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password")?;
            line.trim_end_matches(['\n', '\r']).to_string()
        }
    };
    if password.chars().count() < pharos_server::auth::password::MIN_PASSWORD_LEN {
        anyhow::bail!(
            "the password must be at least {} characters",
            pharos_server::auth::password::MIN_PASSWORD_LEN
        );
    }
    let store = pharos_server::open_store(&config).await?;
    let user = store
        .user_by_login_or_email(&config.raw.security.admin_user)
        .await
        .with_context(|| format!("finding user {}", config.raw.security.admin_user))?;
    let hash = pharos_server::auth::password::hash_password(&password).await?;
    store.set_user_password(user.id, &hash).await?;
    println!(
        "Password of {} changed; its sessions are revoked.",
        user.login
    );
    Ok(())
}
