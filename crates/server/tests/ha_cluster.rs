//! Membership and leases through the API: `/api/cluster` on any replica lists every replica and
//! every lease with its holder (maintenance, provisioning, released ones); a replica stopped gracefully leaves at once and hands its lease
//! over; a killed one ages out; `pharos_cluster_members` and `pharos_lease_holder` say the same.

use std::time::{Duration, Instant};

use pharos_testkit::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Short intervals so the scenario takes seconds.
fn fast() -> Options {
    Options::default()
        .env("PHAROS_CLUSTER_HEARTBEAT_INTERVAL", "500ms")
        .env("PHAROS_CLUSTER_MEMBER_TIMEOUT", "2s")
        .env("PHAROS_CLUSTER_LEASE_TTL", "3s")
}

async fn cluster(px: &Pharos) -> Value {
    let (s, body) = px.admin().get("/api/cluster").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body
}

fn member_ids(status: &Value) -> Vec<String> {
    let mut ids: Vec<String> = status["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn self_id(status: &Value) -> String {
    let mine: Vec<&Value> = status["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["self"] == true)
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "exactly one member is the answering replica: {status}"
    );
    mine[0]["id"].as_str().unwrap().to_string()
}

/// The maintenance lease's row when someone holds it now.
fn maintenance(status: &Value) -> Option<Value> {
    status["leases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "maintenance" && l["held"] == true)
        .cloned()
}

/// A metric's value in `/metrics` (the first line starting with `series`).
async fn metric(px: &Pharos, series: &str) -> Option<f64> {
    let (_, text) = px.anonymous().get("/metrics").await;
    text.as_str()
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

fn signal(px: &Pharos, sig: &str) {
    let pid = px.pid().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args([sig, &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_list_each_other_and_hand_over_the_maintenance_lease() {
    let db = Database::fresh(Backend::Postgres);
    let (a, b) = tokio::join!(
        Pharos::start_with(db.clone(), fast()),
        Pharos::start_with(db.clone(), fast()),
    );
    let (on_a, on_b) = (cluster(&a).await, cluster(&b).await);
    let ids = member_ids(&on_a);
    assert_eq!(ids.len(), 2, "{on_a}");
    assert_eq!(
        member_ids(&on_b),
        ids,
        "both replicas list the same members"
    );
    let (id_a, id_b) = (self_id(&on_a), self_id(&on_b));
    assert_ne!(id_a, id_b);
    for m in on_a["members"].as_array().unwrap() {
        assert_eq!(m["healthy"], true, "{m}");
        let px = if m["id"] == id_a.as_str() { &a } else { &b };
        assert_eq!(
            format!("http://{}", m["address"].as_str().unwrap()),
            px.url,
            "the advertised address defaults to the listening one"
        );
        assert_eq!(m["version"], env!("CARGO_PKG_VERSION"));
        for field in ["startedAt", "lastHeartbeat"] {
            assert!(m[field].as_str().unwrap().ends_with('Z'), "{m}");
        }
    }

    // Exactly one holds the maintenance lease, and both replicas agree on which.
    let deadline = Instant::now() + Duration::from_secs(5);
    let holder = loop {
        let (la, lb) = (
            maintenance(&cluster(&a).await),
            maintenance(&cluster(&b).await),
        );
        if let (Some(la), Some(lb)) = (la, lb) {
            // (expiresAt may move between the two requests: a renewal.)
            assert_eq!(
                (&la["holder"], &la["fencingToken"]),
                (&lb["holder"], &lb["fencingToken"]),
                "both replicas name the same holder and term"
            );
            break la["holder"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no maintenance lease holder");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(ids.contains(&holder), "{holder} is not a member: {ids:?}");
    let first_token = maintenance(&cluster(&a).await).unwrap()["fencingToken"]
        .as_i64()
        .unwrap();

    // The metrics agree: two members on each, one lease holder among them.
    eventually(
        "pharos_cluster_members 2 on both",
        Duration::from_secs(5),
        || async {
            metric(&a, "pharos_cluster_members ").await == Some(2.0)
                && metric(&b, "pharos_cluster_members ").await == Some(2.0)
        },
    )
    .await;
    let series = "pharos_lease_holder{lease=\"maintenance\"} ";
    let (ha, hb) = (metric(&a, series).await, metric(&b, series).await);
    assert_eq!(
        (ha, hb),
        if holder == id_a {
            (Some(1.0), Some(0.0))
        } else {
            (Some(0.0), Some(1.0))
        }
    );

    // Only admins see the cluster.
    let viewer = a.user_with_role("vic", "Viewer").await;
    assert_eq!(viewer.get("/api/cluster").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        a.anonymous().get("/api/cluster").await.0,
        StatusCode::UNAUTHORIZED
    );

    // The holder stops gracefully: it leaves the member list at once and releases the lease, so
    // the survivor takes it over within a retry period (ttl/3 = 1 s), not a whole ttl.
    let (mut stopping, survivor, survivor_id) = if holder == id_a {
        (a, b, id_b)
    } else {
        (b, a, id_a)
    };
    signal(&stopping, "-TERM");
    let status = stopping
        .wait_exit(Duration::from_secs(15))
        .await
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let logs = stopping.logs().join("\n");
    assert!(logs.contains("released lease"), "{logs}");
    assert!(logs.contains("left the cluster"), "{logs}");
    let after = cluster(&survivor).await;
    assert_eq!(member_ids(&after), vec![survivor_id.clone()], "{after}");
    let took = eventually(
        "the survivor to hold the lease",
        Duration::from_secs(3),
        || async {
            maintenance(&cluster(&survivor).await)
                .is_some_and(|l| l["holder"] == survivor_id.as_str())
        },
    )
    .await;
    assert!(
        took < Duration::from_millis(2500),
        "hand-over took {took:?}"
    );
    let token = maintenance(&cluster(&survivor).await).unwrap()["fencingToken"]
        .as_i64()
        .unwrap();
    assert_eq!(token, first_token + 1, "a new term, a higher token");
    assert_eq!(metric(&survivor, series).await, Some(1.0));
    eventually(
        "pharos_cluster_members 1",
        Duration::from_secs(3),
        || async { metric(&survivor, "pharos_cluster_members ").await == Some(1.0) },
    )
    .await;

    // A replica killed without a word ages out after the member timeout.
    let killed = Pharos::start_with(db.clone(), fast()).await;
    let killed_id = self_id(&cluster(&killed).await);
    assert_eq!(member_ids(&cluster(&survivor).await).len(), 2);
    signal(&killed, "-KILL");
    let took = eventually(
        "the killed replica to age out",
        Duration::from_secs(6),
        || async { !member_ids(&cluster(&survivor).await).contains(&killed_id) },
    )
    .await;
    assert!(
        took >= Duration::from_millis(1000),
        "removed too early: {took:?}"
    );
    // It held no lease: the survivor kept its term.
    let l = maintenance(&cluster(&survivor).await).unwrap();
    assert_eq!(l["holder"], survivor_id.as_str());
    assert_eq!(l["fencingToken"].as_i64().unwrap(), token);
}

backend_matrix!(a_single_replica_lists_itself, |backend| async move {
    let px = Pharos::start(backend).await;
    let status = cluster(&px).await;
    let members = status["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{status}");
    assert_eq!(members[0]["self"], true);
    assert_eq!(members[0]["healthy"], true);
    assert_eq!(
        format!("http://{}", members[0]["address"].as_str().unwrap()),
        px.url
    );
    eventually(
        "it holds the maintenance lease",
        Duration::from_secs(5),
        || async {
            maintenance(&cluster(&px).await).is_some_and(|l| l["holder"] == members[0]["id"])
        },
    )
    .await;
    let lease = maintenance(&cluster(&px).await).unwrap();
    assert_eq!(lease["fencingToken"], 1);
    assert!(lease["expiresAt"].as_str().unwrap().ends_with('Z'));
    let editor = px.user_with_role("eddie", "Editor").await;
    assert_eq!(editor.get("/api/cluster").await.0, StatusCode::FORBIDDEN);
    assert_eq!(metric(&px, "pharos_cluster_members ").await, Some(1.0));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advertised_address_is_a_setting() {
    let px = Pharos::start_with(
        Database::fresh(Backend::Sqlite),
        Options::default().env("PHAROS_CLUSTER_ADVERTISE_ADDRESS", "pharos-0.pharos:3000"),
    )
    .await;
    let status = cluster(&px).await;
    assert_eq!(status["members"][0]["address"], "pharos-0.pharos:3000");
}

/// Every lease row is listed, whoever competes for it: the provisioning lease beside the
/// maintenance lease (both with holder and fencing token, both in `pharos_lease_holder`), and a
/// released lease with an empty holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lease_is_listed_with_its_holder_and_token() {
    let db = Database::fresh(Backend::Postgres);
    let root = scratch_dir("cluster-provisioning");
    std::fs::create_dir_all(root.join("provisioning")).unwrap();
    let px = Pharos::start_with(
        db.clone(),
        fast().env(
            "PHAROS_PATHS_PROVISIONING",
            &root.join("provisioning").display().to_string(),
        ),
    )
    .await;
    let me = self_id(&cluster(&px).await);
    let held = |status: &Value, name: &str| {
        status["leases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == name && l["held"] == true)
            .cloned()
    };
    eventually(
        "every lease held by the only replica",
        Duration::from_secs(5),
        || async {
            let status = cluster(&px).await;
            ["alerting", "maintenance", "provisioning"]
                .iter()
                .all(|name| held(&status, name).is_some_and(|l| l["holder"] == me.as_str()))
        },
    )
    .await;
    let status = cluster(&px).await;
    let provisioning = held(&status, "provisioning").unwrap();
    assert_eq!(provisioning["fencingToken"], 1, "{provisioning}");
    assert!(provisioning["expiresAt"].as_str().unwrap().ends_with('Z'));
    for lease in ["alerting", "maintenance", "provisioning"] {
        let series = format!("pharos_lease_holder{{lease=\"{lease}\"}} ");
        assert_eq!(metric(&px, &series).await, Some(1.0), "{series}");
    }

    // A lease that exists but is released (as at a holder's graceful stop) is listed too.
    psql_at(
        &db.url,
        "insert into leases (name, holder, fencing_token, expires_at) values ('backup', '', 7, 0)",
    );
    let status = cluster(&px).await;
    let names: Vec<&str> = status["leases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["alerting", "backup", "maintenance", "provisioning"],
        "{status}"
    );
    let released = &status["leases"][1];
    assert_eq!(released["held"], false, "{released}");
    assert_eq!(released["holder"], "");
    assert_eq!(released["fencingToken"], 7);
    assert!(released["expiresAt"].is_null(), "{released}");
    let _ = std::fs::remove_dir_all(root);
}

backend_matrix!(
    the_maintenance_job_keeps_the_newest_dashboard_versions,
    |backend| async move {
        let px = Pharos::start_with(
            Database::fresh(backend),
            fast()
                .env("PHAROS_DASHBOARDS_VERSIONS_TO_KEEP", "3")
                .env("PHAROS_CLUSTER_MAINTENANCE_INTERVAL", "200ms"),
        )
        .await;
        let admin = px.admin();
        for version in 0..6 {
            let mut dashboard = json!({"uid": "kept", "title": "Kept"});
            if version > 0 {
                dashboard["version"] = json!(version);
            }
            let (s, body) = admin
                .post("/api/dashboards/db", json!({"dashboard": dashboard}))
                .await;
            assert_eq!(s, StatusCode::OK, "{body}");
        }
        let listed = || async {
            let (s, body) = admin.get("/api/dashboards/uid/kept/versions").await;
            assert_eq!(s, StatusCode::OK, "{body}");
            body["versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["version"].as_i64().unwrap())
                .collect::<Vec<_>>()
        };
        eventually(
            "versions beyond the newest 3 deleted",
            Duration::from_secs(5),
            || async { listed().await == [6, 5, 4] },
        )
        .await;
        let (_, d) = admin.get("/api/dashboards/uid/kept").await;
        assert_eq!(d["dashboard"]["version"], 6);
        assert!(px
            .logs()
            .iter()
            .any(|l| l.contains("deleted old dashboard versions")));
    }
);
