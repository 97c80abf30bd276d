//! Authentication: login sessions (cookie flags, hashing, rotation, expiry, logout), throttling,
//! basic auth, service-account tokens and legacy API keys, CSRF, password changes and the
//! `pharos admin reset-admin-password` command. Every case runs on SQLite and on PostgreSQL.

use std::time::Duration;

use pharos_testkit::*;
use reqwest::{Method, StatusCode};

/// One query against the test database, whatever its engine; rows are lines, columns `|`-separated.
fn query_db(db: &Database, sql: &str) -> String {
    match db.backend {
        Backend::Postgres => psql_at(&db.url, sql),
        Backend::Sqlite => {
            let file = db.dir().expect("sqlite dir").join("pharos.db");
            let out = std::process::Command::new("sqlite3")
                .arg(&file)
                .arg(sql)
                .output()
                .expect("sqlite3 must be installed for SQLite tests");
            assert!(
                out.status.success(),
                "sqlite3 {sql:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        }
    }
}

backend_matrix!(
    login_sets_a_hardened_cookie_that_authenticates,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let l = login(&px, "admin", "admin").await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.body);
        assert!(l.body["message"].is_string(), "{}", l.body);
        let header = l.set_cookie.expect("Set-Cookie");
        let attrs: Vec<String> = header
            .split(';')
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(attrs.contains(&"httponly".to_string()), "{header}");
        assert!(attrs.contains(&"samesite=lax".to_string()), "{header}");
        assert!(attrs.contains(&"path=/".to_string()), "{header}");
        assert!(
            !attrs.contains(&"secure".to_string()),
            "an http root_url must not mark the cookie Secure: {header}"
        );
        let token = l.token.unwrap();
        assert!(token.len() >= 32, "session tokens must be long: {token}");

        let (s, me) = by_cookie(&px, "/api/user", &token).await;
        assert_eq!(s, StatusCode::OK, "{me}");
        assert_eq!(me["login"], "admin");
        assert_eq!(me["isGrafanaAdmin"], true);

        // The login is matched without regard to case, and e-mail works too, as in Grafana.
        assert_eq!(login(&px, "ADMIN", "admin").await.status, StatusCode::OK);
        assert_eq!(
            login(&px, "admin@localhost", "admin").await.status,
            StatusCode::OK
        );

        // Only a hash of the token is stored.
        let stored = query_db(&px.db, "select token_hash from user_sessions");
        let hashes: Vec<&str> = stored.lines().collect();
        assert_eq!(hashes.len(), 3, "{stored}");
        assert!(
            !stored.contains(&token),
            "the clear token is in the database"
        );
        for h in hashes {
            assert!(
                h.len() >= 64 && h.chars().all(|c| c.is_ascii_hexdigit()),
                "{h}"
            );
        }

        // A random cookie authenticates nobody and is cleared.
        let (s, body) = by_cookie(&px, "/api/user", "not-a-session").await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
    }
);

backend_matrix!(
    wrong_credentials_get_401_json_and_no_cookie,
    |backend| async move {
        let px = Pharos::start(backend).await;
        for (user, password) in [("admin", "wrong"), ("nobody", "admin"), ("admin", "")] {
            let l = login(&px, user, password).await;
            assert_error(l.status, &l.body, StatusCode::UNAUTHORIZED);
            assert!(l.token.is_none(), "no session for a failed login");
        }
        assert_eq!(query_db(&px.db, "select count(*) from user_sessions"), "0");
    }
);

backend_matrix!(
    https_root_url_marks_the_cookie_secure,
    |backend| async move {
        let px = Pharos::start_with(
            Database::fresh(backend),
            Options::default().env("PHAROS_SERVER_ROOT_URL", "https://dash.example.com/"),
        )
        .await;
        let l = login(&px, "admin", "admin").await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.body);
        let header = l.set_cookie.unwrap();
        let attrs: Vec<String> = header
            .split(';')
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(attrs.contains(&"secure".to_string()), "{header}");
        assert!(attrs.contains(&"httponly".to_string()), "{header}");
        assert!(attrs.contains(&"samesite=lax".to_string()), "{header}");
    }
);

