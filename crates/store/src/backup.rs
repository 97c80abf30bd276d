//! Backups: one portable, versioned, compressed file holding every durable row, written from one
//! read transaction and restored in one write transaction, between databases of either kind.
//!
//! The file is gzip over JSON lines:
//!
//! ```text
//! {"format":"pharos-backup","version":1,"created":…,"backend":"sqlite","schema":20261125000007,"secretKeyCheck":"…"}
//! {"table":"orgs","columns":["id","name",…]}
//! [1,"Main Org.",…]                      one JSON array per row; a blob is {"base64":"…"}
//! {"end":"orgs","rows":1}
//! …                                      every table of [`BACKUP_TABLES`], parents first
//! {"sha256":"…","tables":22,"rows":12345}
//! ```
//!
//! The trailer's SHA-256 covers every byte before it (uncompressed), so a truncated or altered
//! file is refused; gzip's own CRC catches most damage earlier. A restore checks the header
//! (format, version, the schema it needs, the `secret_key` check value) before it writes, inserts
//! inside one transaction, and commits only after the trailer matched: a bad file leaves the
//! target as it was.
//!
//! What is not kept: sessions, login attempts, idempotency keys, the change feed, cluster members
//! and leases — state of running replicas, not of the installation. Users sign in again after a
//! restore.
//!
//! Columns are read and written by name, so a backup taken at an older schema restores into a
//! newer one (columns it lacks take their defaults); a backup from a newer schema than this binary
//! knows is refused.

use std::collections::HashMap;
use std::io::Write;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::AnyTypeInfoKind;
use sqlx::{Any, Row, Transaction, ValueRef};

use crate::{now_ms, Backend, Store, StoreError, StoreResult};

pub const BACKUP_FORMAT: &str = "pharos-backup";
/// The file layout's version; a restore refuses files with a higher one.
pub const BACKUP_FORMAT_VERSION: u32 = 1;

/// Every table a backup holds, parents before children (restore inserts in this order and
/// deletes in the reverse).
pub const BACKUP_TABLES: &[&str] = &[
    "orgs",
    "users",
    "org_users",
    "service_accounts",
    "api_tokens",
    "folders",
    "dashboards",
    "dashboard_versions",
    "dashboard_tags",
    "stars",
    "datasources",
    "secret_key_check",
    "provisioned",
    "alert_rule_groups",
    "alert_rules",
    "alert_instances",
    "alert_state_history",
    "contact_points",
    "notification_policies",
    "silences",
    "notification_groups",
    "notification_log",
];

/// Tables whose rows make a database "not empty" for a restore without `force`.
const CONTENT_TABLES: &[&str] = &[
    "users",
    "service_accounts",
    "folders",
    "dashboards",
    "datasources",
    "alert_rules",
    "contact_points",
];

/// Rows per multi-row INSERT (kept well under SQLite's and PostgreSQL's bind limits).
const MAX_BINDS_PER_INSERT: usize = 900;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("backup file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not a backup, is damaged or truncated, or does not fit this server.
    #[error("{0}")]
    Invalid(String),
    /// The target database already holds data and the restore was not forced.
    #[error("{0}")]
    NotEmpty(String),
}

pub type BackupResult<T> = Result<T, BackupError>;

fn invalid(message: impl Into<String>) -> BackupError {
    BackupError::Invalid(message.into())
}

/// The first line of a backup file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BackupHeader {
    pub format: String,
    pub version: u32,
    /// When the snapshot was taken, epoch milliseconds.
    pub created: i64,
    /// The database it was taken from: `sqlite` or `postgres`.
    pub backend: String,
    /// The newest migration of the database it was taken from.
    pub schema: i64,
    /// The `secret_key` check value the encrypted secrets in it need (none when the database
    /// never stored a secret).
    pub secret_key_check: Option<String>,
}

/// Rows per table, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupCounts {
    pub tables: Vec<(String, u64)>,
}

