//! The operator's commands of the `pharos` binary: `backup`, `restore` and `migrate-db`. The work is
//! in `pharos_store::backup`; this module opens databases, files and progress lines.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use pharos_store::{BackupChunks, BackupCounts, Store, StoreOptions};

use crate::config::Config;
use crate::secrets;

/// Prints a progress line to stderr at most once a second per table (and at each table's end),
/// so a long run shows it is alive without flooding a terminal.
struct ProgressLines {
    what: &'static str,
    started: Instant,
    last: Instant,
    table: String,
}

impl ProgressLines {
    fn new(what: &'static str) -> Self {
        let now = Instant::now();
        ProgressLines {
            what,
            started: now,
            last: now,
            table: String::new(),
        }
    }

    fn report(&mut self, table: &str, rows: u64) {
        let new_table = self.table != table;
        if new_table {
            self.table = table.to_string();
        }
        if new_table || self.last.elapsed() >= Duration::from_secs(1) {
            self.last = Instant::now();
            eprintln!(
                "{}: {table}: {rows} rows ({:.1} s)",
                self.what,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// `pharos backup --out FILE` (`-` for standard output).
pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    let store = crate::open_store(config).await?;
    let started = Instant::now();
    let to_stdout = out == Path::new("-");
    // Written next to the target and renamed at the end, so a failed run never leaves a file
    // that looks like a complete backup.
    let partial = out.with_extension("partial");
    let mut file: Box<dyn Write + Send> = if to_stdout {
        Box::new(std::io::stdout())
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(&partial)
                .with_context(|| format!("creating {}", partial.display()))?,
        ))
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        let mut bytes = 0u64;
        while let Some(chunk) = rx.blocking_recv() {
            file.write_all(&chunk)?;
            bytes += chunk.len() as u64;
        }
        file.flush()?;
        Ok(bytes)
    });
    let mut progress = ProgressLines::new("backup");
    let counts = store
        .backup(tx, &mut |table, rows| progress.report(table, rows))
        .await;
    let written = writer.await.context("the file writer failed")?;
    let counts = match (counts, written) {
        (Ok(counts), Ok(bytes)) => {
            if !to_stdout {
                std::fs::rename(&partial, out).with_context(|| {
                    format!("renaming {} to {}", partial.display(), out.display())
                })?;
            }
            eprintln!(
                "backup: {} rows of {} tables, {} bytes, in {:.1} s{}",
                counts.total(),
                counts.tables.len(),
                bytes,
                started.elapsed().as_secs_f64(),
                if to_stdout {
                    String::new()
                } else {
                    format!(" → {}", out.display())
                }
            );
            counts
        }
        (Err(e), _) => {
            let _ = std::fs::remove_file(&partial);
            return Err(anyhow::anyhow!("backup failed: {e}"));
        }
        (_, Err(e)) => {
            let _ = std::fs::remove_file(&partial);
            return Err(anyhow::anyhow!("writing {}: {e}", out.display()));
        }
    };
    // Standard output may be the backup itself.
    for (table, rows) in &counts.tables {
        eprintln!("{table:<24} {rows:>10}");
    }
    store.close().await;
    Ok(())
}

/// `pharos restore --in FILE [--force]`.
pub async fn restore(config: &Config, input: &Path, force: bool) -> anyhow::Result<()> {
    // The file is checked through before the database is even opened: a bad file changes nothing.
    let (header, _) = Store::verify_backup(read_chunks(input)?)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    eprintln!(
        "restore: {} is a Pharos backup from {} ({}), format {}, schema {}",
        input.display(),
        crate::api::rfc3339(header.created),
        header.backend,
        header.version,
        header.schema
    );
    let store = crate::open_store(config).await?;
    let started = Instant::now();
    let mut progress = ProgressLines::new("restore");
    let ours = secrets::check_value(&config.raw.security.secret_key);
    let counts = store
        .restore(
            read_chunks(input)?,
            Some(&ours),
            force,
            &mut |table, rows| progress.report(table, rows),
        )
        .await
        .map_err(|e| anyhow::anyhow!("restore failed, nothing was changed: {e}"))?;
    eprintln!(
        "restore: {} rows of {} tables in {:.1} s",
        counts.total(),
        counts.tables.len(),
        started.elapsed().as_secs_f64()
    );
    print_counts(&counts);
    store.close().await;
    Ok(())
}

/// A file's bytes as chunks over a channel, read on a blocking thread.
fn read_chunks(path: &Path) -> anyhow::Result<BackupChunks> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::task::spawn_blocking(move || {
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            match file.read(&mut buffer) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.blocking_send(buffer[..n].to_vec()).is_err() {
                        return; // the restore stopped reading (it failed)
                    }
                }
                Err(e) => {
                    // Ending early makes the reader report a truncated file; say why here.
                    tracing::error!(error = %e, "reading the backup file failed");
                    eprintln!("reading the backup file failed: {e}");
                    return;
                }
            }
        }
    });
    Ok(rx)
}

/// `pharos migrate-db --from URL --to URL`: copies every durable row of one database into another
/// (empty, or replaced with `force`), as a backup streamed straight into a restore, then compares
/// the target's row counts with the snapshot's.
pub async fn migrate_db(config: &Config, from: &str, to: &str, force: bool) -> anyhow::Result<()> {
    let source = connect(config, from).await?;
    let target = connect(config, to).await?;
    target
        .migrate()
        .await
        .context("migrating the target database")?;
    let started = Instant::now();
    // The backup's chunks go straight into the restore.
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let mut backup_progress = ProgressLines::new("migrate-db: read");
    let mut restore_progress = ProgressLines::new("migrate-db: write");
    let mut report_read = |t: &str, n: u64| backup_progress.report(t, n);
    let mut report_written = |t: &str, n: u64| restore_progress.report(t, n);
    let (read, written) = tokio::join!(
        source.backup(tx, &mut report_read),
        // No secret_key check: secrets and their check value move together, unchanged.
        target.restore(rx, None, force, &mut report_written),
    );
    // A failed restore stops reading, which fails the backup too: its error is the cause.
    let written = written
        .map_err(|e| anyhow::anyhow!("writing {}, nothing was changed: {e}", crate::redact(to)))?;
    let read = read.map_err(|e| anyhow::anyhow!("reading {}: {e}", crate::redact(from)))?;
    let now = target.backup_table_counts().await?;
    let mut mismatches = Vec::new();
    for (table, rows) in &read.tables {
        if written.get(table) != *rows || now.get(table) != *rows {
            mismatches.push(format!(
                "{table}: {rows} read, {} written, {} now",
                written.get(table),
                now.get(table)
            ));
        }
    }
    print_counts(&read);
    if !mismatches.is_empty() {
        anyhow::bail!(
            "row counts differ after the copy: {}",
            mismatches.join("; ")
        );
    }
    eprintln!(
        "migrate-db: {} rows of {} tables copied in {:.1} s; counts equal",
        read.total(),
        read.tables.len(),
        started.elapsed().as_secs_f64()
    );
    source.close().await;
    target.close().await;
    Ok(())
}

async fn connect(config: &Config, url: &str) -> anyhow::Result<Store> {
    Store::connect(&StoreOptions {
        url: url.to_string(),
        max_connections: 4,
        acquire_timeout: config.acquire_timeout,
    })
    .await
    .with_context(|| format!("opening {}", crate::redact(url)))
}

fn print_counts(counts: &BackupCounts) {
    for (table, rows) in &counts.tables {
        println!("{table:<24} {rows:>10}");
    }
}
