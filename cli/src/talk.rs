//! The chat commands: `init`, `send`, `read`, `chats`, `watch`, `trust`,
//! `key`, `flush`.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::args::{Command, KeyCommand};
use crate::chat::messenger::WatchState;
use crate::chat::{ChatError, Home, Messenger};
use crate::output::{Out, format_time, short_name};

fn passphrase() -> Option<String> {
    std::env::var("CLOUDIM_PASSPHRASE").ok().filter(|p| !p.is_empty())
}

/// Runs one chat command; `Ok(None)` when `command` is not one.
pub async fn run(command: &Command, home: Option<&std::path::Path>, out: Out) -> Result<Option<u8>, ChatError> {
    let pass = passphrase();
    let pass = pass.as_deref();
    let open = || -> Result<Messenger, ChatError> { Messenger::open(Home::resolve(home)?, pass) };
    match command {
        Command::Init { provider, name, token, key } => {
            let m = Messenger::init(Home::resolve(home)?, provider, name.as_deref(), token.as_deref(), key.as_deref(), pass).await?;
            let v = serde_json::json!({ "name": m.account.name, "identity": m.account.identity, "fingerprint": m.fingerprint(), "token": m.account.token, "home": m.home.config });
            out.show(&v, |_| {
                format!(
                    "account {} ready\nidentity:    {}\nfingerprint: {}\ntoken:       {} (keep it: another device signs in with it)\nkept in:     {}",
                    m.account.name,
                    m.account.identity,
                    m.fingerprint(),
                    m.account.token,
                    m.home.config.display()
                )
            });
        }
        Command::Send { peer, message } => {
            let m = open()?;
            let body = match message {
                Some(t) => t.clone().into_bytes(),
                None => {
                    let mut buf = Vec::new();
                    std::io::stdin().read_to_end(&mut buf)?;
                    buf
                }
            };
            let report = m.send(peer, &body).await?;
            for r in &report.refused {
                out.warn(r);
            }
            if report.queued && !out.json {
                out.warn("your provider is unreachable: the message is sealed in the outbox and goes out with your next command (or `cloudim flush`)");
            }
            out.show(&report, |_| String::new());
        }
        Command::Read { peer, limit } => {
            let m = open()?;
            let h = m.read(peer, *limit).await?;
            for w in &h.warnings {
                out.warn(w);
            }
            for msg in &h.messages {
                out.message(msg, &m.account.name);
            }
        }
        Command::Chats => {
            let m = open()?;
            let (chats, invitations) = m.chats().await?;
            if out.json {
                out.show(&serde_json::json!({ "chats": chats, "invitations": invitations }), |_| String::new());
            } else {
                for c in &chats {
                    let when = if c.last_activity_ms == 0 { "-".to_owned() } else { format_time(c.last_activity_ms) };
                    println!("{:<16} {:>4} unread   last {}   {}", short_name(&c.peer), c.unread, when, c.peer);
                    if let Some(w) = &c.warning {
                        out.warn(&format!("KEY CHANGED for {}: {w}", c.peer));
                    }
                }
                if chats.is_empty() {
                    println!("no conversations yet: `cloudim invite IDENTITY` to start one");
                }
                for i in &invitations {
                    println!("invitation {} from {} (key {}): `cloudim accept {}`", i.id, i.peer, i.fingerprint, i.id);
                }
            }
        }
        Command::Watch { count, timeout } => {
            let m = open()?;
            let started = Instant::now();
            let deadline = timeout.map(|t| started + Duration::from_secs(t));
            let mut state = WatchState::default();
            let mut shown = 0usize;
            let mut offline = false;
            loop {
                let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                if left.is_some_and(|l| l.is_zero()) || count.is_some_and(|c| shown >= c) {
                    break;
                }
                let wait = left.unwrap_or(Duration::from_secs(25)).min(Duration::from_secs(25));
                match m.watch_once(&mut state, wait.max(Duration::from_secs(1))).await {
                    Ok((messages, warnings)) => {
                        if offline {
                            out.warn("connected again");
                            offline = false;
                        }
                        for w in &warnings {
                            out.warn(w);
                        }
                        for msg in &messages {
                            out.message(msg, &m.account.name);
                            shown += 1;
                        }
                    }
                    Err(ChatError::Unreachable(host)) => {
                        if !offline {
                            out.warn(&format!("{host} is unreachable; retrying"));
                            offline = true;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Command::Trust { peer, fingerprint } => {
            let m = open()?;
            let who = m.trust(peer, fingerprint).await?;
            out.show(&serde_json::json!({ "peer": who, "fingerprint": fingerprint }), |_| format!("{who}'s key {fingerprint} is trusted"));
        }
        Command::Key { command } => match command {
            KeyCommand::Show => {
                let m = open()?;
                out.show(&serde_json::json!({ "fingerprint": m.fingerprint() }), |_| m.fingerprint());
            }
            KeyCommand::Export => print!("{}", open()?.export_key(pass)?),
            KeyCommand::Import { file, publish } => {
                let mut m = open()?;
                let fpr = m.import_key(file, pass, *publish).await?;
                out.show(&serde_json::json!({ "fingerprint": fpr }), |_| format!("this device now uses key {fpr}"));
            }
        },
        Command::Flush => {
            let m = open()?;
            let f = m.flush().await?;
            for r in &f.refused {
                out.warn(r);
            }
            out.show(&f, |f| format!("{} sent, {} waiting", f.sent, f.waiting));
        }
        _ => return Ok(None),
    }
    Ok(Some(0))
}