impl BackupCounts {
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }

    pub fn get(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// Progress of a long backup or restore: the table being copied and rows done in it so far.
pub type Progress<'a> = &'a mut (dyn FnMut(&str, u64) + Send);

/// Compressed bytes are handed on in chunks of about this size.
const CHUNK: usize = 64 * 1024;

/// Compresses lines, hashes every byte of them (for the trailer), and sends the compressed bytes
/// on in chunks, waiting while the reader is behind (an HTTP client, a file).
struct ChunkedWriter {
    encoder: flate2::write::GzEncoder<Vec<u8>>,
    hash: Sha256,
    out: tokio::sync::mpsc::Sender<Vec<u8>>,
}

impl ChunkedWriter {
    async fn line(&mut self, value: &impl Serialize) -> BackupResult<()> {
        let mut bytes = serde_json::to_vec(value).map_err(|e| invalid(e.to_string()))?;
        bytes.push(b'\n');
        self.hash.update(&bytes);
        self.encoder.write_all(&bytes)?;
        if self.encoder.get_ref().len() >= CHUNK {
            let chunk = std::mem::take(self.encoder.get_mut());
            send_chunk(&self.out, chunk).await?;
        }
        Ok(())
    }

    async fn finish(self) -> BackupResult<()> {
        let rest = self.encoder.finish()?;
        if !rest.is_empty() {
            send_chunk(&self.out, rest).await?;
        }
        Ok(())
    }
}

async fn send_chunk(out: &tokio::sync::mpsc::Sender<Vec<u8>>, chunk: Vec<u8>) -> BackupResult<()> {
    out.send(chunk).await.map_err(|_| {
        BackupError::Io(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "the backup's reader went away",
        ))
    })
}

#[derive(Serialize, Deserialize)]
struct TableStart {
    table: String,
    columns: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct TableEnd {
    end: String,
    rows: u64,
}

#[derive(Serialize, Deserialize)]
struct Trailer {
    sha256: String,
    tables: usize,
    rows: u64,
}

/// One row value as the file holds it.
fn value_of(row: &sqlx::any::AnyRow, index: usize) -> BackupResult<Value> {
    let raw = row.try_get_raw(index).map_err(StoreError::from)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().kind();
    Ok(match kind {
        AnyTypeInfoKind::Bool => {
            Value::from(row.try_get::<bool, _>(index).map_err(StoreError::from)?)
        }
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            Value::from(row.try_get::<i64, _>(index).map_err(StoreError::from)?)
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
            Value::from(row.try_get::<f64, _>(index).map_err(StoreError::from)?)
        }
        AnyTypeInfoKind::Text => {
            Value::from(row.try_get::<String, _>(index).map_err(StoreError::from)?)
        }
        AnyTypeInfoKind::Blob => {
            let bytes: Vec<u8> = row.try_get(index).map_err(StoreError::from)?;
            serde_json::json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
        }
        AnyTypeInfoKind::Null => Value::Null,
    })
}

/// The kind of value a target column takes, from the database's catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Int,
    Float,
    Text,
    Blob,
    Bool,
}

fn column_kind(declared: &str) -> ColumnKind {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        ColumnKind::Int
    } else if t.contains("bool") {
        ColumnKind::Bool
    } else if t.contains("bytea") || t.contains("blob") {
        ColumnKind::Blob
    } else if t.contains("real")
        || t.contains("double")
        || t.contains("float")
        || t.contains("numeric")
    {
        ColumnKind::Float
    } else {
        ColumnKind::Text
    }
}

/// The columns of `table` in the connected database, in order, with their kinds.
async fn columns_of(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    table: &str,
) -> BackupResult<Vec<(String, ColumnKind)>> {
    let rows: Vec<(String, String)> = match backend {
        Backend::Sqlite => {
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                .bind(table.to_string())
                .fetch_all(&mut **tx)
                .await
        }
        Backend::Postgres => {
            sqlx::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table.to_string())
            .fetch_all(&mut **tx)
            .await
        }
    }
    .map_err(StoreError::from)?;
    if rows.is_empty() {
        return Err(invalid(format!("the database has no table {table}")));
    }
    Ok(rows
        .into_iter()
        .map(|(name, declared)| (name, column_kind(&declared)))
        .collect())
}

