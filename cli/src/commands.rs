//! One `run` per command.

use anyhow::Context;

use reqwest::Method;
use serde_json::json;

use crate::args::{Cli, Command};
use crate::client::{Client, invitation_line};
use crate::discover::{Outcome, discover};
use crate::output::Out;

/// Runs a parsed command line and returns the process exit code, having
/// printed any error for a person.
pub async fn run(cli: Cli) -> u8 {
    let out = Out::new(cli.json);
    match crate::talk::run(&cli.command, cli.home.as_deref(), out).await {
        Ok(Some(code)) => return code,
        Ok(None) => {}
        Err(e) => {
            out.error(&e.to_string());
            return e.exit_code();
        }
    }
    match run_other(cli, out).await {
        Ok(code) => code,
        Err(e) => {
            out.error(&format!("{e:#}"));
            4
        }
    }
}

async fn run_other(cli: Cli, out: Out) -> anyhow::Result<u8> {
    let home = cli.home.clone();
    let connect = |args: crate::args::ClientArgs| Client::resolve(args, home.as_deref(), out);
    match cli.command {
        Command::Discover { target, rel, allow, allow_private } => {
            let outcome = discover(&target, rel, allow, allow_private).await;
            match &outcome {
                Outcome::Found(url) => println!("{url}"),
                Outcome::None => {}
                Outcome::Refused(m) | Outcome::Error(m) => eprintln!("cloudim: {m}"),
            }
            Ok(outcome.code())
        }
        Command::Invite { identity, client } => {
            let client = connect(client)?;
            let v = client.call(Method::POST, "/invitations", Some(json!({ "to": identity }))).await?;
            client.show(&v, |v| format!("invitation {} to {}: {}", v["id"].as_str().unwrap_or("?"), v["peer"].as_str().unwrap_or("?"), v["state"].as_str().unwrap_or("?")));
            Ok(0)
        }
        Command::Invitations { client } => {
            let client = connect(client)?;
            let v = client.call(Method::GET, "/invitations", None).await?;
            client.show(&v, |v| v["invitations"].as_array().map(|a| a.iter().map(invitation_line).collect::<Vec<_>>().join("\n")).unwrap_or_default());
            Ok(0)
        }
        Command::Accept { id, client } => {
            let client = connect(client)?;
            let v = client.call(Method::POST, &format!("/invitations/{id}/accept"), None).await?;
            client.show(&v, |v| format!("conversation open with {} (key {})", v["peer"].as_str().unwrap_or("?"), v["their_fingerprint"].as_str().unwrap_or("?")));
            Ok(0)
        }
        Command::Decline { id, client } => {
            let client = connect(client)?;
            let v = client.call(Method::POST, &format!("/invitations/{id}/decline"), None).await?;
            client.show(&v, invitation_line);
            Ok(0)
        }
        Command::Block { id, client } => {
            let client = connect(client)?;
            let v = client.call(Method::POST, &format!("/invitations/{id}/block"), None).await?;
            client.show(&v, invitation_line);
            Ok(0)
        }
        Command::PublishKey { file, fingerprint, client } => {
            let client = connect(client)?;
            let armored = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let v = client.call(Method::PUT, "/account/key", Some(json!({ "armored": armored, "fingerprint": fingerprint }))).await?;
            client.show(&v, |v| format!("key {} published at {}", v["fingerprint"].as_str().unwrap_or("?"), v["url"].as_str().unwrap_or("?")));
            Ok(0)
        }
        Command::Serve { listen, strict_outbound, mut config } => {
            config.allow_private_targets |= !strict_outbound;
            serve(listen, config).await.map(|()| 0)
        }
        Command::Admin { command } => crate::admin::run(command, out).await,
        _ => unreachable!("the chat commands are run by talk::run"),
    }
}

async fn serve(listen: std::net::SocketAddr, config: cloudim_bootstrap::Config) -> anyhow::Result<()> {
    let built = cloudim_bootstrap::build(&config).await?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "cloudim provider listening");
    println!("cloudim provider listening on http://{addr}");
    cloudim_bootstrap::serve_local(listener, cloudim_http::all_in_one(built.state)).await?;
    Ok(())
}
