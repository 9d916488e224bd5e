//! One `run` per command.

use anyhow::{Context, bail};
use cloudim_protocol::Tenant;

use crate::args::{AdminCommand, Cli, Command};

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, strict_outbound, mut config } => {
            config.allow_private_targets |= !strict_outbound;
            serve(listen, config).await
        }
        Command::Admin { command: AdminCommand::CreateAccount { name, provider: Some(url), .. } } => create_account_remote(&name, &url).await,
        Command::Admin { command: AdminCommand::CreateAccount { name, provider: None, tenant, config } } => create_account_local(&name, &tenant, config).await,
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

async fn create_account_local(name: &str, tenant: &str, config: cloudim_bootstrap::Config) -> anyhow::Result<()> {
    let tenant = Tenant::parse(tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let built = cloudim_bootstrap::build(&config).await?;
    let (account, token) = built.state.provider.create_account(&tenant, name).await?;
    println!("account: {}\ntenant: {tenant}\ntoken: {}", account.name, token.expose());
    Ok(())
}

async fn create_account_remote(name: &str, provider: &str) -> anyhow::Result<()> {
    let admin = std::env::var("CLOUDIM_ADMIN_TOKEN").context("set CLOUDIM_ADMIN_TOKEN to the provider's admin token")?;
    let url = format!("{}/admin/accounts", provider.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(admin)
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .with_context(|| format!("could not reach {url}"))?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{status}: {}", body["error"].as_str().unwrap_or("no reason given"));
    }
    println!("account: {}\ntenant: {}\ntoken: {}", body["name"].as_str().unwrap_or(""), body["tenant"].as_str().unwrap_or(""), body["token"].as_str().unwrap_or(""));
    Ok(())
}