/// The newest applied migration.
async fn schema_version(tx: &mut Transaction<'static, Any>) -> BackupResult<i64> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&mut **tx)
            .await
            .map_err(StoreError::from)?;
    version.ok_or_else(|| invalid("the database has no migrations applied"))
}

/// The newest migration this binary carries.
pub fn latest_schema(backend: Backend) -> i64 {
    let migrator = match backend {
        Backend::Sqlite => &crate::SQLITE_MIGRATIONS,
        Backend::Postgres => &crate::POSTGRES_MIGRATIONS,
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Identifiers cannot be bound as parameters: table names come from [`BACKUP_TABLES`] and column
/// names from the database's own catalog, never from a file unchecked, and are quoted besides.
fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

impl Store {
    /// Sends a consistent snapshot of every table of [`BACKUP_TABLES`] to `out`, as chunks of the
    /// file (gzip, see the module documentation), from one read transaction, so replicas may keep
    /// writing meanwhile. A bounded channel makes a slow reader slow the backup down, not fill
    /// memory.
    pub async fn backup(
        &self,
        out: tokio::sync::mpsc::Sender<Vec<u8>>,
        progress: Progress<'_>,
    ) -> BackupResult<BackupCounts> {
        let mut tx = match self.backend() {
            // A deferred transaction in WAL mode reads one snapshot from its first SELECT on.
            Backend::Sqlite => self.pool().begin().await.map_err(StoreError::from)?,
            Backend::Postgres => {
                let mut tx = self.pool().begin().await.map_err(StoreError::from)?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
                tx
            }
        };
        let schema = schema_version(&mut tx).await?;
        let secret_key_check: Option<String> =
            sqlx::query_scalar("SELECT check_value FROM secret_key_check WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        let mut file = ChunkedWriter {
            encoder: flate2::write::GzEncoder::new(
                Vec::with_capacity(CHUNK * 2),
                flate2::Compression::default(),
            ),
            hash: Sha256::new(),
            out,
        };
        file.line(&BackupHeader {
            format: BACKUP_FORMAT.into(),
            version: BACKUP_FORMAT_VERSION,
            created: now_ms(),
            backend: self.backend().as_str().into(),
            schema,
            secret_key_check,
        })
        .await?;
        let mut counts = BackupCounts::default();
        for table in BACKUP_TABLES {
            let columns = columns_of(&mut tx, self.backend(), table).await?;
            let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            file.line(&TableStart {
                table: (*table).into(),
                columns: names.clone(),
            })
            .await?;
            let select = format!(
                "SELECT {} FROM {} ORDER BY 1",
                names
                    .iter()
                    .map(|n| quoted(n))
                    .collect::<Vec<_>>()
                    .join(", "),
                quoted(table)
            );
            let mut rows = 0u64;
            {
                use futures_util::TryStreamExt;
                let mut stream = sqlx::query(&select).fetch(&mut *tx);
                while let Some(row) = stream.try_next().await.map_err(StoreError::from)? {
                    let values = (0..names.len())
                        .map(|i| value_of(&row, i))
                        .collect::<BackupResult<Vec<Value>>>()?;
                    file.line(&values).await?;
                    rows += 1;
                    if rows.is_multiple_of(10_000) {
                        progress(table, rows);
                    }
                }
            }
            file.line(&TableEnd {
                end: (*table).into(),
                rows,
            })
            .await?;
            progress(table, rows);
            counts.tables.push(((*table).into(), rows));
        }
        let trailer = Trailer {
            sha256: hex::encode(file.hash.clone().finalize()),
            tables: counts.tables.len(),
            rows: counts.total(),
        };
        file.line(&trailer).await?;
        file.finish().await?;
        tx.rollback().await.map_err(StoreError::from)?;
        Ok(counts)
    }

    /// Restores a backup written by [`Store::backup`] into this (migrated) database, in one
    /// transaction. Refuses a database holding data unless `force` (then its rows in the backed-up
    /// tables are replaced), a file of a newer format or schema, and one whose secrets need
    /// another `secret_key` than `secret_key_check` (the check value of the key this server runs
    /// with; `None` when copying a database as it is, secrets and their check together); a
    /// damaged or truncated file is refused when found, with nothing written.
    pub async fn restore(
        &self,
        input: BackupChunks,
        secret_key_check: Option<&str>,
        force: bool,
        progress: Progress<'_>,
    ) -> BackupResult<BackupCounts> {
        let mut lines = LineReader::new(input);
        let header: BackupHeader = lines
            .next_json()
            .await?
            .ok_or_else(|| invalid("the file is empty"))?;
        check_header(&header, self.backend(), secret_key_check)?;

        let mut tx = self.begin_write().await?;
        if !force {
            for table in CONTENT_TABLES {
                let sql = format!("SELECT count(*) FROM {}", quoted(table));
                let n: i64 = sqlx::query_scalar(&sql)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
                if n > 0 {
                    return Err(BackupError::NotEmpty(format!(
                        "the target database is not empty ({table} has {n} rows): restore into an empty database, or pass --force to replace its contents"
                    )));
                }
            }
        }
        if self.backend() == Backend::Postgres {
            // Parents are inserted before children; constraints declared deferrable (and, on
            // SQLite, every foreign key) are checked at commit besides, so a row referring to a
            // later row of its own table restores too.
            sqlx::query("SET CONSTRAINTS ALL DEFERRED")
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        } else {
            sqlx::query("PRAGMA defer_foreign_keys = ON")
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        for table in BACKUP_TABLES.iter().rev() {
            sqlx::query(&format!("DELETE FROM {}", quoted(table)))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }

        let mut counts = BackupCounts::default();
        let mut expected = BACKUP_TABLES.iter();
        loop {
            let Some(line) = lines.next_value().await? else {
                return Err(invalid(
                    "the file is truncated: its checksum line is missing",
                ));
            };
            if line.get("sha256").is_some() {
                let trailer: Trailer = serde_json::from_value(line)
                    .map_err(|e| invalid(format!("checksum line: {e}")))?;
                if trailer.sha256 != lines.hash_before_last() {
                    return Err(invalid(
                        "the file is damaged: its checksum does not match its contents",
                    ));
                }
                if trailer.rows != counts.total() || trailer.tables != counts.tables.len() {
                    return Err(invalid("the file is damaged: its row counts do not match"));
                }
                break;
            }
            let start: TableStart = serde_json::from_value(line)
                .map_err(|e| invalid(format!("expected a table's first line: {e}")))?;
            if expected.next() != Some(&start.table.as_str()) {
                return Err(invalid(format!(
                    "unexpected table {} in the file",
                    start.table
                )));
            }
            let rows = restore_table(&mut tx, self.backend(), &start, &mut lines, progress).await?;
            counts.tables.push((start.table, rows));
        }
        if lines.next_value().await?.is_some() {
            return Err(invalid("the file has data after its checksum line"));
        }
        if let Some(missing) = expected.next() {
            return Err(invalid(format!("the file has no table {missing}")));
        }
        if self.backend() == Backend::Postgres {
            reset_identities(&mut tx).await?;
        }
        crate::changes::record(&mut tx, 0, "restore", "", "restore").await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(counts)
    }

    /// Reads a backup file through and checks it (format, checksum, counts) without writing.
    pub async fn verify_backup(input: BackupChunks) -> BackupResult<(BackupHeader, BackupCounts)> {
        let mut lines = LineReader::new(input);
        let header: BackupHeader = lines
            .next_json()
            .await?
            .ok_or_else(|| invalid("the file is empty"))?;
        check_format(&header)?;
        let mut counts = BackupCounts::default();
        let mut current: Option<(String, u64)> = None;
        loop {
            let line = lines
                .next_value()
                .await?
                .ok_or_else(|| invalid("the file is truncated: its checksum line is missing"))?;
            match (&mut current, line) {
                (Some((_, rows)), Value::Array(_)) => *rows += 1,
                (Some(_), line) => {
                    let end: TableEnd = serde_json::from_value(line)
                        .map_err(|e| invalid(format!("expected a row or a table's end: {e}")))?;
                    let (table, rows) = current.take().unwrap_or_default();
                    if end.end != table || end.rows != rows {
                        return Err(invalid(format!("the file is damaged in table {table}")));
                    }
                    counts.tables.push((table, rows));
                }
                (None, line) if line.get("sha256").is_some() => {
                    let trailer: Trailer = serde_json::from_value(line)
                        .map_err(|e| invalid(format!("checksum line: {e}")))?;
                    if trailer.sha256 != lines.hash_before_last() {
                        return Err(invalid(
                            "the file is damaged: its checksum does not match its contents",
                        ));
                    }
                    return Ok((header, counts));
                }
                (None, line) => {
                    let start: TableStart = serde_json::from_value(line)
                        .map_err(|e| invalid(format!("expected a table's first line: {e}")))?;
                    current = Some((start.table, 0));
                }
            }
        }
    }

    /// Rows per table of [`BACKUP_TABLES`] in this database (for comparing after a copy).
    pub async fn backup_table_counts(&self) -> StoreResult<BackupCounts> {
        let mut counts = BackupCounts::default();
        for table in BACKUP_TABLES {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quoted(table)))
                .fetch_one(self.pool())
                .await?;
            counts
                .tables
                .push(((*table).into(), u64::try_from(n).unwrap_or(0)));
        }
        Ok(counts)
    }
}

fn check_format(header: &BackupHeader) -> BackupResult<()> {
    if header.format != BACKUP_FORMAT {
        return Err(invalid(format!(
            "not a Pharos backup (format {:?})",
            header.format
        )));
    }
    if header.version > BACKUP_FORMAT_VERSION {
        return Err(invalid(format!(
            "the backup has format version {}, newer than this Pharos reads ({BACKUP_FORMAT_VERSION}): upgrade Pharos to restore it",
            header.version
        )));
    }
    Ok(())
}

fn check_header(
    header: &BackupHeader,
    target: Backend,
    secret_key_check: Option<&str>,
) -> BackupResult<()> {
    check_format(header)?;
    let latest = latest_schema(target);
    if header.schema > latest {
        return Err(invalid(format!(
            "the backup was taken at schema {}, newer than this Pharos knows ({latest}): upgrade Pharos to restore it",
            header.schema
        )));
    }
    if let (Some(needed), Some(ours)) = (&header.secret_key_check, secret_key_check) {
        if needed != ours {
            return Err(invalid(
                "the backup's secrets were encrypted with another secret_key: run the restore with the secret_key of the server it came from",
            ));
        }
    }
    Ok(())
}

/// Inserts one table's rows (the lines after its [`TableStart`] up to its [`TableEnd`]).
async fn restore_table(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    start: &TableStart,
    lines: &mut LineReader,
    progress: Progress<'_>,
) -> BackupResult<u64> {
    let target: HashMap<String, ColumnKind> = columns_of(tx, backend, &start.table)
        .await?
        .into_iter()
        .collect();
    let mut kinds = Vec::with_capacity(start.columns.len());
    for column in &start.columns {
        match target.get(column) {
            Some(kind) => kinds.push(*kind),
            None => {
                return Err(invalid(format!(
                    "the backup has a column {}.{column} this database does not have",
                    start.table
                )))
            }
        }
    }
    let rows_per_insert = (MAX_BINDS_PER_INSERT / kinds.len().max(1)).max(1);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(rows_per_insert);
    let mut rows = 0u64;
    loop {
        let line = lines
            .next_value()
            .await?
            .ok_or_else(|| invalid(format!("the file is truncated in table {}", start.table)))?;
        match line {
            Value::Array(values) => {
                if values.len() != kinds.len() {
                    return Err(invalid(format!(
                        "a row of {} has {} values for {} columns",
                        start.table,
                        values.len(),
                        kinds.len()
                    )));
                }
                batch.push(values);
                rows += 1;
                if batch.len() == rows_per_insert {
                    insert_rows(tx, &start.table, &start.columns, &kinds, &batch).await?;
                    batch.clear();
                }
                if rows.is_multiple_of(10_000) {
                    progress(&start.table, rows);
                }
            }
            line => {
                let end: TableEnd = serde_json::from_value(line)
                    .map_err(|e| invalid(format!("expected a row of {}: {e}", start.table)))?;
                if end.end != start.table || end.rows != rows {
                    return Err(invalid(format!(
                        "the file is damaged in table {}: {} rows read, {} announced",
                        start.table, rows, end.rows
                    )));
                }
                if !batch.is_empty() {
                    insert_rows(tx, &start.table, &start.columns, &kinds, &batch).await?;
                }
                progress(&start.table, rows);
                return Ok(rows);
            }
        }
    }
}

async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    columns: &[String],
    kinds: &[ColumnKind],
    rows: &[Vec<Value>],
) -> BackupResult<()> {
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        quoted(table),
        columns
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut n = 0;
    for (r, _) in rows.iter().enumerate() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    let mut query = sqlx::query(&sql);
    for row in rows {
        for ((value, kind), column) in row.iter().zip(kinds).zip(columns) {
            query = bind_value(query, value, *kind)
                .map_err(|why| invalid(format!("{table}.{column}: {why}")))?;
        }
    }
    query.execute(&mut **tx).await.map_err(StoreError::from)?;
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_value<'q>(
    query: AnyQuery<'q>,
    value: &Value,
    kind: ColumnKind,
) -> Result<AnyQuery<'q>, String> {
    Ok(match (kind, value) {
        (ColumnKind::Int, Value::Null) => query.bind(None::<i64>),
        (ColumnKind::Float, Value::Null) => query.bind(None::<f64>),
        (ColumnKind::Text, Value::Null) => query.bind(None::<String>),
        (ColumnKind::Blob, Value::Null) => query.bind(None::<Vec<u8>>),
        (ColumnKind::Bool, Value::Null) => query.bind(None::<bool>),
        (ColumnKind::Int, Value::Number(n)) => query.bind(n.as_i64().ok_or("not an integer")?),
        (ColumnKind::Int, Value::Bool(b)) => query.bind(i64::from(*b)),
        (ColumnKind::Float, Value::Number(n)) => query.bind(n.as_f64().ok_or("not a number")?),
        (ColumnKind::Bool, Value::Bool(b)) => query.bind(*b),
        (ColumnKind::Bool, Value::Number(n)) => query.bind(n.as_i64().ok_or("not a boolean")? != 0),
        (ColumnKind::Text, Value::String(s)) => query.bind(s.clone()),
        (ColumnKind::Blob, Value::Object(o)) => {
            let encoded = o
                .get("base64")
                .and_then(Value::as_str)
                .ok_or("not a blob")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| format!("bad base64: {e}"))?;
            query.bind(bytes)
        }
        (ColumnKind::Blob, Value::String(s)) => query.bind(s.as_bytes().to_vec()),
        (kind, value) => return Err(format!("a {kind:?} column cannot take {value}")),
    })
}

