//! The `cloudim` binary: `discover` against real pages on 127.0.0.1 (edge
//! cases of the discovery algorithm, exit codes), and the handshake
//! commands between two providers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::process::Command;

use cloudim_tests::*;

/// Runs the binary; returns (exit code, stdout, stderr).
async fn cloudim(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_cloudim")).args(&args).env_remove("CLOUDIM_PROVIDER").env_remove("CLOUDIM_TOKEN").output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    })
    .await
    .unwrap()
}

async fn discover(site: &FakeSite, path: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["discover".to_owned(), format!("{}{path}", site.base), "--allow".to_owned(), site.addr.to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    cloudim(args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn discover_follows_the_webmention_algorithm_and_documents_its_exit_codes() {
    let s = FakeSite::spawn().await;
    let b = &s.base;
    s.page("/header", "text/html", &[("link", "</pm/endpoint?x=1>; rel=\"pm\"")], r#"<link rel="pm" href="/from-html">"#).await;
    s.page("/headers", "text/html", &[("link", "<http://93.184.216.33/>; rel=me"), ("link", "<http://93.184.216.34/one>; rel=\"webmention PM\", <http://93.184.216.35/two>; rel=pm")], "").await;
    s.page("/order", "text/html", &[], r#"<html><body><a href="/from-a" rel="pm">a</a><link rel="pm" href="/from-link"></body></html>"#).await;
    s.page("/no-href", "text/html", &[], r#"<link rel="pm"><a rel="pm" href="second">x</a>"#).await;
    s.page("/dir/relative", "text/html", &[], r#"<link rel="pm" href="../pm?k=v">"#).await;
    s.page("/empty", "text/html", &[], r#"<link rel="pm" href="">"#).await;
    s.redirect("/moved", "/dir/relative").await;
    s.page("/none", "text/html", &[], "<p>no endpoint here</p>").await;
    s.page("/plain", "text/plain", &[], r#"<link rel="pm" href="/pm">"#).await;
    s.page("/key", "text/html", &[], r#"<link rel="pgpkey" href="/bob.asc"><link rel="pm" href="/pm">"#).await;
    s.page("/private", "text/html", &[], r#"<link rel="pm" href="http://10.0.0.1/pm">"#).await;
    s.page("/metadata", "text/html", &[("link", "<http://169.254.169.254/>; rel=pm")], "").await;
    let hidden = ConnectionCounter::spawn().await;
    s.redirect("/escape", &format!("http://{}/", hidden.addr)).await;

    for (path, want) in [
        ("/header", format!("{b}/pm/endpoint?x=1")),
        ("/headers", "http://93.184.216.34/one".to_owned()),
        ("/order", format!("{b}/from-a")),
        ("/no-href", format!("{b}/second")),
        ("/dir/relative", format!("{b}/pm?k=v")),
        ("/empty", format!("{b}/empty")),
        ("/moved", format!("{b}/pm?k=v")),
        ("/key", format!("{b}/pm")),
    ] {
        let (code, out, err) = discover(&s, path, &[]).await;
        assert_eq!((code, out.lines().next().unwrap_or("")), (0, want.as_str()), "{path}: {err}");
    }
    let (code, out, _) = discover(&s, "/key", &["--rel", "pgpkey"]).await;
    assert_eq!((code, out.trim()), (0, format!("{b}/bob.asc").as_str()));

    for path in ["/none", "/plain"] {
        let (code, out, err) = discover(&s, path, &[]).await;
        assert_eq!((code, out.as_str()), (1, ""), "{path}: {err}");
    }
    for path in ["/private", "/metadata", "/escape"] {
        let (code, out, err) = discover(&s, path, &[]).await;
        assert_eq!((code, out.as_str()), (3, ""), "{path}: {err}");
        assert!(err.contains("refused"), "{path}: {err}");
    }
    assert_eq!(hidden.connections(), 0);
    // Without --allow the site itself is a loopback address: refused.
    let (code, _, _) = cloudim(vec!["discover".into(), format!("{b}/header")]).await;
    assert_eq!(code, 3);
    // Nothing listening: an error, not "none".
    let dead = bind().await.local_addr().unwrap();
    let (code, out, _) = cloudim(vec!["discover".into(), format!("http://{dead}/"), "--allow".into(), dead.to_string()]).await;
    assert_eq!((code, out.as_str()), (4, ""));
    let (code, _, _) = cloudim(vec!["discover".into(), "not a url".into()]).await;
    assert_eq!(code, 4);
    let (code, _, _) = cloudim(vec!["discover".into(), "--rel".into(), "nope".into(), format!("{b}/")]).await;
    assert_eq!(code, 2, "usage errors exit 2");
}

#[tokio::test(flavor = "multi_thread")]
async fn invite_invitations_and_accept_from_the_command_line() {
    let (pa, pb, dirs) = two_local_providers(&[]).await;
    let alice = Person::join(&pa, "alice").await;
    let bob_token = create_account(&pb, "bob").await;
    let client = |p: &TestApp, token: &str| vec!["--provider".to_owned(), p.base.clone(), "--token".to_owned(), token.to_owned()];

    // Bob publishes his key from a file.
    let key_file = dirs[1].path().join("bob.asc");
    std::fs::write(&key_file, armored_key("bob")).unwrap();
    let mut args = vec!["publish-key".to_owned(), key_file.display().to_string(), "--fingerprint".into(), "B0B".repeat(13) + "B"];
    args.extend(client(&pb, &bob_token));
    let (code, out, err) = cloudim(args).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("published"), "{out}");

    let mut args = vec!["invite".to_owned(), format!("acct:bob@{}", pb.addr)];
    args.extend(client(&pa, &alice.token));
    let (code, out, err) = cloudim(args).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("delivered"), "{out}");

    let mut args = vec!["invitations".to_owned(), "--json".to_owned()];
    args.extend(client(&pb, &bob_token));
    let (code, out, err) = cloudim(args).await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = v["invitations"][0]["id"].as_str().unwrap().to_owned();

    let mut args = vec!["accept".to_owned(), id.clone()];
    args.extend(client(&pb, &bob_token));
    let (code, out, err) = cloudim(args).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("conversation open with {}", alice.identity)), "{out}");
    assert_eq!(alice.conversations().await.len(), 1);

    // A second accept fails with the provider's message and a non-zero code.
    let mut args = vec!["accept".to_owned(), id];
    args.extend(client(&pb, &bob_token));
    let (code, _, err) = cloudim(args).await;
    assert_eq!(code, 4);
    assert!(err.contains("already accepted"), "{err}");
}

/// Runs the binary with the admin token in its environment.
async fn admin(args: &[&str]) -> (i32, serde_json::Value, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_cloudim")).arg("--json").args(&args).env("CLOUDIM_ADMIN_TOKEN", ADMIN_TOKEN).env_remove("CLOUDIM_TENANTS").output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_commands_add_tenants_and_accounts_on_the_store_and_through_a_provider() {
    // Directly on a store, as an operator with credentials would on a stack.
    let dir = tempfile::tempdir().unwrap();
    let store = ["--store", "local", "--data-dir", dir.path().to_str().unwrap(), "--tenants", "a.example"];
    let with = |head: &[&'static str]| head.iter().copied().chain(store.iter().copied()).collect::<Vec<&str>>();
    let (code, v, err) = admin(&with(&["admin", "create-account", "alice", "--tenant", "new.example"])).await;
    assert_eq!(code, 4, "an unknown tenant is refused: {v} {err}");
    assert!(err.contains("cloudim admin tenant add"), "{err}");
    let (code, v, err) = admin(&with(&["admin", "tenant", "add", "new.example", "--max-accounts", "1"])).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!((v["tenant"].as_str(), v["limits"]["max_accounts"].as_u64()), (Some("new.example"), Some(1)));
    let (code, v, err) = admin(&with(&["admin", "create-account", "alice", "--tenant", "new.example"])).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["identity"].as_str(), Some("http://new.example/u/alice"));
    let (code, _, err) = admin(&with(&["admin", "create-account", "bob", "--tenant", "new.example"])).await;
    assert_eq!(code, 4);
    assert!(err.contains("(max_accounts)"), "{err}");
    let (code, v, _) = admin(&with(&["admin", "tenant", "list"])).await;
    assert_eq!(code, 0);
    let rows: Vec<(&str, bool, u64)> = v["tenants"].as_array().unwrap().iter().map(|t| (t["tenant"].as_str().unwrap(), t["registered"].as_bool().unwrap(), t["usage"]["accounts"].as_u64().unwrap())).collect();
    assert_eq!(rows, [("a.example", false, 0), ("new.example", true, 1)]);

    // Through a running provider on that data, with the admin token.
    let app = spawn_app(&local_config(dir.path(), &["--tenants", "a.example"]), 0).await;
    let (code, _, err) = admin(&["admin", "tenant", "add", "third.example", "--publishes-per-minute", "7", "--provider", &app.base]).await;
    assert_eq!(code, 0, "{err}");
    let (code, v, err) = admin(&["admin", "create-account", "carol", "--tenant", "third.example", "--provider", &app.base]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["tenant"].as_str(), Some("third.example"));
    let (code, v, _) = admin(&["admin", "tenant", "show", "third.example", "--provider", &app.base]).await;
    assert_eq!(code, 0);
    assert_eq!((v["limits"]["publishes_per_minute"].as_u64(), v["usage"]["accounts"].as_u64()), (Some(7), Some(1)));
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_create_resources_prepares_an_emulator_for_the_aws_store() {
    let Some(endpoint) = moto_endpoint() else { return };
    let n: u32 = rand::random();
    let (bucket, table) = (format!("cloudim-cli-{n:x}"), format!("cloudim-cli-{n:x}"));
    let aws = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["--bucket".into(), bucket.clone(), "--table".into(), table.clone()]);
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || {
            let out = Command::new(env!("CARGO_BIN_EXE_cloudim"))
                .arg("--json")
                .args(&all)
                .env("AWS_ENDPOINT_URL", endpoint)
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("AWS_REGION", "us-east-1")
                .env_remove("CLOUDIM_TENANTS")
                .output()
                .unwrap();
            (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
        })
    };
    // What infra/local/create-resources.sh runs; twice is fine.
    for _ in 0..2 {
        let (code, out, err) = aws(&["admin", "create-resources"]).await.unwrap();
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&bucket), "{out}");
    }
    // The store works on them: a tenant, an account in it, and the listing.
    let (code, _, err) = aws(&["admin", "tenant", "add", "emu.example", "--store", "aws"]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = aws(&["admin", "create-account", "alice", "--tenant", "emu.example", "--store", "aws"]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = aws(&["admin", "tenant", "show", "emu.example", "--store", "aws"]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["usage"]["accounts"].as_u64(), Some(1));
}