backend_matrix!(
    logout_revokes_the_session_even_when_replayed,
    |backend| async move {
        let px = Pharos::start(backend).await;
        // A browser: the cookie jar follows the server's Set-Cookie.
        let browser = px.browser();
        let (s, body) = browser
            .post("/login", json!({"user": "admin", "password": "admin"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(browser.get("/api/user").await.0, StatusCode::OK);

        // A second session whose token we keep, to replay after logout.
        let token = login_token(&px, "admin", "admin").await;
        assert_eq!(by_cookie(&px, "/api/user", &token).await.0, StatusCode::OK);
        let resp = px
            .anonymous()
            .request(Method::GET, "/logout")
            .header("cookie", format!("{SESSION_COOKIE}={token}"))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_redirection() || resp.status().is_success(),
            "{}",
            resp.status()
        );
        let cleared = session_cookie(resp.headers()).expect("logout clears the cookie");
        assert!(cleared.1.is_empty(), "{}", cleared.0);
        assert!(
            cleared.0.to_ascii_lowercase().contains("max-age=0")
                || cleared.0.to_ascii_lowercase().contains("expires="),
            "{}",
            cleared.0
        );
        let (s, body) = by_cookie(&px, "/api/user", &token).await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
        // Only that session is gone; the browser's is untouched.
        assert_eq!(browser.get("/api/user").await.0, StatusCode::OK);
        assert_eq!(query_db(&px.db, "select count(*) from user_sessions"), "1");

        let (s, _) = browser.get("/logout").await;
        assert!(s.is_redirection() || s.is_success(), "{s}");
        assert_eq!(browser.get("/api/user").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(query_db(&px.db, "select count(*) from user_sessions"), "0");
        // Logging out without a session is harmless.
        let (s, _) = px.anonymous().get("/logout").await;
        assert!(s.is_redirection() || s.is_success(), "{s}");
    }
);

backend_matrix!(
    sessions_rotate_and_the_old_token_has_a_grace_period,
    |backend| async move {
        let px = Pharos::start_with(
            Database::fresh(backend),
            Options::default().env("PHAROS_AUTH_SESSION_ROTATION_INTERVAL", "1s"),
        )
        .await;
        let first = login_token(&px, "admin", "admin").await;
        let hash_before = query_db(&px.db, "select token_hash from user_sessions");
        // Within the interval: no rotation.
        let (s, _, rotated) = with_cookie(&px, Method::GET, "/api/user", &first).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(rotated, None, "rotated before the interval");

        tokio::time::sleep(Duration::from_millis(1300)).await;
        let (s, body, rotated) = with_cookie(&px, Method::GET, "/api/user", &first).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let second = rotated.expect("a request after the interval gets a new cookie");
        assert_ne!(second, first);
        let hash_after = query_db(&px.db, "select token_hash from user_sessions");
        assert_ne!(
            hash_before, hash_after,
            "the stored hash follows the rotation"
        );
        assert!(!hash_after.contains(&second));
        assert_eq!(
            query_db(&px.db, "select count(*) from user_sessions"),
            "1",
            "rotation replaces the token, not the session"
        );

        // The new cookie works, and so does the old one within the grace period.
        let (s, me, again) = with_cookie(&px, Method::GET, "/api/user", &second).await;
        assert_eq!(s, StatusCode::OK, "{me}");
        assert_eq!(me["login"], "admin");
        assert_eq!(again, None, "the fresh token is not rotated at once");
        let (s, body, _) = with_cookie(&px, Method::GET, "/api/user", &first).await;
        assert_eq!(s, StatusCode::OK, "old token within grace: {body}");

        // Logging out with the new token revokes the old one too.
        let (s, _, _) = with_cookie(&px, Method::GET, "/logout", &second).await;
        assert!(s.is_redirection() || s.is_success(), "{s}");
        assert_eq!(
            by_cookie(&px, "/api/user", &first).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            by_cookie(&px, "/api/user", &second).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
);

backend_matrix!(
    idle_sessions_expire_but_active_ones_live,
    |backend| async move {
        let px = Pharos::start_with(
            Database::fresh(backend),
            Options::default().env("PHAROS_AUTH_SESSION_INACTIVE_LIFETIME", "2s"),
        )
        .await;
        let active = login_token(&px, "admin", "admin").await;
        let idle = login_token(&px, "admin", "admin").await;
        // Used every 700 ms for 3.5 s: longer than the inactive lifetime, never idle for it.
        for i in 0..5 {
            tokio::time::sleep(Duration::from_millis(700)).await;
            let (s, body) = by_cookie(&px, "/api/user", &active).await;
            assert_eq!(
                s,
                StatusCode::OK,
                "active session dropped at step {i}: {body}"
            );
        }
        let (s, body) = by_cookie(&px, "/api/user", &idle).await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);

        tokio::time::sleep(Duration::from_millis(2500)).await;
        let (s, body) = by_cookie(&px, "/api/user", &active).await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
        // An expired session stays dead even once it would have been "active" again.
        assert_eq!(
            by_cookie(&px, "/api/user", &active).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
);

backend_matrix!(
    sessions_end_at_their_maximum_lifetime,
    |backend| async move {
        let px = Pharos::start_with(
            Database::fresh(backend),
            Options::default().env("PHAROS_AUTH_SESSION_MAX_LIFETIME", "3s"),
        )
        .await;
        let token = login_token(&px, "admin", "admin").await;
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(700)).await;
            assert_eq!(by_cookie(&px, "/api/user", &token).await.0, StatusCode::OK);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (s, body) = by_cookie(&px, "/api/user", &token).await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
    }
);

backend_matrix!(
    repeated_failures_are_throttled_for_login_and_basic_auth,
    |backend| async move {
        let px = Pharos::start_with(
            Database::fresh(backend),
            Options::default().env("PHAROS_SECURITY_LOGIN_MAX_FAILURES", "3"),
        )
        .await;
        px.user_with_role("carol", "Viewer").await;
        px.user_with_role("dan", "Viewer").await;

        // Through POST /login.
        for _ in 0..3 {
            let l = login(&px, "admin", "nope").await;
            assert_error(l.status, &l.body, StatusCode::UNAUTHORIZED);
        }
        let l = login(&px, "admin", "admin").await;
        assert_error(l.status, &l.body, StatusCode::TOO_MANY_REQUESTS);
        assert!(l.token.is_none());
        // The same login in another case is the same login.
        let l = login(&px, "Admin", "admin").await;
        assert_eq!(l.status, StatusCode::TOO_MANY_REQUESTS, "{}", l.body);
        // Basic auth is throttled for that login too, even with the right password.
        let (s, body) = px.admin().get("/api/user").await;
        assert_error(s, &body, StatusCode::TOO_MANY_REQUESTS);

        // Through basic auth, then POST /login.
        for _ in 0..3 {
            let (s, body) = px.basic("carol", "bad").get("/api/user").await;
            assert_error(s, &body, StatusCode::UNAUTHORIZED);
        }
        let (s, body) = px.basic("carol", "password1").get("/api/user").await;
        assert_error(s, &body, StatusCode::TOO_MANY_REQUESTS);
        let l = login(&px, "carol", "password1").await;
        assert_eq!(l.status, StatusCode::TOO_MANY_REQUESTS, "{}", l.body);

        // Others are not locked out by someone else's failures.
        let (s, body) = px.basic("dan", "password1").get("/api/user").await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(login(&px, "dan", "password1").await.status, StatusCode::OK);
    }
);

backend_matrix!(a_success_resets_the_failure_count, |backend| async move {
    let px = Pharos::start_with(
        Database::fresh(backend),
        Options::default().env("PHAROS_SECURITY_LOGIN_MAX_FAILURES", "3"),
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            login(&px, "admin", "nope").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&px, "admin", "admin").await.status, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(
            login(&px, "admin", "nope").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&px, "admin", "admin").await.status, StatusCode::OK);
});

backend_matrix!(basic_auth, |backend| async move {
    let px = Pharos::start(backend).await;
    let (s, me) = px.admin().get("/api/user").await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "admin");
    // E-mail as the user name works as in Grafana.
    let (s, me) = px.basic("admin@localhost", "admin").get("/api/user").await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "admin");

    let (s, body) = px.basic("admin", "wrong").get("/api/user").await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED);
    let (s, body) = px.basic("ghost", "admin").get("/api/search").await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED);

    for header in [
        "Basic !!!not-base64!!!",
        "Basic bm9jb2xvbg==", // "nocolon"
        "Basic",
        "Digest username=\"admin\"",
        "Bearer",
        "Bearer not-a-token",
        "",
    ] {
        let anon = px.anonymous();
        let (s, body) = anon
            .send(
                anon.request(Method::GET, "/api/user")
                    .header("authorization", header),
            )
            .await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
    }
    let (s, body) = px.anonymous().get("/api/user").await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED);
});