/// Moves PostgreSQL's identity sequences past the restored ids, so new rows get fresh ones.
async fn reset_identities(tx: &mut Transaction<'static, Any>) -> BackupResult<()> {
    for table in BACKUP_TABLES {
        let has_identity: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = $1 AND column_name = 'id' AND is_identity = 'YES'",
        )
        .bind(table.to_string())
        .fetch_one(&mut **tx)
        .await
        .map_err(StoreError::from)?;
        if has_identity == 0 {
            continue;
        }
        // setval(seq, max, is_called): the next id is max + 1, or 1 for an empty table.
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, 'id'), coalesce((SELECT max(id) FROM {}), 0) + 1, false)",
            quoted(table)
        );
        sqlx::query(&sql)
            .bind(table.to_string())
            .execute(&mut **tx)
            .await
            .map_err(StoreError::from)?;
    }
    Ok(())
}

/// The compressed file as chunks, in order (a file read on a thread, an upload, a running backup).
pub type BackupChunks = tokio::sync::mpsc::Receiver<Vec<u8>>;

/// Reads a backup's lines from its compressed chunks, hashing each, and remembers the hash of
/// everything before the last line read (what the trailer's checksum covers). Decompression is
/// pushed chunk by chunk, so reading never blocks a thread.
struct LineReader {
    input: BackupChunks,
    decoder: flate2::write::GzDecoder<Vec<u8>>,
    /// Decompressed bytes not yet returned, from `start`.
    pending: Vec<u8>,
    start: usize,
    ended: bool,
    hash: Sha256,
    before_last: Sha256,
    line: Vec<u8>,
}

