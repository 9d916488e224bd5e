//! The `cloudim` binary as a person uses it: init, invite, accept, watch
//! in one process while send runs in another, read, JSON output, exit
//! codes, file permissions and XDG paths.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use support::*;

/// Runs the binary with `home`; returns (exit code, stdout, stderr).
async fn run(home: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> (i32, String, String) {
    let (home, args, stdin) = (home.to_path_buf(), args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), stdin.map(str::to_owned));
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudim"));
        if !home.as_os_str().is_empty() {
            cmd.arg("--home").arg(&home);
        }
        cmd.args(&args).env_remove("CLOUDIM_PROVIDER").env_remove("CLOUDIM_TOKEN").env_remove("CLOUDIM_HOME").envs(env);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn chatting_from_the_command_line() {
    let w = World::start().await;
    let (ha, hb) = (w.home("alice"), w.home("bob"));

    let (code, out, err) = run(&ha, &["init", "--provider", &w.a.base, "--name", "alice"], None, &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("fingerprint:") && out.contains("/u/alice"), "{out}");
    let (code, out, err) = run(&hb, &["--json", "init", "--provider", &w.b.base, "--name", "bob"], None, &[]).await;
    assert_eq!(code, 0, "{err}");
    let bob: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let bob_identity = bob["identity"].as_str().unwrap().to_owned();

    // Files holding secrets are the owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["config/key.asc", "config/account.json"] {
            let mode = std::fs::metadata(ha.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
    let (code, _, err) = run(&ha, &["init", "--provider", &w.a.base, "--name", "alice2"], None, &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains("already holds an account"), "{err}");

    // The handshake commands use the account init set up.
    let (code, _, err) = run(&ha, &["invite", &bob_identity], None, &[]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&hb, &["--json", "chats"], None, &[]).await;
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let id = v["invitations"][0]["id"].as_str().unwrap().to_owned();
    let (code, out, _) = run(&hb, &["chats"], None, &[]).await;
    assert!(code == 0 && out.contains(&format!("cloudim accept {id}")), "{out}");
    let (code, _, err) = run(&hb, &["accept", &id], None, &[]).await;
    assert_eq!(code, 0, "{err}");

    // Bob watches in one process; Alice sends from standard input in another.
    let watcher = {
        let hb = hb.clone();
        tokio::spawn(async move { run(&hb, &["--json", "watch", "--count", "2", "--timeout", "30"], None, &[]).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (code, _, err) = run(&ha, &["send", "bob"], Some("line one\nline two ✓\n"), &[]).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&ha, &["send", "acct:bob@127.0.0.1", "second"], None, &[]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = watcher.await.unwrap();
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["text"], "line one\nline two ✓\n");
    assert_eq!(lines[1]["text"], "second");
    assert_eq!(lines[0]["from_me"], false);

    // History as text, no colour when NO_COLOR is set.
    let (code, out, err) = run(&hb, &["read", "alice"], None, &[("NO_COLOR", "1")]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("alice: second") && !out.contains('\x1b'), "{out}");
    let (_, out, _) = run(&ha, &["--json", "chats"], None, &[]).await;
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["chats"][0]["peer"], bob_identity.as_str());

    // Errors a person understands, with their own exit codes.
    let (code, _, err) = run(&ha, &["send", "nobody", "hi"], None, &[]).await;
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("unknown peer 'nobody'"), "{err}");
    let (code, _, err) = run(&w.home("carol"), &["read", "bob"], None, &[]).await;
    assert_eq!(code, 8, "{err}");
    assert!(err.contains("cloudim init"), "{err}");
    let (code, _, err) = run(&ha, &["trust", "bob", "not-a-fingerprint"], None, &[]).await;
    assert_eq!(code, 4, "{err}");

    // The exported key is a secret key block gpg can import.
    let (code, out, _) = run(&ha, &["key", "export"], None, &[]).await;
    assert!(code == 0 && out.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----"), "{out}");

    // A passphrase protects the stored key: without it the key stays locked.
    let he = w.home("erin");
    let (code, _, err) = run(&he, &["init", "--provider", &w.a.base, "--name", "erin"], None, &[("CLOUDIM_PASSPHRASE", "correct horse")]).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&he, &["key", "show"], None, &[]).await;
    assert_eq!(code, 4);
    assert!(err.contains("passphrase"), "{err}");
    let (code, out, err) = run(&he, &["key", "show"], None, &[("CLOUDIM_PASSPHRASE", "correct horse")]).await;
    assert_eq!((code, out.trim().len()), (0, 40), "{err}");

    // Without --home the XDG directories are used.
    let xdg = tempfile::tempdir().unwrap();
    let (cfg, data) = (xdg.path().join("cfg"), xdg.path().join("data"));
    let (code, _, err) = run(Path::new(""), &["init", "--provider", &w.a.base, "--name", "dora"], None, &[("XDG_CONFIG_HOME", cfg.to_str().unwrap()), ("XDG_DATA_HOME", data.to_str().unwrap())]).await;
    assert_eq!(code, 0, "{err}");
    assert!(cfg.join("cloudim/key.asc").exists() && cfg.join("cloudim/account.json").exists());
}