backend_matrix!(
    service_account_tokens_authenticate_until_revoked,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let (sa_id, token_id, key) = create_token(&px, "ci", "Editor", None).await;
        assert!(key.starts_with("glsa_"), "{key}");

        let bot = px.bearer(&key);
        let (s, me) = bot.get("/api/user").await;
        assert_eq!(s, StatusCode::OK, "{me}");
        assert_eq!(me["login"], "sa-ci");
        let (s, body) = bot
            .post(
                "/api/dashboards/db",
                json!({"dashboard": {"title": "By the bot"}, "overwrite": false}),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::OK,
            "an Editor token writes dashboards: {body}"
        );
        let (s, body) = bot.get("/api/org/users").await;
        assert_error(s, &body, StatusCode::FORBIDDEN);

        // Grafana's other way to present a token: basic auth as `api_key`.
        let (s, me) = px.basic("api_key", &key).get("/api/user").await;
        assert_eq!(s, StatusCode::OK, "{me}");
        assert_eq!(me["login"], "sa-ci");

        // Tokens that do not exist.
        let mut forged = key.clone();
        forged.pop();
        forged.push(if key.ends_with('0') { '1' } else { '0' });
        for bad in [
            forged.as_str(),
            "glsa_nope",
            "eyJrIjoiT0tTcG1pUlY2RnVKZTFVaDFsNFZXdE9ZWmNrMkZYbk",
        ] {
            let (s, body) = px.bearer(bad).get("/api/user").await;
            assert_error(s, &body, StatusCode::UNAUTHORIZED);
            let (s, body) = px.basic("api_key", bad).get("/api/user").await;
            assert_error(s, &body, StatusCode::UNAUTHORIZED);
        }

        // A deleted token stops working at once.
        let (s, body) = px
            .admin()
            .delete(&format!("/api/serviceaccounts/{sa_id}/tokens/{token_id}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = bot.get("/api/user").await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
        let (s, _) = px.basic("api_key", &key).get("/api/user").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);

        // So does every token of a deleted service account.
        let (sa_id, _, key) = create_token(&px, "doomed", "Viewer", None).await;
        assert_eq!(px.bearer(&key).get("/api/search").await.0, StatusCode::OK);
        let (s, body) = px
            .admin()
            .delete(&format!("/api/serviceaccounts/{sa_id}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = px.bearer(&key).get("/api/search").await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
    }
);

backend_matrix!(expired_tokens_are_refused, |backend| async move {
    let px = Pharos::start(backend).await;
    let (sa_id, _, key) = create_token(&px, "short", "Viewer", Some(1)).await;
    let (s, body) = px.bearer(&key).get("/api/search").await;
    assert_eq!(s, StatusCode::OK, "fresh token: {body}");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (s, body) = px.bearer(&key).get("/api/search").await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED);
    let (s, tokens) = px
        .admin()
        .get(&format!("/api/serviceaccounts/{sa_id}/tokens"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(tokens[0]["hasExpired"], true, "{tokens}");
    assert!(tokens[0]["expiration"].is_string(), "{tokens}");
    // A negative lifetime is refused.
    let (s, body) = px
        .admin()
        .post(
            &format!("/api/serviceaccounts/{sa_id}/tokens"),
            json!({"name": "neg", "secondsToLive": -5}),
        )
        .await;
    assert_error(s, &body, StatusCode::BAD_REQUEST);
});

backend_matrix!(
    disabled_service_accounts_are_refused,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let (sa_id, _, key) = create_token(&px, "sleepy", "Viewer", None).await;
        assert_eq!(px.bearer(&key).get("/api/search").await.0, StatusCode::OK);
        let (s, body) = px
            .admin()
            .patch(
                &format!("/api/serviceaccounts/{sa_id}"),
                json!({"isDisabled": true}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = px.bearer(&key).get("/api/search").await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
        let (s, _) = px.basic("api_key", &key).get("/api/search").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        px.admin()
            .patch(
                &format!("/api/serviceaccounts/{sa_id}"),
                json!({"isDisabled": false}),
            )
            .await;
        assert_eq!(px.bearer(&key).get("/api/search").await.0, StatusCode::OK);
    }
);

backend_matrix!(
    cookie_writes_from_a_foreign_origin_are_refused,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let token = login_token(&px, "admin", "admin").await;
        let post_folder = |origin: Option<String>, title: &str| {
            let anon = px.anonymous();
            let mut rb = anon
                .request(Method::POST, "/api/folders")
                .header("cookie", format!("{SESSION_COOKIE}={token}"))
                .json(&json!({"title": title}));
            if let Some(origin) = origin {
                rb = rb.header("origin", origin);
            }
            async move { anon.send(rb).await }
        };
        for foreign in [
            "https://evil.example",
            "http://127.0.0.1.evil.example",
            "null",
        ] {
            let (s, body) = post_folder(Some(foreign.to_string()), "Evil").await;
            assert_error(s, &body, StatusCode::FORBIDDEN);
        }
        let (s, body) = px.admin().get("/api/search?query=Evil").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body, json!([]), "a refused write must not happen");

        let (s, body) = post_folder(Some(px.url.clone()), "Same origin").await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = post_folder(None, "No origin").await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Reads are not subject to the check.
        let anon = px.anonymous();
        let (s, _) = anon
            .send(
                anon.request(Method::GET, "/api/user")
                    .header("cookie", format!("{SESSION_COOKIE}={token}"))
                    .header("origin", "https://evil.example"),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
);

backend_matrix!(password_change_revokes_sessions, |backend| async move {
    let px = Pharos::start(backend).await;
    let erin = px.user_with_role("erin", "Editor").await;
    let s1 = login_token(&px, "erin", "password1").await;
    let s2 = login_token(&px, "erin", "password1").await;
    let admin_session = login_token(&px, "admin", "admin").await;

    // The old password must be right.
    let (s, body) = erin
        .put(
            "/api/user/password",
            json!({"oldPassword": "wrong", "newPassword": "password2", "confirmNew": "password2"}),
        )
        .await;
    assert!(s.is_client_error(), "{s} {body}");
    assert!(body["message"].is_string(), "{body}");
    // A confirmation that differs is refused.
    let (s, body) = erin
        .put(
            "/api/user/password",
            json!({"oldPassword": "password1", "newPassword": "password2", "confirmNew": "password3"}),
        )
        .await;
    assert_error(s, &body, StatusCode::BAD_REQUEST);
    assert_eq!(by_cookie(&px, "/api/user", &s1).await.0, StatusCode::OK);

    // Changed through a session: every session of the user ends, that one included.
    let (s, body, _) = with_cookie_json(
        &px,
        Method::PUT,
        "/api/user/password",
        &s1,
        Some(json!({"oldPassword": "password1", "newPassword": "password2", "confirmNew": "password2"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    for token in [&s1, &s2] {
        let (s, body) = by_cookie(&px, "/api/user", token).await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
    }
    // Other users keep theirs.
    assert_eq!(
        by_cookie(&px, "/api/user", &admin_session).await.0,
        StatusCode::OK
    );

    // The old password stops working (basic auth and login), the new one works.
    let (s, _) = erin.get("/api/user").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&px, "erin", "password1").await.status,
        StatusCode::UNAUTHORIZED
    );
    let (s, me) = px.basic("erin", "password2").get("/api/user").await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(login(&px, "erin", "password2").await.status, StatusCode::OK);

    // An admin setting a user's password revokes that user's sessions too.
    let s3 = login_token(&px, "erin", "password2").await;
    let id = me["id"].as_i64().unwrap();
    let (s, body) = px
        .admin()
        .put(
            &format!("/api/admin/users/{id}/password"),
            json!({"password": "password3"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        by_cookie(&px, "/api/user", &s3).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        px.basic("erin", "password2").get("/api/user").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        px.basic("erin", "password3").get("/api/user").await.0,
        StatusCode::OK
    );
});

/// Runs `pharos admin reset-admin-password` against the test database.
async fn reset_admin_password(db: &Database, args: &[&str]) -> std::process::Output {
    let dir = scratch_dir("pharos-reset");
    let out = tokio::process::Command::new(pharos_bin())
        .args(["admin", "reset-admin-password"])
        .args(args)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PHAROS_DATABASE_URL", &db.url)
        .stdin(std::process::Stdio::null())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("reset-admin-password hung")
        .expect("running pharos");
    let _ = std::fs::remove_dir_all(&dir);
    out
}

backend_matrix!(reset_admin_password_command, |backend| async move {
    let px = Pharos::start(backend).await;
    let session = login_token(&px, "admin", "admin").await;

    let out = reset_admin_password(&px.db, &["--password", "x"]).await;
    assert!(!out.status.success(), "a too-short password is refused");
    assert!(
        !String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "and says why"
    );
    assert_eq!(px.admin().get("/api/user").await.0, StatusCode::OK);

    let out = reset_admin_password(&px.db, &["--password", "n3w-s3cret"]).await;
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The running server sees the change through the change feed (basic-auth logins are cached per
    // cache generation): within its poll interval on SQLite, at once on PostgreSQL.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let (s, body) = loop {
        let (s, body) = px.admin().get("/api/user").await;
        if s == StatusCode::UNAUTHORIZED || std::time::Instant::now() > deadline {
            break (s, body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_error(s, &body, StatusCode::UNAUTHORIZED);
    let (s, me) = px.basic("admin", "n3w-s3cret").get("/api/user").await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "admin");
    assert_eq!(
        by_cookie(&px, "/api/user", &session).await.0,
        StatusCode::UNAUTHORIZED,
        "the admin's sessions are revoked"
    );
    assert_eq!(
        query_db(&px.db, "select count(*) from users where login = 'admin'"),
        "1"
    );
});

backend_matrix!(
    logging_in_over_a_dead_session_cookie_works,
    |backend| async move {
        let px = Pharos::start(backend).await;
        let admin = px.admin();
        let (s, created) = admin
            .post(
                "/api/admin/users",
                json!({"login": "fay", "email": "fay@example.com", "password": "password1"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{created}");
        let id = created["id"].as_i64().unwrap();
        let browser = px.browser();
        let (s, body) = browser
            .post("/login", json!({"user": "fay", "password": "password1"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(browser.get("/api/user").await.0, StatusCode::OK);
        // The session dies elsewhere; the browser still holds its cookie and logs in again.
        let (s, body) = admin
            .put(
                &format!("/api/admin/users/{id}/password"),
                json!({"password": "password2"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = browser
            .post("/login", json!({"user": "fay", "password": "password2"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, me) = browser.get("/api/user").await;
        assert_eq!(
            s,
            StatusCode::OK,
            "the new session must survive the login response: {me}"
        );
        assert_eq!(me["login"], "fay");
    }
);