fn gzip_error(e: std::io::Error) -> BackupError {
    invalid(format!(
        "the file is damaged, truncated or not a Pharos backup (gzip: {e})"
    ))
}

impl LineReader {
    fn new(input: BackupChunks) -> Self {
        LineReader {
            input,
            decoder: flate2::write::GzDecoder::new(Vec::with_capacity(CHUNK * 4)),
            pending: Vec::new(),
            start: 0,
            ended: false,
            hash: Sha256::new(),
            before_last: Sha256::new(),
            line: Vec::with_capacity(4096),
        }
    }

    async fn next_line(&mut self) -> BackupResult<Option<&[u8]>> {
        loop {
            if let Some(at) = self.pending[self.start..].iter().position(|b| *b == b'\n') {
                let end = self.start + at + 1;
                self.line.clear();
                self.line.extend_from_slice(&self.pending[self.start..end]);
                self.start = end;
                self.before_last = self.hash.clone();
                self.hash.update(&self.line);
                return Ok(Some(&self.line));
            }
            if self.ended {
                return if self.start < self.pending.len() {
                    Err(invalid(
                        "the file is truncated: its last line is incomplete",
                    ))
                } else {
                    Ok(None)
                };
            }
            self.pending.drain(..self.start);
            self.start = 0;
            match self.input.recv().await {
                Some(chunk) => self.decoder.write_all(&chunk).map_err(gzip_error)?,
                None => {
                    // Checks gzip's own length and CRC-32: a cut file fails here at the latest.
                    self.decoder.try_finish().map_err(gzip_error)?;
                    self.ended = true;
                }
            }
            self.pending.append(self.decoder.get_mut());
        }
    }

