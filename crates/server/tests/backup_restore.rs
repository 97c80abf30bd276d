//! `pharos backup`, `restore` and `migrate-db`, end to end through the binary: 1,000 dashboards
//! with their versions, users, service accounts and datasources go from one database into empty
//! ones of both kinds and the restored servers answer the API exactly as the original did (users
//! log in, tokens work); a backup taken through `GET /api/admin/backup` while dashboards are being
//! saved is consistent; a bad file or another secret_key is refused with nothing written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const DASHBOARDS: usize = 1000;

/// Runs `pharos ARGS` against `db` (its PHAROS_DATABASE_URL), with extra environment; returns
/// (success, stdout, stderr).
fn pharos(db: &Database, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(pharos_bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PHAROS_DATABASE_URL", &db.url)
        .env("PHAROS_LOG_LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("running pharos");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch_file(name: &str) -> PathBuf {
    scratch_dir("backup-test").join(name)
}

/// Everything a client can read of an org, with what changes by merely reading (last-seen times)
/// left out: dashboards (JSON, meta, versions), search, folders, users, org users, service
/// accounts with their tokens, datasources.
async fn api_dump(client: &Client) -> Value {
    let get = |path: String| {
        let client = client.clone();
        async move {
            let (s, body) = client.get(&path).await;
            assert_eq!(s, StatusCode::OK, "GET {path}: {body}");
            body
        }
    };
    let search = get("/api/search?limit=5000".into()).await;
    let mut uids: Vec<String> = search
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["type"] == "dash-db")
        .map(|h| h["uid"].as_str().unwrap().to_string())
        .collect();
    uids.sort();
    let mut dashboards = serde_json::Map::new();
    for chunk in uids.chunks(32) {
        let fetched = join_all(
            chunk
                .iter()
                .map(|uid| {
                    let (dashboard, versions) = (
                        get(format!("/api/dashboards/uid/{uid}")),
                        get(format!("/api/dashboards/uid/{uid}/versions?limit=100")),
                    );
                    let uid = uid.clone();
                    async move {
                        (
                            uid,
                            json!({"dashboard": dashboard.await, "versions": versions.await}),
                        )
                    }
                })
                .collect(),
        )
        .await;
        for (uid, value) in fetched {
            dashboards.insert(uid, value);
        }
    }
    let mut users = get("/api/users?perpage=1000".into()).await;
    let mut org_users = get("/api/org/users".into()).await;
    for list in [&mut users, &mut org_users] {
        for u in list.as_array_mut().unwrap() {
            let u = u.as_object_mut().unwrap();
            u.retain(|k, _| !k.starts_with("lastSeen"));
        }
    }
    let accounts = get("/api/serviceaccounts/search?perpage=1000".into()).await;
    let mut tokens = Vec::new();
    for sa in accounts["serviceAccounts"].as_array().unwrap() {
        tokens.push(get(format!("/api/serviceaccounts/{}/tokens", sa["id"])).await);
    }
    json!({
        "search": search,
        "dashboards": dashboards,
        "folders": get("/api/folders".into()).await,
        "users": users,
        "orgUsers": org_users,
        "serviceAccounts": accounts,
        "tokens": tokens,
        "datasources": get("/api/datasources".into()).await,
    })
}

/// A source with 1,000 dashboards (two versions each, in three folders and the General level,
/// tagged), three users with roles, a service account with a token, two datasources (one with a
/// secret). Returns the token's key.
async fn populate(px: &Pharos) -> String {
    let admin = px.admin();
    for (uid, title) in [("f-a", "Alpha"), ("f-b", "Beta"), ("f-c", "Gamma")] {
        let (s, b) = admin
            .post("/api/folders", json!({"uid": uid, "title": title}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let folders = ["", "f-a", "f-b", "f-c"];
    for chunk in (0..DASHBOARDS).collect::<Vec<_>>().chunks(25) {
        join_all(
            chunk
                .iter()
                .map(|&i| {
                    let admin = admin.clone();
                    async move {
                        for version in 0..2 {
                            let mut dashboard = json!({"uid": format!("d-{i:04}"), "title": format!("Dashboard {i}"),
                                "tags": [format!("t{}", i % 7)], "panels": [{"id": 1, "type": "timeseries", "title": format!("p{version}")}]});
                            if version > 0 {
                                dashboard["version"] = json!(version);
                            }
                            let (s, b) = admin
                                .post(
                                    "/api/dashboards/db",
                                    json!({"dashboard": dashboard, "folderUid": folders[i % 4], "message": format!("v{version}")}),
                                )
                                .await;
                            assert_eq!(s, StatusCode::OK, "{b}");
                        }
                    }
                })
                .collect(),
        )
        .await;
    }
    for (login, role) in [("ed", "Editor"), ("vi", "Viewer"), ("ad", "Admin")] {
        px.user_with_role(login, role).await;
    }
    let (_, _, key) = create_token(px, "ci", "Editor", None).await;
    for (name, secret) in [("Prom", Some("s3cret")), ("Influx", None)] {
        let mut body = json!({"name": name, "type": "prometheus", "access": "proxy", "url": "http://127.0.0.1:9"});
        if let Some(secret) = secret {
            body["basicAuth"] = json!(true);
            body["basicAuthUser"] = json!("u");
            body["secureJsonData"] = json!({"basicAuthPassword": secret});
        }
        let (s, b) = admin.post("/api/datasources", body).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (s, b) = admin
        .post("/api/user/stars/dashboard/uid/d-0001", json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    key
}

/// Logs in as each user and uses the token on `px`.
async fn users_work(px: &Pharos, token: &str) {
    for login in ["ed", "vi", "ad"] {
        let (s, b) = px.basic(login, "password1").get("/api/user").await;
        assert_eq!(s, StatusCode::OK, "{login}: {b}");
        assert_eq!(b["login"], json!(login));
    }
    let (s, b) = px.bearer(token).get("/api/search?limit=1").await;
    assert_eq!(s, StatusCode::OK, "token: {b}");
    let (s, _) = px.basic("vi", "wrong-password").get("/api/user").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_restores_into_both_kinds_and_migrate_db_copies() {
    let source = Pharos::start(Backend::Sqlite).await;
    let t0 = Instant::now();
    let token = populate(&source).await;
    println!("populated {DASHBOARDS} dashboards in {:?}", t0.elapsed());
    let original = api_dump(&source.admin()).await;
    assert_eq!(
        original["dashboards"].as_object().unwrap().len(),
        DASHBOARDS
    );

    // Online, while the source serves.
    let file = scratch_file("full.pharos-backup");
    let t0 = Instant::now();
    let (ok, _, stderr) = pharos(
        &source.db,
        &["backup", "--out", file.to_str().unwrap()],
        &[],
    );
    assert!(ok, "backup failed: {stderr}");
    let took = t0.elapsed();
    assert!(
        stderr.contains("backup: dashboards: 1000 rows"),
        "progress lines: {stderr}"
    );
    assert!(!file.with_extension("partial").exists());
    println!(
        "backup: {} bytes in {took:?}; {}",
        std::fs::metadata(&file).unwrap().len(),
        stderr
            .lines()
            .find(|l| l.contains(" rows of "))
            .unwrap_or_default()
    );

    for backend in [Backend::Sqlite, Backend::Postgres] {
        let target = Database::fresh(backend);
        let t0 = Instant::now();
        let (ok, stdout, stderr) =
            pharos(&target, &["restore", "--in", file.to_str().unwrap()], &[]);
        assert!(ok, "restore into {backend:?} failed: {stderr}");
        assert!(stdout.contains("dashboard_versions"), "{stdout}");
        println!("restore into {backend:?}: {:?}", t0.elapsed());
        let restored = Pharos::start_with(target, Options::default()).await;
        let dump = api_dump(&restored.admin()).await;
        if let Some(d) = first_difference(&original, &dump, "") {
            panic!("the restored {backend:?} database differs: {d}");
        }
        users_work(&restored, &token).await;
        // It keeps working: a new dashboard gets a fresh id, a save continues the versions.
        let (s, b) = restored
            .admin()
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"title": "After restore"}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = restored
            .admin()
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"uid": "d-0007", "title": "Dashboard 7", "version": 2}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["version"], json!(3));
        // A second restore into a database that now holds data needs --force.
        let (ok, _, stderr) = pharos(
            &restored.db,
            &["restore", "--in", file.to_str().unwrap()],
            &[],
        );
        assert!(!ok && stderr.contains("not empty"), "{stderr}");
    }

    // migrate-db from the live SQLite to an empty PostgreSQL.
    let target = Database::fresh(Backend::Postgres);
    let (ok, stdout, stderr) = pharos(
        &source.db,
        &["migrate-db", "--from", &source.db.url, "--to", &target.url],
        &[],
    );
    assert!(ok, "migrate-db failed: {stderr}");
    assert!(stderr.contains("counts equal"), "{stderr}");
    assert!(
        stdout.contains("dashboards") && stdout.contains("1000"),
        "{stdout}"
    );
    let migrated = Pharos::start_with(target, Options::default()).await;
    let dump = api_dump(&migrated.admin()).await;
    if let Some(d) = first_difference(&original, &dump, "") {
        panic!("the migrated database differs: {d}");
    }
    users_work(&migrated, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_files_and_another_secret_key_change_nothing() {
    let source = Pharos::start(Backend::Sqlite).await;
    let admin = source.admin();
    for i in 0..20 {
        let (s, b) = admin
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"uid": format!("b-{i}"), "title": format!("B {i}")}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (s, b) = admin
        .post(
            "/api/datasources",
            json!({"name": "P", "type": "prometheus", "url": "http://127.0.0.1:9",
               "access": "proxy", "secureJsonData": {"httpHeaderValue1": "x"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let file = scratch_file("small.pharos-backup");
    let (ok, _, stderr) = pharos(
        &source.db,
        &["backup", "--out", file.to_str().unwrap()],
        &[],
    );
    assert!(ok, "{stderr}");
    let bytes = std::fs::read(&file).unwrap();

    let target = Database::fresh(Backend::Postgres);
    let (ok, _, stderr) = pharos(&target, &["migrate"], &[]);
    assert!(ok, "{stderr}");
    let write = |name: &str, data: &[u8]| -> PathBuf {
        let path = scratch_file(name);
        std::fs::write(&path, data).unwrap();
        path
    };
    let mut flipped = bytes.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0xff;
    // (file, extra environment, what the error must say)
    type Case<'a> = (PathBuf, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            write("truncated", &bytes[..bytes.len() * 2 / 3]),
            vec![],
            "damaged, truncated",
        ),
        (
            write("cut-at-end", &bytes[..bytes.len() - 4]),
            vec![],
            "damaged, truncated",
        ),
        (write("flipped", &flipped), vec![], "damaged"),
        (
            write("not-a-backup", b"{\"hello\": 1}\n"),
            vec![],
            "not a Pharos backup",
        ),
        (
            write("newer", &newer_format(&bytes)),
            vec![],
            "newer than this Pharos reads",
        ),
        (
            file.clone(),
            vec![(
                "PHAROS_SECURITY_SECRET_KEY",
                "another-secret-key-of-enough-length",
            )],
            "another secret_key",
        ),
        (
            PathBuf::from("/nonexistent/file"),
            vec![],
            "opening /nonexistent/file",
        ),
    ];
    for (path, env, expected) in cases {
        let (ok, _, stderr) = pharos(&target, &["restore", "--in", path.to_str().unwrap()], &env);
        assert!(!ok, "{}: restore succeeded", path.display());
        assert!(
            stderr.contains(expected),
            "{}: expected {expected:?} in {stderr}",
            path.display()
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        let count = psql_at(&target.url, "SELECT count(*) FROM dashboards");
        assert_eq!(count.trim(), "0", "{}: nothing written", path.display());
    }
    // And the good file restores.
    let (ok, _, stderr) = pharos(&target, &["restore", "--in", file.to_str().unwrap()], &[]);
    assert!(ok, "{stderr}");
    assert_eq!(
        psql_at(&target.url, "SELECT count(*) FROM dashboards").trim(),
        "20"
    );
}

/// `file` with its header's format version raised by one (and its checksum made right again, so
/// only the version can be what is refused).
fn newer_format(file: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    use std::io::{Read, Write};
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut header: Value = serde_json::from_str(&lines[0]).unwrap();
    header["version"] = json!(header["version"].as_u64().unwrap() + 1);
    lines[0] = header.to_string();
    let last = lines.len() - 1;
    let body: String = lines[..last].iter().map(|l| format!("{l}\n")).collect();
    let mut trailer: Value = serde_json::from_str(&lines[last]).unwrap();
    trailer["sha256"] = json!(hex::encode(sha2::Sha256::digest(body.as_bytes())));
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(body.as_bytes()).unwrap();
    e.write_all(format!("{trailer}\n").as_bytes()).unwrap();
    e.finish().unwrap()
}

/// A backup through the API while ten writers save dashboards: restored, every dashboard has its
/// current version's row and no version lacks its dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_is_consistent() {
    let source = Pharos::start(Backend::Postgres).await;
    let admin = source.admin();
    let stop = Arc::new(AtomicBool::new(false));
    let saves = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for w in 0..10 {
        let (admin, stop, saves) = (admin.clone(), stop.clone(), saves.clone());
        writers.push(tokio::spawn(async move {
            let mut versions = [0i64; 5];
            while !stop.load(Ordering::SeqCst) {
                for (d, version) in versions.iter_mut().enumerate() {
                    let mut dashboard = json!({"uid": format!("w{w}-{d}"), "title": format!("W{w} D{d}"), "n": *version});
                    if *version > 0 {
                        dashboard["version"] = json!(*version);
                    }
                    let (s, b) = admin.post("/api/dashboards/db", json!({"dashboard": dashboard})).await;
                    assert_eq!(s, StatusCode::OK, "{b}");
                    *version = b["version"].as_i64().unwrap();
                    saves.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut files = Vec::new();
    for round in 0..3 {
        let resp = admin
            .request(reqwest::Method::GET, "/api/admin/backup")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "application/gzip");
        let bytes = resp.bytes().await.unwrap();
        let path = scratch_file(&format!("load-{round}.pharos-backup"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    println!(
        "{} saves while 3 backups were taken",
        saves.load(Ordering::SeqCst)
    );
    assert!(saves.load(Ordering::SeqCst) > 100);

    // Viewers and anonymous callers may not take one.
    let viewer = source.user_with_role("backup-viewer", "Viewer").await;
    let (s, _) = viewer.get("/api/admin/backup").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = source.anonymous().get("/api/admin/backup").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    for path in files {
        let target = Database::fresh(Backend::Sqlite);
        let (ok, _, stderr) = pharos(&target, &["restore", "--in", path.to_str().unwrap()], &[]);
        assert!(ok, "{}: {stderr}", path.display());
        consistent(&target.url, &path);
    }
}

/// Every dashboard's version has its row, no version row lacks its dashboard, and the JSON the
/// dashboard holds is the JSON of its current version.
fn consistent(sqlite_url: &str, path: &Path) {
    let file = sqlite_url.trim_start_matches("sqlite://");
    let conn = rusqlite_free_query(
        file,
        "SELECT count(*) FROM dashboards d LEFT JOIN dashboard_versions v \
         ON v.dashboard_id = d.id AND v.version = d.version WHERE v.id IS NULL OR v.data <> d.data",
    );
    assert_eq!(
        conn,
        "0",
        "{}: dashboards without their version",
        path.display()
    );
    let orphans = rusqlite_free_query(
        file,
        "SELECT count(*) FROM dashboard_versions v LEFT JOIN dashboards d ON d.id = v.dashboard_id WHERE d.id IS NULL",
    );
    assert_eq!(
        orphans,
        "0",
        "{}: versions without their dashboard",
        path.display()
    );
}

/// One scalar from an SQLite file, through the store crate (no sqlite3 program needed).
fn rusqlite_free_query(file: &str, sql: &str) -> String {
    let url = format!("sqlite://{file}");
    let sql = sql.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let store = pharos_store::Store::connect(&pharos_store::StoreOptions {
                    url,
                    max_connections: 1,
                    acquire_timeout: Duration::from_secs(5),
                })
                .await
                .unwrap();
                let n = store.scalar_for_tests(&sql).await;
                store.close().await;
                n.to_string()
            })
    })
    .join()
    .unwrap()
}