    async fn next_value(&mut self) -> BackupResult<Option<Value>> {
        match self.next_line().await? {
            None => Ok(None),
            Some(line) => serde_json::from_slice(line)
                .map(Some)
                .map_err(|e| invalid(format!("the file is damaged: a line is not JSON ({e})"))),
        }
    }

    async fn next_json<T: for<'de> Deserialize<'de>>(&mut self) -> BackupResult<Option<T>> {
        match self.next_line().await? {
            None => Ok(None),
            Some(line) => serde_json::from_slice(line)
                .map(Some)
                .map_err(|_| invalid("not a Pharos backup: its first line is not a backup header")),
        }
    }

    fn hash_before_last(&self) -> String {
        hex::encode(self.before_last.clone().finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_kinds() {
        assert_eq!(column_kind("BIGINT"), ColumnKind::Int);
        assert_eq!(column_kind("bigint"), ColumnKind::Int);
        assert_eq!(column_kind("INTEGER"), ColumnKind::Int);
        assert_eq!(column_kind("text"), ColumnKind::Text);
        assert_eq!(column_kind("bytea"), ColumnKind::Blob);
        assert_eq!(column_kind("BLOB"), ColumnKind::Blob);
        assert_eq!(column_kind("double precision"), ColumnKind::Float);
        assert_eq!(column_kind("boolean"), ColumnKind::Bool);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quoted("users"), "\"users\"");
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn every_backed_up_table_is_in_the_schema_once() {
        let mut seen = std::collections::HashSet::new();
        for t in BACKUP_TABLES {
            assert!(seen.insert(t), "{t} twice");
        }
        for t in CONTENT_TABLES {
            assert!(BACKUP_TABLES.contains(t), "{t}");
        }
    }
}
